"""A task completed by someone who has since lost the scope of its order (the order went to
another outlet, or they moved to another unit) shows them only what it showed when they
completed it: the snapshot the completion kept, never the live order."""

from __future__ import annotations

import re

import sqlalchemy as sa

from engine.commands import AddComment
from engine.models import HumanTask
from tests.ui.pages import World, post, text

from .scope_world import (
    PUDONG,
    complete,
    customer,
    deploy,
    dispatched_order,
    open_task,
    refused,
    token,
)


def _refused_by_pudong(world: World) -> tuple[str, HumanTask]:
    """Pudong refuses the order; Minhang accepts it, assigns its engineer and comments."""
    deploy(world)
    number = dispatched_order(world, customer(world, "陈静", "13800138000", PUDONG))
    accept = open_task(world, number, "accept")
    assert refused(world, number, "outlet") == "O-SH-MH"
    complete(world, number, "accept", "mgr-sh-mh", {"accepted": True})
    complete(world, number, "assign_engineer", "mgr-sh-mh", {"engineer": "eng-sh-mh-1"})
    later = open_task(world, number, "check_in")
    world.run(AddComment(later.instance_id, "闵行网点明早上门"), "mgr-sh-mh")
    return number, accept


def test_the_completion_keeps_what_the_task_showed(world: World) -> None:
    _, accept = _refused_by_pudong(world)
    with world.session_factory() as session:
        snapshot = session.get(HumanTask, accept.id).snapshot
    assert snapshot["data"] == {"accepted": False, "refuse_reason": "人手不足"}
    assert snapshot["context"]["customer_name"] == "陈静"
    assert "engineer" not in snapshot["context"]


def test_a_refuser_sees_the_task_as_it_was_and_nothing_of_the_next_outlets_work(
    world: World,
) -> None:
    number, accept = _refused_by_pudong(world)
    page = text(world.client("outlet").get(f"/tasks/{accept.id}"))
    assert "data-frozen" in page
    submitted = page[page.index("data-submitted") :]
    assert "人手不足" in submitted[: submitted.index("</section>")]
    assert "陈静" in page  # the context it showed
    assert "eng-sh-mh-1" not in page and "闵行网点明早上门" not in page
    assert "mgr-sh-mh" not in page  # no history after their completion
    assert 'href="/instances/' not in page
    assert world.client("outlet").get(f"/orders/{number}").status_code == 404


def test_the_completed_list_still_lists_the_task(world: World) -> None:
    _, accept = _refused_by_pudong(world)
    page = text(world.client("outlet").get("/tasks?list=completed"))
    assert accept.id in re.findall(r'data-task="([^"]+)"', page)


def test_the_api_answers_a_refuser_the_snapshot_data(world: World) -> None:
    _, accept = _refused_by_pudong(world)
    response = world.app.test_client().get(
        f"/api/v1/tasks/{accept.id}", headers=token(world, "outlet")
    )
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["refuse_reason"] == "人手不足" and data["customer_name"] == "陈静"
    assert "engineer" not in data and "dispatch_log" not in data


def test_a_frozen_task_takes_no_comment(world: World) -> None:
    _, accept = _refused_by_pudong(world)
    client = world.client("outlet")
    response = post(client, f"/tasks/{accept.id}/comment", {"body": "还想看看"})
    assert response.status_code == 404


def test_someone_who_never_worked_the_task_gets_404(world: World) -> None:
    _, accept = _refused_by_pudong(world)
    assert world.client("outlet2").get(f"/tasks/{accept.id}").status_code == 404


def test_a_completer_still_in_scope_sees_the_live_order(world: World) -> None:
    deploy(world)
    number = dispatched_order(world, customer(world, "陈静", "13800138000", PUDONG))
    accept = open_task(world, number, "accept")
    complete(world, number, "accept", "outlet", {"accepted": True})
    complete(world, number, "assign_engineer", "outlet", {"engineer": "engineer"})
    page = text(world.client("outlet").get(f"/tasks/{accept.id}"))
    assert "data-frozen" not in page
    assert f'href="/instances/{accept.instance_id}"' in page
    assert "assign_engineer" in page  # the history goes on


def test_a_user_moved_to_another_unit_sees_only_the_snapshot(world: World) -> None:
    deploy(world)
    number = dispatched_order(world, customer(world, "陈静", "13800138000", PUDONG))
    accept = open_task(world, number, "accept")
    complete(world, number, "accept", "outlet", {"accepted": True})
    moved = post(
        world.client("admin"),
        "/admin/users",
        {
            "username": "outlet",
            "org": "O-GZ-TH",
            "roles": "outlet_manager",
            "groups": "outlets,outlet_managers",
            "active": "true",
        },
    )
    assert moved.status_code == 302
    complete(world, number, "assign_engineer", "admin", {"engineer": "eng-sh-pd-2"})
    page = text(world.client("outlet").get(f"/tasks/{accept.id}"))
    assert "data-frozen" in page and "陈静" in page
    assert "assign_engineer" not in page  # the history stops at their completion


def test_tasks_completed_before_snapshots_existed_show_nothing_of_the_order(
    world: World,
) -> None:
    _, accept = _refused_by_pudong(world)
    with world.session_factory() as session:  # a row from before migration 0009
        session.execute(sa.update(HumanTask).where(HumanTask.id == accept.id).values(snapshot=None))
        session.commit()
    page = text(world.client("outlet").get(f"/tasks/{accept.id}"))
    assert "data-frozen" in page and "data-submitted" not in page
    assert "eng-sh-mh-1" not in page and "闵行网点明早上门" not in page
