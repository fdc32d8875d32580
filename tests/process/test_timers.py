"""Timer events: projected into the timer table, fired by the scheduler once due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from engine.commands import FireTimer, Resume, StartInstance, Suspend, execute
from engine.identity import SYSTEM_ACTOR
from engine.models import HumanTask
from engine.scheduler import fire_due_timers
from tests.helpers import audit, instance, open_task, task_names, timers

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def naive(moment: datetime) -> datetime:
    """The timer table holds naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


@pytest.fixture
def clock(time_machine):  # noqa: ANN001, ANN201
    """A frozen clock at T0; tests move it with ``clock.move_to``."""
    time_machine.move_to(T0, tick=False)
    return time_machine


def fire(engine_env) -> int:  # noqa: ANN001
    return fire_due_timers(engine_env.session_factory)


def fired_rows(engine_env, instance_id: int, activity: str) -> list:  # noqa: ANN001
    return [
        a
        for a in audit(engine_env.session_factory, instance_id)
        if a.command == "fire_timer" and a.activity == activity
    ]


def test_duration_timer_is_projected_with_its_due_time(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_wait"))

    rows = timers(engine_env.session_factory, started.id)
    assert [(t.activity, t.kind, t.due_at) for t in rows] == [
        ("wait", "DurationTimerEventDefinition", naive(T0 + timedelta(hours=1)))
    ]
    waiting = instance(engine_env.session_factory, started.id)
    assert waiting.status == "running"
    assert waiting.current_activities == ["wait"]
    assert task_names(engine_env.session_factory, started.id) == []


def test_duration_timer_is_not_fired_before_it_is_due(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_wait"))

    clock.move_to(T0 + timedelta(minutes=59, seconds=59))
    assert fire(engine_env) == 0

    assert task_names(engine_env.session_factory, started.id) == []
    assert len(timers(engine_env.session_factory, started.id)) == 1
    assert fired_rows(engine_env, started.id, "wait") == []


def test_timer_exactly_at_its_due_time_is_not_fired_yet(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_wait"))

    clock.move_to(T0 + timedelta(hours=1))
    assert fire(engine_env) == 0

    assert task_names(engine_env.session_factory, started.id) == []
    assert fired_rows(engine_env, started.id, "wait") == []
    clock.move_to(T0 + timedelta(hours=1, microseconds=1))
    assert fire(engine_env) == 1
    assert task_names(engine_env.session_factory, started.id) == ["after"]


def test_due_duration_timer_fires_and_the_next_user_task_appears(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_wait"))

    clock.move_to(T0 + timedelta(hours=1, seconds=1))
    assert fire(engine_env) == 1

    assert task_names(engine_env.session_factory, started.id) == ["after"]
    assert timers(engine_env.session_factory, started.id) == []
    after = instance(engine_env.session_factory, started.id)
    assert after.status == "running"
    assert after.current_activities == ["after"]
    (row,) = fired_rows(engine_env, started.id, "wait")
    assert row.actor == SYSTEM_ACTOR.username
    assert row.details["due_at"] == naive(T0 + timedelta(hours=1)).isoformat()


def test_time_date_timer_takes_its_due_time_from_task_data(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    deadline = "2030-01-03T12:30:00+00:00"
    started = engine_env.run(StartInstance("timer_date", variables={"deadline": deadline}))

    rows = timers(engine_env.session_factory, started.id)
    assert [(t.activity, t.kind, t.due_at) for t in rows] == [
        ("d_wait", "TimeDateEventDefinition", datetime(2030, 1, 3, 12, 30))
    ]


def test_time_date_timer_with_an_offset_is_stored_in_utc(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(
        StartInstance("timer_date", variables={"deadline": "2030-01-03T20:30:00+08:00"})
    )

    (row,) = timers(engine_env.session_factory, started.id)
    assert row.due_at == datetime(2030, 1, 3, 12, 30)


def test_time_date_timer_fires_once_its_date_has_passed(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    deadline = datetime(2030, 1, 3, 12, 30, tzinfo=UTC)
    started = engine_env.run(
        StartInstance("timer_date", variables={"deadline": deadline.isoformat()})
    )

    clock.move_to(deadline - timedelta(seconds=1))
    assert fire(engine_env) == 0
    assert task_names(engine_env.session_factory, started.id) == []

    clock.move_to(deadline + timedelta(seconds=1))
    assert fire(engine_env) == 1
    assert task_names(engine_env.session_factory, started.id) == ["d_after"]
    assert timers(engine_env.session_factory, started.id) == []


def test_time_date_in_the_past_passes_straight_through(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(
        StartInstance("timer_date", variables={"deadline": "2029-12-31T00:00:00+00:00"})
    )

    assert task_names(engine_env.session_factory, started.id) == ["d_after"]
    assert timers(engine_env.session_factory, started.id) == []


def test_boundary_timers_of_a_user_task_are_all_projected(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_boundary", variables={"reminders": 0}))

    rows = timers(engine_env.session_factory, started.id)
    assert [(t.activity, t.kind, t.due_at) for t in rows] == [
        ("handle_remind", "CycleTimerEventDefinition", naive(T0 + timedelta(hours=1))),
        ("handle_warn", "DurationTimerEventDefinition", naive(T0 + timedelta(hours=4))),
        ("handle_late", "DurationTimerEventDefinition", naive(T0 + timedelta(days=1))),
    ]
    assert task_names(engine_env.session_factory, started.id) == ["handle"]


def test_interrupting_boundary_timer_cancels_the_task_and_opens_escalate(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_boundary", variables={"reminders": 0}))
    handle = open_task(engine_env.session_factory, started.id, "handle")

    clock.move_to(T0 + timedelta(days=1, seconds=1))
    assert fire(engine_env) >= 1

    assert task_names(engine_env.session_factory, started.id) == ["escalate"]
    with engine_env.session_factory() as session:
        cancelled = session.get(HumanTask, handle.id)
        assert cancelled.status == "cancelled"
        assert cancelled.completed_at is not None
        assert cancelled.completed_by is None
    assert timers(engine_env.session_factory, started.id) == []
    assert instance(engine_env.session_factory, started.id).status == "running"


def test_non_interrupting_boundary_timer_opens_warn_and_keeps_handle_open(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_boundary", variables={"reminders": 0}))
    handle = open_task(engine_env.session_factory, started.id, "handle")

    clock.move_to(T0 + timedelta(hours=4, seconds=1))
    assert fire(engine_env) >= 1

    assert task_names(engine_env.session_factory, started.id) == ["handle", "warn"]
    assert open_task(engine_env.session_factory, started.id, "handle").id == handle.id
    remaining = [t.activity for t in timers(engine_env.session_factory, started.id)]
    assert remaining == ["handle_late"]


def test_cycle_timer_fires_twice_then_has_no_timer_row(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_boundary", variables={"reminders": 0}))

    def cycle_rows() -> list:
        return [
            t
            for t in timers(engine_env.session_factory, started.id)
            if t.activity == "handle_remind"
        ]

    clock.move_to(T0 + timedelta(hours=1, seconds=1))
    assert fire(engine_env) == 1
    assert instance(engine_env.session_factory, started.id).variables["reminders"] == 1
    assert [t.due_at for t in cycle_rows()] == [naive(T0 + timedelta(hours=2))]

    clock.move_to(T0 + timedelta(hours=2, seconds=1))
    assert fire(engine_env) == 1
    assert cycle_rows() == []

    clock.move_to(T0 + timedelta(hours=3, seconds=1))
    assert fire(engine_env) == 0
    assert len(fired_rows(engine_env, started.id, "handle_remind")) == 2
    assert task_names(engine_env.session_factory, started.id) == ["handle"]


def test_firing_twice_in_a_row_fires_the_timer_once(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_wait"))

    clock.move_to(T0 + timedelta(hours=2))
    assert fire(engine_env) == 1
    assert fire(engine_env) == 0

    assert len(fired_rows(engine_env, started.id, "wait")) == 1
    assert task_names(engine_env.session_factory, started.id) == ["after"]


def test_fire_timer_for_a_timer_already_fired_returns_false(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_wait"))
    (row,) = timers(engine_env.session_factory, started.id)

    clock.move_to(T0 + timedelta(hours=2))
    assert engine_env.run(FireTimer(row.id)) is True
    assert engine_env.run(FireTimer(row.id)) is False

    assert len(fired_rows(engine_env, started.id, "wait")) == 1
    assert task_names(engine_env.session_factory, started.id) == ["after"]


def test_suspended_instance_timer_waits_until_resumed(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_wait"))
    engine_env.run(Suspend(started.id))

    clock.move_to(T0 + timedelta(hours=2))
    assert fire(engine_env) == 0
    assert task_names(engine_env.session_factory, started.id) == []
    assert len(timers(engine_env.session_factory, started.id)) == 1
    assert instance(engine_env.session_factory, started.id).status == "suspended"

    engine_env.run(Resume(started.id))
    assert fire(engine_env) == 1
    assert task_names(engine_env.session_factory, started.id) == ["after"]
    assert instance(engine_env.session_factory, started.id).status == "running"


def test_fire_timer_on_a_suspended_instance_changes_nothing(engine_env, clock):
    engine_env.deploy("timers.bpmn")
    started = engine_env.run(StartInstance("timer_wait"))
    engine_env.run(Suspend(started.id))
    (row,) = timers(engine_env.session_factory, started.id)

    clock.move_to(T0 + timedelta(hours=2))
    with engine_env.session_factory() as session:
        assert execute(session, FireTimer(row.id), SYSTEM_ACTOR) is False

    assert [t.id for t in timers(engine_env.session_factory, started.id)] == [row.id]
    assert fired_rows(engine_env, started.id, "wait") == []
    with engine_env.session_factory() as session:
        open_rows = session.scalar(
            sa.select(sa.func.count())
            .select_from(HumanTask)
            .where(HumanTask.instance_id == started.id)
        )
    assert open_rows == 0
