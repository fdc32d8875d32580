"""Starting, reading and steering process instances through the API."""

from __future__ import annotations

import io

import pytest

from engine.identity import upsert_user
from engine.org import upsert_unit
from tests.conftest import BPMN_DIR


@pytest.fixture
def deployed(api):  # noqa: ANN201
    assert (
        api.deploy(
            "exclusive.bpmn", "parallel.bpmn", "messages.bpmn", "amount_form.form.json"
        ).status_code
        == 201
    )
    return api


def test_starting_an_instance_answers_the_instance_with_its_first_task(deployed):
    body = deployed.start("exclusive", "agent", business_key="R-1", variables={"amount": 3})
    assert body["process_key"] == "exclusive"
    assert body["version"] == 1
    assert body["status"] == "running"
    assert body["business_key"] == "R-1"
    assert [t["name"] for t in body["tasks"]] == ["enter"]
    assert body["tasks"][0]["candidate_group"] == "agents"
    assert body["incidents"] == [] and body["timers"] == []


def test_start_needs_membership_of_the_start_lane(deployed):
    response = deployed.post("/process-instances", "outlet", json={"process_key": "exclusive"})
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert deployed.get("/process-instances").get_json()["total"] == 0


def test_an_admin_may_grant_other_groups_the_start(deployed):
    response = deployed.post(
        "/process-definitions/exclusive/start-groups", json={"groups": ["outlets"]}
    )
    assert response.status_code == 200
    assert deployed.start("exclusive", "outlet")["status"] == "running"
    listing = deployed.get("/process-definitions").get_json()["items"]
    assert {d["key"]: d["granted_start_groups"] for d in listing}["exclusive"] == ["outlets"]


def test_only_an_admin_may_grant_the_start(deployed):
    response = deployed.post(
        "/process-definitions/exclusive/start-groups", "agent", json={"groups": ["outlets"]}
    )
    assert response.status_code == 403
    forbidden = deployed.post("/process-instances", "outlet", json={"process_key": "exclusive"})
    assert forbidden.status_code == 403


def test_a_process_without_lanes_or_grants_is_started_by_admins_only(deployed):
    response = deployed.post("/process-instances", "nobody", json={"process_key": "parallel"})
    assert response.status_code == 403
    assert response.get_json()["details"] == {"reason": "not_granted"}
    assert deployed.get("/process-instances").get_json()["total"] == 0
    assert deployed.start("parallel", "admin")["status"] == "running"


def test_a_grant_lets_a_role_start_a_process_without_lanes(deployed):
    granted = deployed.post(
        "/process-definitions/parallel/start-groups", json={"groups": ["agent"]}
    )
    assert granted.status_code == 200
    assert deployed.start("parallel", "agent")["status"] == "running"


def test_starting_an_unknown_process_is_not_found(deployed):
    response = deployed.post("/process-instances", json={"process_key": "nope"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"process_key": 5},
        {"process_key": "exclusive", "variables": [1, 2]},
        {"process_key": "exclusive", "variables": {"__class__": 1}},
        {"process_key": "exclusive", "variables": {"not a name": 1}},
        {"process_key": "exclusive", "version": "one"},
        {"process_key": "exclusive", "business_key": {"x": 1}},
    ],
)
def test_invalid_start_requests_answer_422_and_start_nothing(deployed, body):
    response = deployed.post("/process-instances", json=body)
    assert response.status_code == 422
    assert set(response.get_json()) == {"error", "message", "details"}
    assert deployed.get("/process-instances").get_json()["total"] == 0


def test_a_body_that_is_not_json_is_a_bad_request(deployed):
    response = deployed.post(
        "/process-instances", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_instance_list_filters_and_pages(deployed):
    for n in range(3):
        deployed.start("exclusive", business_key=f"K-{n}")
    deployed.start("parallel", business_key="P-1")

    assert deployed.get("/process-instances").get_json()["total"] == 4
    only = deployed.get("/process-instances?process_key=exclusive").get_json()
    assert only["total"] == 3
    assert {i["process_key"] for i in only["items"]} == {"exclusive"}
    by_key = deployed.get("/process-instances?business_key=P-1").get_json()
    assert [i["business_key"] for i in by_key["items"]] == ["P-1"]
    page = deployed.get("/process-instances?per_page=2&page=2").get_json()
    assert page["total"] == 4 and len(page["items"]) == 2
    assert deployed.get("/process-instances?status=bogus").status_code == 422
    assert deployed.get("/process-instances?per_page=0").status_code == 422


def test_an_unknown_instance_is_not_found(deployed):
    response = deployed.get("/process-instances/999")
    assert response.status_code == 404
    assert response.get_json()["message"] == "process instance 999 not found"


def test_variables_are_the_data_of_the_last_completed_step(deployed):
    started = deployed.start("exclusive", variables={"customer": "陈静"})
    task = deployed.open_task(started["id"], "enter")
    deployed.post(f"/tasks/{task['id']}/complete", json={"data": {"amount": 5}})
    body = deployed.get(f"/process-instances/{started['id']}").get_json()
    assert body["status"] == "completed"
    assert body["variables"] == {
        "customer": "陈静",
        "amount": 5,
        "approved": True,
        "approved_by": "rule",
    }


def test_suspend_blocks_work_until_resume(deployed):
    started = deployed.start("exclusive", "agent")
    task = deployed.open_task(started["id"], "enter", "agent")
    assert deployed.post(f"/process-instances/{started['id']}/suspend").status_code == 200

    blocked = deployed.post(f"/tasks/{task['id']}/complete", "agent", json={"data": {}})
    assert blocked.status_code == 409
    assert deployed.post(f"/process-instances/{started['id']}/suspend").status_code == 409

    resumed = deployed.post(f"/process-instances/{started['id']}/resume")
    assert resumed.get_json()["status"] == "running"
    done = deployed.post(f"/tasks/{task['id']}/complete", "agent", json={"data": {"amount": 1}})
    assert done.status_code == 200


def test_resume_of_a_running_instance_is_a_conflict(deployed):
    started = deployed.start("parallel")
    assert deployed.post(f"/process-instances/{started['id']}/resume").status_code == 409


def test_terminate_cancels_open_tasks_and_cannot_repeat(deployed):
    started = deployed.start("parallel")
    response = deployed.post(f"/process-instances/{started['id']}/terminate", json={"reason": "x"})
    body = response.get_json()
    assert body["status"] == "terminated" and body["tasks"] == []
    again = deployed.post(f"/process-instances/{started['id']}/terminate")
    assert again.status_code == 409


@pytest.mark.parametrize("action", ["suspend", "resume", "terminate", "variables"])
def test_instance_actions_need_an_administrator(deployed, action):
    started = deployed.start("exclusive", "agent")
    body = {"terminate": {"reason": "x"}, "variables": {"variables": {"a": 1}}}.get(action)
    response = deployed.post(f"/process-instances/{started['id']}/{action}", "agent", json=body)
    assert response.status_code == 403
    assert deployed.get(f"/process-instances/{started['id']}").get_json()["status"] == "running"


def test_set_variables_changes_the_data_and_is_audited(deployed):
    started = deployed.start("parallel", variables={"a": 1})
    assert deployed.post(f"/process-instances/{started['id']}/suspend").status_code == 200
    response = deployed.post(
        f"/process-instances/{started['id']}/variables", json={"variables": {"a": 2, "b": "x"}}
    )
    assert response.status_code == 200
    assert deployed.post(f"/process-instances/{started['id']}/resume").status_code == 200
    task = deployed.open_task(started["id"], "check_a")
    detail = deployed.get(f"/tasks/{task['id']}").get_json()
    assert detail["data"]["a"] == 2 and detail["data"]["b"] == "x"
    history = deployed.get(f"/process-instances/{started['id']}/history").get_json()["items"]
    assert [e["command"] for e in history[-3:]] == ["suspend", "set_variables", "resume"]
    assert history[-2]["actor"] == "admin"


def test_history_records_who_did_what_with_old_and_new_values(deployed):
    started = deployed.start("exclusive", "agent", variables={"amount": 1})
    task = deployed.open_task(started["id"], "enter", "agent")
    deployed.post(f"/tasks/{task['id']}/complete", "agent", json={"data": {"amount": 2000}})
    history = deployed.get(f"/process-instances/{started['id']}/history").get_json()["items"]
    commands = [(h["command"], h["actor"]) for h in history]
    assert commands == [("start", "agent"), ("complete", "agent")]
    complete = history[1]
    assert complete["activity"] == "enter"
    assert complete["changes"]["amount"] == {"old": 1, "new": 2000}


def test_a_message_moves_the_waiting_instance_on(deployed):
    started = deployed.start("await_payment", business_key="ORDER-7")
    response = deployed.post(
        "/messages",
        json={"name": "payment_received", "correlation_key": "ORDER-7", "variables": {"paid": 99}},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == started["id"]
    assert [t["name"] for t in body["tasks"]] == ["ship"]


def test_a_message_start_event_starts_an_instance(deployed):
    response = deployed.post("/messages", json={"name": "order_placed", "correlation_key": "O-1"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["process_key"] == "order_intake" and body["business_key"] == "O-1"
    assert [t["name"] for t in body["tasks"]] == ["o_review"]


def test_a_message_nobody_waits_for_is_not_found(deployed):
    response = deployed.post("/messages", json={"name": "nobody_waits"})
    assert response.status_code == 404


def test_an_ambiguous_message_is_a_conflict(deployed):
    deployed.start("await_payment", business_key="A")
    deployed.start("await_payment", business_key="B")
    response = deployed.post("/messages", json={"name": "payment_received"})
    assert response.status_code == 409
    assert len(response.get_json()["details"]["instances"]) == 2


def test_a_message_without_a_name_is_invalid(deployed):
    assert deployed.post("/messages", json={"variables": {}}).status_code == 422


def test_requests_without_a_valid_token_are_unauthorized(deployed):
    assert deployed.client.get("/api/v1/process-instances").status_code == 401
    response = deployed.client.get(
        "/api/v1/process-instances", headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_an_unknown_path_answers_json_404(deployed):
    response = deployed.get("/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_the_openapi_document_lists_every_contract_path(deployed):
    response = deployed.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    for path in (
        "/deployments",
        "/process-definitions",
        "/process-instances",
        "/process-instances/{id}",
        "/process-instances/{id}/suspend",
        "/process-instances/{id}/resume",
        "/process-instances/{id}/terminate",
        "/incidents/{id}/retry",
        "/messages",
        "/tasks",
        "/tasks/{id}",
        "/tasks/{id}/claim",
        "/tasks/{id}/unclaim",
        "/tasks/{id}/assign",
        "/tasks/{id}/complete",
    ):
        assert path in paths


@pytest.mark.parametrize(
    "path",
    ["/process-instances/99999999999999999999", "/process-instances/0"],
)
def test_an_id_no_row_can_have_is_not_found(deployed, path):
    response = deployed.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_retry_of_an_impossible_incident_id_is_not_found(deployed):
    assert deployed.post("/incidents/99999999999999999999/retry").status_code == 404


@pytest.mark.parametrize(
    "query", ["page=99999999999999999999", "page=-1", "per_page=100000", "page=abc"]
)
def test_an_impossible_page_is_invalid(deployed, query):
    assert deployed.get(f"/process-instances?{query}").status_code == 422
    assert deployed.get(f"/tasks?{query}").status_code == 422


def test_an_impossible_version_is_invalid(deployed):
    response = deployed.post(
        "/process-instances", json={"process_key": "exclusive", "version": 10**20}
    )
    assert response.status_code == 422


def test_a_body_nested_too_deeply_is_a_bad_request(deployed):
    body = "[" * 100_000 + "]" * 100_000
    response = deployed.post("/process-instances", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_a_group_name_longer_than_the_column_is_invalid(deployed):
    response = deployed.post(
        "/process-definitions/exclusive/start-groups", json={"groups": ["g" * 200]}
    )
    assert response.status_code == 422


def test_users_see_only_instances_of_their_unit_and_below(deployed):
    with deployed.env.session_factory() as session:
        upsert_unit(session, "C1", name="华东中心", kind="center")
        upsert_unit(session, "O1", name="一号网点", kind="outlet", parent_code="C1")
        upsert_user(session, username="outlet", org_code="O1")
        session.commit()
    hq = deployed.start("exclusive", "agent")
    assert deployed.get(f"/process-instances/{hq['id']}", "agent").status_code == 200
    assert deployed.get(f"/process-instances/{hq['id']}", "outlet").status_code == 404
    assert deployed.get(f"/process-instances/{hq['id']}/history", "outlet").status_code == 404
    assert deployed.get("/process-instances", "outlet").get_json()["total"] == 0
    assert deployed.get(f"/process-instances/{hq['id']}", "agent2").status_code == 200


def test_the_token_moves_through_the_api(deployed):
    started = deployed.start("exclusive", "agent")
    response = deployed.post(
        f"/process-instances/{started['id']}/move", json={"from": "enter", "to": "approve"}
    )
    assert response.status_code == 200
    assert [t["name"] for t in response.get_json()["tasks"]] == ["approve"]


def test_moving_one_of_parallel_tokens_is_refused_with_the_reason(deployed):
    started = deployed.start("parallel")
    response = deployed.post(
        f"/process-instances/{started['id']}/move", json={"from": "check_a", "to": "summary"}
    )
    assert response.status_code == 409
    assert "several activities" in response.get_json()["message"]


def test_a_move_without_its_target_is_invalid(deployed):
    started = deployed.start("exclusive", "agent")
    response = deployed.post(f"/process-instances/{started['id']}/move", json={"from": "enter"})
    assert response.status_code == 422


def test_an_instance_migrates_through_the_api(deployed):
    started = deployed.start("exclusive", "agent")
    xml = (BPMN_DIR / "exclusive.bpmn").read_bytes().replace(b'name="Approve"', b'name="Sign off"')
    upload = {"files": [(io.BytesIO(xml), "exclusive.bpmn")]}
    assert (
        deployed.post("/deployments", data=upload, content_type="multipart/form-data").status_code
        == 201
    )
    response = deployed.post(f"/process-instances/{started['id']}/migrate", json={"version": 2})
    assert response.status_code == 200
    assert response.get_json()["version"] == 2


def test_migrating_needs_a_version_number(deployed):
    started = deployed.start("exclusive", "agent")
    response = deployed.post(f"/process-instances/{started['id']}/migrate", json={"version": "2"})
    assert response.status_code == 422


def test_an_agent_may_not_move_or_migrate(deployed):
    started = deployed.start("exclusive", "agent")
    path = f"/process-instances/{started['id']}"
    assert (
        deployed.post(f"{path}/move", "agent", json={"from": "enter", "to": "approve"}).status_code
        == 403
    )
    assert deployed.post(f"{path}/migrate", "agent", json={"version": 2}).status_code == 403
