"""Organisation scope: an outlet sees its own work, a center its outlets', HQ everything."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.commands import AddComment, MoveOrgUnit, SaveOrgUnit, execute
from engine.errors import InvalidInput, NotFound
from engine.identity import actor_for, find_user, issue_token, upsert_user
from engine.models import Comment, HumanTask, ProcessInstance
from engine.org import find_unit, upsert_unit

UNITS = [
    ("C1", "华东中心", "center", None),
    ("C2", "华南中心", "center", None),
    ("O1", "浦东网点", "outlet", "C1"),
    ("O2", "西湖网点", "outlet", "C1"),
    ("O3", "天河网点", "outlet", "C2"),
]
PEOPLE = {
    "outlet": ("O1", ["outlets"], []),
    "outlet2": ("O2", ["outlets"], []),
    "center": ("C1", ["outlets", "agents"], ["center_staff"]),
    "south": ("O3", ["outlets"], ["outlet_manager"]),
}


@pytest.fixture
def world(api):  # noqa: ANN001, ANN201
    with api.env.session_factory() as session:
        for code, name, kind, parent in UNITS:
            upsert_unit(session, code, name=name, kind=kind, parent_code=parent)
        for name, (unit, groups, roles) in PEOPLE.items():
            user = upsert_user(session, username=name, org_code=unit, groups=groups, roles=roles)
            api.tokens[name] = issue_token(session, user, "test")
        session.commit()
    assert api.deploy("form_review.bpmn", "test_request.form.json", "test_review.form.json")
    return api


def start_at(api, unit: str, subject: str = "空调") -> dict:  # noqa: ANN001
    return api.start("form_review", "agent", variables={"subject": subject}, org_unit=unit)


def review_task(api, instance: dict) -> dict:  # noqa: ANN001
    return api.open_task(instance["id"], "review")


def test_an_outlet_lists_only_its_own_tasks_of_a_shared_group(world):
    start_at(world, "O1", "mine")
    start_at(world, "O2", "neighbour")
    listed = world.get("/tasks?candidate=me", "outlet").get_json()
    assert [t["title"] for t in listed["items"]] == ["Review mine"]
    assert listed["total"] == 1


def test_an_outlet_asking_for_another_outlets_task_gets_404(world):
    task = review_task(world, start_at(world, "O2"))
    assert world.get(f"/tasks/{task['id']}", "outlet").status_code == 404


def test_claiming_another_outlets_task_answers_404_and_changes_nothing(world):
    task = review_task(world, start_at(world, "O2"))
    assert world.post(f"/tasks/{task['id']}/claim", "outlet").status_code == 404
    assert world.get(f"/tasks/{task['id']}").get_json()["assignee"] is None


def test_a_center_sees_the_tasks_of_its_outlets_but_not_another_centers(world):
    start_at(world, "O1", "east one")
    start_at(world, "O2", "east two")
    start_at(world, "O3", "south")
    titles = {t["title"] for t in world.get("/tasks?candidate=me", "center").get_json()["items"]}
    assert titles == {"Review east one", "Review east two"}


def test_hq_sees_instances_of_every_unit(world):
    for unit in ("O1", "O3"):
        start_at(world, unit)
    assert world.get("/process-instances", "agent").get_json()["total"] == 2
    assert world.get("/process-instances", "outlet").get_json()["total"] == 1
    assert world.get("/process-instances", "south").get_json()["total"] == 1


def test_an_instance_belongs_to_its_starters_unit_by_default(world):
    started = world.start("form_review", "center", variables={"subject": "mine"})
    with world.env.session_factory() as session:
        instance = session.get(ProcessInstance, started["id"])
        assert instance.org_unit_id == find_unit(session, "C1").id


def test_starting_in_a_unit_outside_ones_scope_is_refused(world):
    response = world.post(
        "/process-instances",
        "center",
        json={"process_key": "form_review", "variables": {"subject": "x"}, "org_unit": "O3"},
    )
    assert response.status_code == 422
    assert world.get("/process-instances", "admin").get_json()["total"] == 0


def test_a_process_moves_its_instance_by_setting_org_unit(world):
    started = world.start(
        "form_review", "agent", variables={"subject": "dispatch", "org_unit": "O3"}
    )
    task = review_task(world, started)
    assert world.get(f"/tasks/{task['id']}", "south").status_code == 200
    assert world.get(f"/tasks/{task['id']}", "outlet").status_code == 404


def test_data_naming_a_unit_outside_the_actors_scope_is_refused(world):
    response = world.post(
        "/process-instances",
        "center",
        json={"process_key": "form_review", "variables": {"subject": "x", "org_unit": "O3"}},
    )
    assert response.status_code == 422
    assert response.get_json()["details"] == {"org_unit": "not in scope"}


def test_moving_a_unit_under_another_center_moves_its_work(world):
    task = review_task(world, start_at(world, "O2"))
    with world.env.session_factory() as session:
        execute(session, MoveOrgUnit("O2", "C2"), world.env.actors["admin"])
        moved = session.get(HumanTask, task["id"])
        assert moved.org_path.startswith(find_unit(session, "C2").path)
    assert world.get("/tasks?candidate=me", "center").get_json()["items"] == []
    assert world.get(f"/tasks/{task['id']}", "outlet2").status_code == 200


def test_a_unit_cannot_be_moved_below_itself(world):
    admin = world.env.actors["admin"]
    with world.env.session_factory() as session:
        execute(session, SaveOrgUnit("D1", "服务部", "department", "C1"), admin)
        with pytest.raises(InvalidInput, match="lies below"):
            execute(session, SaveOrgUnit("C1", "华东中心", "center", "D1"), admin)


def test_a_comment_on_an_instance_outside_ones_scope_is_not_found(world):
    started = start_at(world, "O2")
    with world.env.session_factory() as session:
        outlet = actor_for(find_user(session, "outlet"))
        with pytest.raises(NotFound):
            execute(session, AddComment(started["id"], "看不到"), outlet)
        assert session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_an_empty_comment_is_refused(world):
    started = start_at(world, "O1")
    with world.env.session_factory() as session, pytest.raises(InvalidInput):
        execute(session, AddComment(started["id"], "   "), world.env.actors["agent"])
