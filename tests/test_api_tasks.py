"""Human tasks through the API: inbox lists, claim, unclaim, assign, complete."""

from __future__ import annotations

import pytest


@pytest.fixture
def enter_task(api):  # noqa: ANN201
    """An open 'enter' task of the exclusive process, candidate group 'agents', waiting for
    the group: an administrator (in no group) started it, so it went to no one."""
    api.deploy("exclusive.bpmn", "amount_form.form.json")
    started = api.start("exclusive", "admin", business_key="T-1")
    return api.open_task(started["id"], "enter", "agent")


def test_the_task_item_carries_the_contract_fields(api, enter_task):
    items = api.get("/tasks?candidate=me", "agent").get_json()["items"]
    assert set(items[0]) >= {
        "id",
        "name",
        "title",
        "process_instance_id",
        "process_key",
        "assignee",
        "candidate_group",
        "form_key",
        "due",
        "priority",
    }
    assert items[0]["form_key"] == "amount_form" and items[0]["priority"] == 80


def test_candidates_see_the_task_and_others_do_not(api, enter_task):
    assert api.get("/tasks?candidate=me", "agent").get_json()["total"] == 1
    assert api.get("/tasks?candidate=me", "outlet").get_json()["total"] == 0
    assert api.get("/tasks", "outlet").get_json()["total"] == 0
    assert api.get(f"/tasks/{enter_task['id']}", "outlet").status_code == 404


def test_claim_moves_the_task_from_the_group_list_to_mine(api, enter_task):
    response = api.post(f"/tasks/{enter_task['id']}/claim", "agent")
    assert response.status_code == 200
    assert response.get_json()["assignee"] == "agent"
    assert api.get("/tasks?candidate=me", "agent").get_json()["total"] == 0
    mine = api.get("/tasks?assignee=me", "agent").get_json()
    assert [t["id"] for t in mine["items"]] == [enter_task["id"]]


def test_claiming_a_task_someone_else_holds_is_a_conflict(api, enter_task):
    api.post(f"/tasks/{enter_task['id']}/claim", "agent")
    response = api.post(f"/tasks/{enter_task['id']}/claim", "agent2")
    assert response.status_code == 409
    assert "agent" in response.get_json()["message"]


def test_someone_outside_the_candidate_groups_cannot_touch_the_task(api, enter_task):
    for action in ("claim", "unclaim", "complete"):
        response = api.post(f"/tasks/{enter_task['id']}/{action}", "outlet", json={"data": {}})
        assert response.status_code == 404
    assert api.get(f"/tasks/{enter_task['id']}", "agent").get_json()["assignee"] is None


def test_only_the_assignee_or_an_admin_may_unclaim(api, enter_task):
    api.post(f"/tasks/{enter_task['id']}/claim", "agent")
    assert api.post(f"/tasks/{enter_task['id']}/unclaim", "agent2").status_code == 403
    response = api.post(f"/tasks/{enter_task['id']}/unclaim", "agent")
    assert response.status_code == 200 and response.get_json()["assignee"] is None
    back = api.get("/tasks?candidate=me", "agent2").get_json()["items"]
    assert [t["id"] for t in back] == [enter_task["id"]]


def test_a_manager_assigns_the_task_to_another_user(api, enter_task):
    response = api.post(f"/tasks/{enter_task['id']}/assign", "manager", json={"user": "agent2"})
    assert response.status_code == 200
    assert response.get_json()["assignee"] == "agent2"
    assert api.get("/tasks?assignee=agent2", "admin").get_json()["total"] == 1


def test_assign_to_an_unknown_user_is_invalid(api, enter_task):
    response = api.post(f"/tasks/{enter_task['id']}/assign", json={"user": "ghost"})
    assert response.status_code == 422
    assert api.get(f"/tasks/{enter_task['id']}").get_json()["assignee"] is None


def test_assigning_a_task_held_by_another_is_forbidden(api, enter_task):
    api.post(f"/tasks/{enter_task['id']}/claim", "agent")
    response = api.post(f"/tasks/{enter_task['id']}/assign", "agent2", json={"user": "agent2"})
    assert response.status_code == 403
    assert api.get(f"/tasks/{enter_task['id']}").get_json()["assignee"] == "agent"


def test_completing_moves_the_process_on(api, enter_task):
    response = api.post(
        f"/tasks/{enter_task['id']}/complete", "agent", json={"data": {"amount": 5000, "days": 2}}
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "completed"
    instance = api.get(f"/process-instances/{enter_task['process_instance_id']}").get_json()
    assert [t["name"] for t in instance["tasks"]] == ["approve"]
    done = api.get("/tasks?status=completed", "agent").get_json()["items"]
    assert [(t["name"], t["completed_by"]) for t in done] == [("enter", "agent")]


def test_completing_twice_is_a_conflict(api, enter_task):
    api.post(f"/tasks/{enter_task['id']}/complete", "agent", json={"data": {"amount": 1}})
    again = api.post(f"/tasks/{enter_task['id']}/complete", "agent", json={"data": {"amount": 2}})
    assert again.status_code == 409
    instance = api.get(f"/process-instances/{enter_task['process_instance_id']}").get_json()
    assert instance["variables"]["amount"] == 1


def test_completing_a_task_claimed_by_someone_else_is_forbidden(api, enter_task):
    api.post(f"/tasks/{enter_task['id']}/claim", "agent")
    response = api.post(f"/tasks/{enter_task['id']}/complete", "agent2", json={"data": {}})
    assert response.status_code == 403
    assert api.get(f"/tasks/{enter_task['id']}").get_json()["status"] == "open"


@pytest.mark.parametrize(
    "data", [[1, 2], "text", {"__import__": 1}, {"1abc": 2}, {"with space": 1}]
)
def test_invalid_completion_data_answers_422_and_changes_nothing(api, enter_task, data):
    response = api.post(f"/tasks/{enter_task['id']}/complete", "agent", json={"data": data})
    assert response.status_code == 422
    task = api.get(f"/tasks/{enter_task['id']}", "agent").get_json()
    assert task["status"] == "open" and task["assignee"] is None


def test_task_detail_includes_its_data(api, enter_task):
    body = api.get(f"/tasks/{enter_task['id']}", "agent").get_json()
    assert body["name"] == "enter"
    assert body["data"] == {}
    assert body["form_key"] == "amount_form"


def test_a_malformed_task_id_is_not_found(api, enter_task):
    assert api.get("/tasks/not-a-uuid").status_code == 404
    assert api.post("/tasks/not-a-uuid/claim").status_code == 404


def test_task_lists_filter_by_process_and_business_key(api, enter_task):
    api.deploy("parallel.bpmn")
    api.start("parallel", business_key="P-9")
    assert api.get("/tasks?process_key=parallel").get_json()["total"] == 2
    assert api.get("/tasks?business_key=T-1").get_json()["total"] == 1
    assert api.get("/tasks?status=weird").status_code == 422
    assert api.get("/tasks?candidate=agents").status_code == 422


def test_the_group_list_orders_by_priority(api, enter_task):
    api.deploy("loop.bpmn")
    started = api.start("loop")
    api.post(f"/process-instances/{started['id']}/variables", json={"variables": {"x": 1}})
    items = api.get("/tasks").get_json()["items"]
    priorities = [t["priority"] for t in items]
    assert priorities == sorted(priorities, reverse=True)


def test_the_group_inbox_merges_groups_best_first_across_pages(api):
    api.deploy("exclusive.bpmn", "amount_form.form.json")
    started = [api.start("exclusive", "admin") for _ in range(3)]
    first = api.open_task(started[0]["id"], "enter")
    api.post(f"/tasks/{first['id']}/complete", json={"data": {"amount": 5000, "days": 1}})

    page1 = api.get("/tasks?candidate=me&per_page=2&page=1", "manager").get_json()
    page2 = api.get("/tasks?candidate=me&per_page=2&page=2", "manager").get_json()

    assert [t["name"] for t in page1["items"]] == ["enter", "enter"]
    assert [t["name"] for t in page2["items"]] == ["approve"]
    assert page1["total"] == 3 and page1["total_exact"] is True


def test_a_very_long_group_inbox_reports_its_count_as_a_lower_bound(api, monkeypatch):
    from engine import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    api.deploy("exclusive.bpmn")
    for _ in range(4):
        api.start("exclusive", "admin")
    body = api.get("/tasks?candidate=me", "agent").get_json()
    assert body["total_exact"] is False
    assert body["total"] >= 2
    assert len(body["items"]) == 4


def test_the_assignee_filter_does_not_reveal_other_peoples_tasks(api, enter_task):
    api.post(f"/tasks/{enter_task['id']}/claim", "agent")
    assert api.get("/tasks?assignee=agent", "outlet").get_json()["total"] == 0
    assert api.get("/tasks?assignee=agent", "agent2").get_json()["total"] == 1


def test_a_candidate_without_an_assigning_role_may_not_assign(api, enter_task):
    response = api.post(f"/tasks/{enter_task['id']}/assign", "agent", json={"user": "agent2"})
    assert response.status_code == 403
    assert api.get(f"/tasks/{enter_task['id']}").get_json()["assignee"] is None


def test_the_assignee_may_delegate_to_another_candidate(api, enter_task):
    api.post(f"/tasks/{enter_task['id']}/claim", "agent")
    response = api.post(f"/tasks/{enter_task['id']}/assign", "agent", json={"user": "agent2"})
    assert response.get_json()["assignee"] == "agent2"


def test_a_task_cannot_be_assigned_to_someone_outside_its_groups(api, enter_task):
    response = api.post(f"/tasks/{enter_task['id']}/assign", "manager", json={"user": "outlet"})
    assert response.status_code == 422
    assert api.get(f"/tasks/{enter_task['id']}").get_json()["assignee"] is None
