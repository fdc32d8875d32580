"""Migrating all running instances of a version at once: checked first, then started as a
batch that runs in the background, each instance on its own, the ones that cannot move
reported and left where they are; the batch's page shows how far it got."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from engine.batches import advance_batches
from engine.commands import Deploy, execute
from engine.identity import SYSTEM_ACTOR
from engine.models import MigrationBatch, ProcessInstance

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


def start(world: World, **mapping: str):  # noqa: ANN201
    return post(
        world.client("manager"),
        "/definitions/demo_service_request/migrate",
        {"from": "1", "to": "2", **{f"map.{k}": v for k, v in mapping.items()}},
    )


def test_starting_a_batch_leads_to_its_progress_page_before_anything_moves(world: World) -> None:
    new_version(world)
    response = start(world)
    assert response.status_code == 303
    page = text(world.client("manager").get(response.headers["Location"]))
    assert 'data-batch-status="running"' in page
    assert "3 个实例中已处理 0 个" in page
    assert 'hx-trigger="every 2s"' in page  # the page polls its progress
    assert versions(world) == [1, 1, 1]


def test_the_workers_migrate_every_running_instance_and_the_page_says_so(world: World) -> None:
    new_version(world)
    location = start(world).headers["Location"]
    advance_batches(world.session_factory)
    assert versions(world) == [2, 2, 2]
    progress = world.client("manager").get(location, headers={"HX-Request": "true"})
    block = text(progress)
    assert block.lstrip().startswith("<section")  # htmx gets only the progress block
    assert 'data-batch-status="completed"' in block
    assert "已迁移 3 个，拒绝 0 个" in block
    assert "hx-trigger" not in block  # a finished batch stops polling


def test_instances_that_cannot_move_are_reported_with_why_and_stay(world: World) -> None:
    new_version(world)
    location = start(world, visit="nowhere").headers["Location"]
    advance_batches(world.session_factory)
    page = text(world.client("manager").get(location))
    reasons = re.findall(r"<li>(\d+) × ([^<]*)</li>", page[page.index("data-batch-reasons") :])
    assert sum(int(n) for n, _ in reasons) == 3
    assert all("visit -&gt; nowhere" in why for _, why in reasons)
    assert "已迁移 0 个，拒绝 3 个" in page
    assert versions(world) == [1, 1, 1]


def test_stopping_a_batch_leaves_the_remaining_instances_where_they_are(world: World) -> None:
    new_version(world)
    location = start(world).headers["Location"]
    batch_id = int(location.rsplit("/", 1)[-1])
    response = post(world.client("manager"), f"/batches/{batch_id}/cancel")
    assert response.status_code == 303
    advance_batches(world.session_factory)
    assert versions(world) == [1, 1, 1]
    assert 'data-batch-status="cancelled"' in text(world.client("manager").get(location))


def test_the_migration_page_lists_the_batches_of_the_process(world: World) -> None:
    new_version(world)
    location = start(world).headers["Location"]
    page = text(
        world.client("manager").get("/definitions/demo_service_request/migrate?from=1&to=2")
    )
    assert f'href="{location}"' in page.replace("http://localhost", "")
    assert "data-batch-list" in page


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


def test_another_operators_batch_outside_their_scope_does_not_exist_for_them(
    world: World,
) -> None:
    new_version(world)
    location = start(world).headers["Location"]
    with world.session_factory() as session:
        batch = session.get(MigrationBatch, int(location.rsplit("/", 1)[-1]))
        assert batch.created_by == "manager"
    assert world.client("outlet").get(location).status_code == 403  # not an operator at all
