"""Migrating all running instances of a version at once: checked first, then each instance
on its own, the ones that cannot move reported and left where they are."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from engine.commands import Deploy, execute
from engine.identity import SYSTEM_ACTOR
from engine.models import ProcessInstance

from . import pages
from .pages import World, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL
DEMO = Path(__file__).resolve().parents[2] / "bpmn" / "demo_service_request.bpmn"


def new_version(world: World) -> None:
    xml = DEMO.read_text(encoding="utf-8").replace('name="上门服务"', 'name="上门检修"')
    with world.session_factory() as session:
        execute(session, Deploy([("demo_service_request.bpmn", xml.encode())]), SYSTEM_ACTOR)


def versions(world: World) -> list[int]:
    with world.session_factory() as session:
        return sorted(
            session.scalars(
                sa.select(ProcessInstance.process_version).where(
                    ProcessInstance.process_key == "demo_service_request"
                )
            )
        )


def test_the_check_counts_the_instances_that_can_move(world: World) -> None:
    new_version(world)
    page = text(
        world.client("manager").get("/definitions/demo_service_request/migrate?from=1&to=2")
    )
    assert "data-batch-run" in page
    waiting = page[page.index("data-batch-waiting") :]
    assert "3" in waiting[: waiting.index("</p>")]


def test_a_manager_migrates_every_running_instance(world: World) -> None:
    new_version(world)
    response = post(
        world.client("manager"),
        "/definitions/demo_service_request/migrate",
        {"from": "1", "to": "2"},
    )
    assert response.status_code == 200
    assert "已迁移 3 个实例。" in text(response)
    assert versions(world) == [2, 2, 2]


def test_instances_that_cannot_move_are_reported_with_why_and_stay(world: World) -> None:
    new_version(world)
    response = post(
        world.client("manager"),
        "/definitions/demo_service_request/migrate",
        {"from": "1", "to": "2", "map.visit": "nowhere"},
    )
    results = text(response)[text(response).index("data-batch-results") :]
    assert "已迁移 0 个实例。" in results  # a mapping to no activity is refused for every one
    assert "visit -&gt; nowhere" in results
    assert versions(world) == [1, 1, 1]


def test_migrating_to_an_older_version_is_refused(world: World) -> None:
    new_version(world)
    client = world.client("manager")
    assert client.get("/definitions/demo_service_request/migrate?from=2&to=1").status_code == 422


def test_an_agent_may_not_migrate(world: World) -> None:
    new_version(world)
    client = world.client("agent")
    assert client.get("/definitions/demo_service_request/migrate?from=1&to=2").status_code == 403
    response = post(client, "/definitions/demo_service_request/migrate", {"from": "1", "to": "2"})
    assert response.status_code == 403
    assert versions(world) == [1, 1, 1]


def test_a_batch_starts_after_the_cursor_so_refused_ones_do_not_stall_it(world: World) -> None:
    new_version(world)
    with world.session_factory() as session:
        first, *rest = sorted(
            session.scalars(
                sa.select(ProcessInstance.id).where(
                    ProcessInstance.process_key == "demo_service_request"
                )
            )
        )
    response = post(
        world.client("manager"),
        "/definitions/demo_service_request/migrate",
        {"from": "1", "to": "2", "after": str(first)},
    )
    assert "已迁移 2 个实例。" in text(response)
    assert f'name="after" value="{rest[-1]}"' in text(response)
    assert versions(world) == [1, 2, 2]
