"""The task inbox: the three lists with their counts, filters, sorting and saved filters."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from engine.commands import Claim, Complete
from engine.models import HumanTask, TaskCandidate, utcnow
from webapp.models import SavedFilter

from . import pages
from .pages import World, counts, listed_tasks, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def _set(world: World, task_id: str, **values: object) -> None:
    """Change a task, and the inbox index's copy of its priority and creation time."""
    with world.session_factory() as session:
        task = session.get(HumanTask, task_id)
        rows = session.scalars(sa.select(TaskCandidate).where(TaskCandidate.task_id == task_id))
        for row in [task, *rows]:
            for key, value in values.items():
                if hasattr(row, key):
                    setattr(row, key, value)
        session.commit()


def test_the_lists_show_mine_to_claim_and_completed_with_counts(world: World) -> None:
    client = world.client("agent")
    first = world.task("DEMO-0001", "callback")
    second = world.task("DEMO-0002", "callback")

    page = text(client.get("/tasks?list=group"))
    assert counts(page) == {"mine": "0", "group": "2", "completed": "0"}
    assert sorted(listed_tasks(page)) == sorted([first.id, second.id])
    assert "待认领" in page
    assert "暂无任务。" in text(client.get("/tasks"))  # "mine" is the default list

    world.run(Claim(first.id), "agent")
    page = text(client.get("/tasks"))
    assert counts(page) == {"mine": "1", "group": "1", "completed": "0"}
    assert listed_tasks(page) == [first.id]
    assert "回访：陈静" in page

    world.run(
        Complete(first.id, data={"VISITED": True, "ATTITUDE": 5, "ONTIME": True, "FIXED": True}),
        "agent",
    )
    page = text(client.get("/tasks?list=completed"))
    assert counts(page) == {"mine": "0", "group": "1", "completed": "1"}
    assert listed_tasks(page) == [first.id]


def test_an_outlet_sees_only_its_own_tasks(world: World) -> None:
    page = text(world.client("outlet2").get("/tasks?list=group"))
    assert listed_tasks(page) == [world.task("DEMO-0003", "visit").id]
    assert text(world.client("outlet").get("/tasks?list=group")).count("data-task=") == 0


def test_filter_by_business_key(world: World) -> None:
    page = text(world.client("agent").get("/tasks?list=group&business_key=DEMO-0002"))
    assert listed_tasks(page) == [world.task("DEMO-0002", "callback").id]
    assert 'value="DEMO-0002"' in page  # the filter stays filled in
    assert counts(page)["group"] == "2"  # the counts are of the whole lists


def test_filter_by_customer_phone(world: World) -> None:
    client = world.client("agent")
    page = text(client.get("/tasks?list=group&customer_phone=13800000001"))
    assert listed_tasks(page) == [world.task("DEMO-0001", "callback").id]
    page = text(client.get("/tasks?list=group&customer_phone=13900000000"))
    assert listed_tasks(page) == []
    assert "暂无任务。" in page


def test_filter_overdue_tasks(world: World) -> None:
    late = world.task("DEMO-0002", "callback")
    _set(world, late.id, due_at=utcnow() - timedelta(hours=2))
    _set(world, world.task("DEMO-0001", "callback").id, due_at=utcnow() + timedelta(days=3))
    page = text(world.client("agent").get("/tasks?list=group&due=overdue"))
    assert listed_tasks(page) == [late.id]
    assert "已超期" in page


def test_sorting_by_priority_and_by_creation(world: World) -> None:
    older = world.task("DEMO-0002", "callback")
    newer = world.task("DEMO-0001", "callback")
    now = utcnow()
    _set(world, older.id, created_at=now - timedelta(hours=5), priority=20)
    _set(world, newer.id, created_at=now - timedelta(hours=1), priority=90)
    client = world.client("agent")
    assert listed_tasks(text(client.get("/tasks?list=group"))) == [newer.id, older.id]
    assert listed_tasks(text(client.get("/tasks?list=group&sort=oldest"))) == [older.id, newer.id]
    assert listed_tasks(text(client.get("/tasks?list=group&sort=created"))) == [newer.id, older.id]
    _set(world, older.id, priority=95)
    assert listed_tasks(text(client.get("/tasks?list=group"))) == [older.id, newer.id]


def _filters(world: World) -> list[SavedFilter]:
    with world.session_factory() as session:
        return list(session.scalars(sa.select(SavedFilter).order_by(SavedFilter.id)))


def test_saving_and_deleting_a_filter(world: World) -> None:
    client = world.client("agent")
    response = post(
        client,
        "/tasks/filters",
        {"name": "张先生的单", "list": "group", "business_key": "DEMO-0002"},
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "筛选条件已保存。" in page
    assert listed_tasks(page) == [world.task("DEMO-0002", "callback").id]
    assert "张先生的单" in text(client.get("/tasks"))  # offered on every list
    (saved,) = _filters(world)
    assert (saved.list_name, saved.query) == ("group", {"business_key": "DEMO-0002"})

    response = post(client, f"/tasks/filters/{saved.id}/delete")
    assert response.status_code == 302
    assert _filters(world) == []
    assert "张先生的单" not in text(client.get("/tasks?list=group"))


def test_a_filter_needs_a_name(world: World) -> None:
    client = world.client("agent")
    response = post(client, "/tasks/filters", {"name": " ", "list": "group"})
    assert "请为筛选条件命名。" in text(client.get(response.headers["Location"]))
    assert _filters(world) == []


def test_another_users_filter_answers_404_and_stays(world: World) -> None:
    post(world.client("agent"), "/tasks/filters", {"name": "mine", "list": "group"})
    (saved,) = _filters(world)
    intruder = world.client("agent2")
    response = post(intruder, f"/tasks/filters/{saved.id}/delete")
    assert response.status_code == 404
    assert "页面不存在" in text(response)
    assert len(_filters(world)) == 1
    assert "已保存的筛选条件" not in text(intruder.get("/tasks"))  # not offered to agent2
