"""Races: concurrent commands on one instance, and several workers firing the same timers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from engine.commands import Claim, Complete, Resume, StartInstance, Suspend, Terminate, execute
from engine.errors import Conflict
from engine.models import AuditEntry, HumanTask, utcnow
from engine.scheduler import fire_due_timers
from tests.helpers import instance, open_task, task_names


def _race(count: int, work) -> list:  # noqa: ANN001
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_threads_completing_one_task_succeed_exactly_once(engine_env):
    engine_env.deploy("parallel.bpmn", "parallel_check.form.json")
    started = engine_env.run(StartInstance("parallel"))
    task = open_task(engine_env.session_factory, started.id, "check_a")
    revision = instance(engine_env.session_factory, started.id).revision

    def complete(index: int) -> object:
        with engine_env.session_factory() as session:
            return execute(
                session,
                Complete(task.id, data={"a_ok": True, "attempt": index}),
                engine_env.actors["admin"],
            )

    results = _race(20, complete)

    winners = [r for r in results if isinstance(r, HumanTask)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if r not in winners)
    after = instance(engine_env.session_factory, started.id)
    assert after.revision == revision + 1
    assert isinstance(after.variables["attempt"], int)
    assert task_names(engine_env.session_factory, started.id) == ["check_b"]
    with engine_env.session_factory() as session:
        completes = session.scalar(
            sa.select(sa.func.count()).where(
                AuditEntry.instance_id == started.id, AuditEntry.command == "complete"
            )
        )
    assert completes == 1


def test_concurrent_claims_leave_one_assignee(engine_env):
    engine_env.deploy("exclusive.bpmn")
    started = engine_env.run(StartInstance("exclusive"))  # by an admin: it waits for the group
    task = open_task(engine_env.session_factory, started.id, "enter")
    assert task.assignee is None
    users = ["agent", "agent2", "manager"]

    def claim(index: int) -> object:
        with engine_env.session_factory() as session:
            return execute(session, Claim(task.id), engine_env.actors[users[index]])

    results = _race(3, claim)

    assert sum(isinstance(r, HumanTask) for r in results) == 1
    assignee = open_task(engine_env.session_factory, started.id, "enter").assignee
    assert assignee in users


def test_four_workers_racing_for_due_timers_fire_each_once(engine_env):
    engine_env.deploy("timers.bpmn")
    ids = [engine_env.run(StartInstance("timer_wait")).id for _ in range(12)]

    with time_machine.travel(utcnow() + timedelta(hours=2), tick=True):
        results = _race(4, lambda _: fire_due_timers(engine_env.session_factory))

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == len(ids)
    with engine_env.session_factory() as session:
        fired = session.execute(
            sa.select(AuditEntry.instance_id, sa.func.count())
            .where(AuditEntry.command == "fire_timer")
            .group_by(AuditEntry.instance_id)
        ).all()
    assert sorted(fired) == [(i, 1) for i in ids]
    assert all(task_names(engine_env.session_factory, i) == ["after"] for i in ids)


def test_consecutive_commands_in_one_session_each_advance_the_revision(engine_env):
    engine_env.deploy("exclusive.bpmn")
    started = engine_env.run(StartInstance("exclusive"))
    before = instance(engine_env.session_factory, started.id).revision
    admin = engine_env.actors["admin"]
    with engine_env.session_factory() as session:
        execute(session, Suspend(started.id), admin)
        execute(session, Resume(started.id), admin)
        execute(session, Suspend(started.id), admin)
    row = instance(engine_env.session_factory, started.id)
    assert (row.status, row.revision) == ("suspended", before + 3)


def test_a_command_on_a_stale_instance_copy_is_a_conflict_and_changes_nothing(engine_env):
    engine_env.deploy("exclusive.bpmn")
    started = engine_env.run(StartInstance("exclusive"))
    before = instance(engine_env.session_factory, started.id).revision
    admin = engine_env.actors["admin"]
    with engine_env.session_factory() as session:
        _held = execute(session, Suspend(started.id), admin)  # stays in the identity map
        engine_env.run(Resume(started.id))
        with pytest.raises(Conflict):
            execute(session, Terminate(started.id), admin)
    row = instance(engine_env.session_factory, started.id)
    assert (row.status, row.revision) == ("running", before + 2)
