""" "Claim and open the next" in the inbox: one click claims the best task of the user's own
queues (highest priority, then oldest) and opens it; two people clicking at once never get
the same task, the one who loses the race gets the next."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from engine.commands import Claim
from engine.identity import actor_for
from engine.models import HumanTask, TaskCandidate, User, utcnow
from webapp.tasking import claim_next

from . import pages
from .pages import World, flashes, post, text

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


def _callbacks(world: World) -> tuple[HumanTask, HumanTask]:
    """The two callbacks waiting in the agents' queue, the first one older."""
    first = world.task("DEMO-0001", "callback")
    second = world.task("DEMO-0002", "callback")
    _set(world, first.id, priority=50, created_at=utcnow() - timedelta(hours=2))
    _set(world, second.id, priority=50, created_at=utcnow() - timedelta(hours=1))
    return first, second


def test_the_inbox_offers_the_button_only_with_something_to_claim(world: World) -> None:
    assert "认领并打开下一个" in text(world.client("agent").get("/tasks"))
    assert "认领并打开下一个" not in text(world.client("designer").get("/tasks"))


def test_it_claims_the_oldest_of_equal_priority_and_opens_it(world: World) -> None:
    first, _ = _callbacks(world)
    client = world.client("agent")
    response = post(client, "/tasks/claim-next")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tasks/{first.id}"
    assert world.task("DEMO-0001", "callback").assignee == "agent"
    assert "您已认领该任务。" in flashes(text(client.get(response.headers["Location"])))


def test_a_higher_priority_goes_before_an_older_task(world: World) -> None:
    _, second = _callbacks(world)
    _set(world, second.id, priority=90)
    response = post(world.client("agent"), "/tasks/claim-next")
    assert response.headers["Location"] == f"/tasks/{second.id}"


def test_the_next_click_takes_the_next_task_and_then_says_none_is_left(world: World) -> None:
    first, second = _callbacks(world)
    client = world.client("agent")
    assert post(client, "/tasks/claim-next").headers["Location"] == f"/tasks/{first.id}"
    assert post(client, "/tasks/claim-next").headers["Location"] == f"/tasks/{second.id}"
    response = post(client, "/tasks/claim-next")
    assert response.headers["Location"] == "/tasks?list=group"
    assert "没有可认领的任务了。" in flashes(text(client.get(response.headers["Location"])))


def test_a_task_someone_else_took_is_passed_over_for_the_next(world: World) -> None:
    first, second = _callbacks(world)
    world.run(Claim(first.id), "agent2")
    response = post(world.client("agent"), "/tasks/claim-next")
    assert response.headers["Location"] == f"/tasks/{second.id}"
    assert world.task("DEMO-0001", "callback").assignee == "agent2"


def test_someone_in_no_queue_claims_nothing(world: World) -> None:
    response = post(world.client("designer"), "/tasks/claim-next")
    assert response.headers["Location"] == "/tasks?list=group"


def test_the_claim_needs_the_forms_csrf_token(world: World) -> None:
    response = world.client("agent").post("/tasks/claim-next")
    assert response.status_code == 400
    assert world.task("DEMO-0001", "callback").assignee is None


def test_people_clicking_at_once_never_get_the_same_task(world: World) -> None:
    _callbacks(world)
    users = ["agent", "agent2", "lead"]
    with world.session_factory() as session:
        actors = {
            u: actor_for(session.scalar(sa.select(User).where(User.username == u))) for u in users
        }
    barrier = threading.Barrier(len(users))
    got: dict[str, str | None] = {}

    def click(user: str) -> None:
        actor = actors[user]
        with world.session_factory() as session:
            barrier.wait()
            task = claim_next(session, actor)
            got[user] = task.id if task is not None else None

    threads = [threading.Thread(target=click, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    claimed = [t for t in got.values() if t is not None]
    assert len(claimed) == 2 and len(set(claimed)) == 2  # two tasks, two people, one left out
    with world.session_factory() as session:
        query = sa.select(HumanTask.id, HumanTask.assignee).where(HumanTask.id.in_(claimed))
        owners = {task_id: assignee for task_id, assignee in session.execute(query)}
    assert all(owners[task] == user for user, task in got.items() if task is not None)
