"""Migration batches carried out in the background: leased to one worker at a time, chunk by
chunk past the instances that cannot move, in their creator's scope, stopped when the creator
may no longer operate, readable and startable through the API."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import batches
from engine.commands import CancelBatch, StartBatchMigration
from engine.errors import Conflict, NotFound
from engine.identity import issue_token, upsert_user
from engine.models import MigrationBatch, OrgUnit, ProcessInstance, User
from tests.ui import pages
from tests.ui.pages import World
from tests.ui.test_pages_batch_migration import new_version, versions

world = pages.world
KEY = "demo_service_request"


def _batch(world: World, batch_id: int) -> MigrationBatch:
    return world.get(MigrationBatch, batch_id)


def _start(world: World, as_user: str = "manager", **mapping: str) -> MigrationBatch:
    return world.run(StartBatchMigration(KEY, 1, 2, mapping), as_user)


def test_a_batch_counts_the_instances_it_will_move_and_moves_none_yet(world: World) -> None:
    new_version(world)
    batch = _start(world)
    assert (batch.status, batch.total, batch.migrated) == ("running", 3, 0)
    assert versions(world) == [1, 1, 1]


def test_chunks_go_on_after_the_cursor_until_the_batch_is_done(world: World) -> None:
    new_version(world)
    batch = _start(world)
    assert batches.advance_batches(world.session_factory, chunk=2) == 2
    middle = _batch(world, batch.id)
    assert (middle.status, middle.migrated) == ("running", 2)
    assert batches.advance_batches(world.session_factory, chunk=2) == 1
    done = _batch(world, batch.id)
    assert (done.status, done.migrated, done.refused) == ("completed", 3, 0)
    assert done.finished_at is not None
    assert batches.advance_batches(world.session_factory) == 0  # nothing left to do


def test_a_leased_batch_is_not_taken_by_a_second_worker(world: World) -> None:
    new_version(world)
    batch = _start(world)
    assert batches._claim(world.session_factory) == batch.id
    assert batches._claim(world.session_factory) is None
    assert batches.advance_batches(world.session_factory) == 0
    assert versions(world) == [1, 1, 1]


def test_a_second_batch_of_the_same_version_is_refused_while_one_runs(world: World) -> None:
    new_version(world)
    _start(world)
    with pytest.raises(Conflict):
        _start(world)


def test_a_batch_stops_with_the_reason_when_its_creator_may_no_longer_operate(
    world: World,
) -> None:
    new_version(world)
    batch = _start(world)
    with world.session_factory() as session:
        upsert_user(session, username="manager", roles=[])
        session.commit()
    batches.advance_batches(world.session_factory)
    stopped = _batch(world, batch.id)
    assert stopped.status == "failed"
    assert "manager may no longer migrate instances" in stopped.message
    assert versions(world) == [1, 1, 1]


def test_a_cancelled_batch_moves_nothing_more(world: World) -> None:
    new_version(world)
    batch = _start(world)
    batches.advance_batches(world.session_factory, chunk=1)
    world.run(CancelBatch(batch.id), "manager")
    batches.advance_batches(world.session_factory)
    assert sorted(versions(world)) == [1, 1, 2]
    assert _batch(world, batch.id).status == "cancelled"


def test_a_center_operators_batch_moves_only_the_instances_in_its_scope(world: World) -> None:
    new_version(world)
    with world.session_factory() as session:
        east = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "C-EAST"))
        first = session.scalar(
            sa.select(ProcessInstance)
            .where(ProcessInstance.process_key == KEY)
            .order_by(ProcessInstance.id)
        )
        first.org_unit_id, first.org_path = east.id, east.path  # one of the three in the East
        upsert_user(session, username="center-op", org_code="C-EAST", roles=["manager"])
        session.commit()
        first_id = first.id
    batch = _start(world, "center-op")
    assert batch.total == 1
    batches.advance_batches(world.session_factory)
    with world.session_factory() as session:
        moved = session.scalars(
            sa.select(ProcessInstance.id).where(
                ProcessInstance.process_key == KEY, ProcessInstance.process_version == 2
            )
        ).all()
    assert moved == [first_id]


def test_a_batch_outside_the_operators_scope_does_not_exist_for_them(world: World) -> None:
    new_version(world)
    batch = _start(world)
    with world.session_factory() as session:
        upsert_user(session, username="center-op", org_code="C-EAST", roles=["manager"])
        session.commit()
    with pytest.raises(NotFound):
        world.run(CancelBatch(batch.id), "center-op")


def _token(world: World, username: str) -> dict[str, str]:
    with world.session_factory() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        token = issue_token(session, user)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_starts_a_batch_and_answers_its_progress(world: World) -> None:
    new_version(world)
    client = world.app.test_client()
    auth = _token(world, "manager")
    started = client.post(
        "/api/v1/migration-batches", json={"process_key": KEY, "from": 1, "to": 2}, headers=auth
    )
    assert started.status_code == 201
    body = started.get_json()
    assert (body["status"], body["total"], body["migrated"]) == ("running", 3, 0)
    batches.advance_batches(world.session_factory)
    progress = client.get(f"/api/v1/migration-batches/{body['id']}", headers=auth).get_json()
    assert (progress["status"], progress["migrated"]) == ("completed", 3)


def test_an_agent_may_not_start_a_batch_through_the_api(world: World) -> None:
    new_version(world)
    response = world.app.test_client().post(
        "/api/v1/migration-batches",
        json={"process_key": KEY, "from": 1, "to": 2},
        headers=_token(world, "agent"),
    )
    assert response.status_code == 403
    with world.session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MigrationBatch)) == 0
