"""What monitoring lays over a diagram: tokens, incidents and durations per activity (a
called process counts at its call activity), an instance's path, and open-task lateness."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from engine import monitoring
from engine.models import ProcessInstance, utcnow
from tests.aftersales.world import SIGNATURE, build

INSTALL_REPORT = {
    "installed_serial": "SN-NEW-1",
    "installed_model": "NOPE-1",
    "install_date": "2026-11-20",
    "customer_signature": SIGNATURE,
}


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def stats_of(world, number: str) -> monitoring.ActivityStats:  # noqa: ANN001
    definition_id = world.instance(number).definition_id
    with world.factory() as session:
        return monitoring.activity_stats(session, definition_id)


def test_a_token_inside_a_called_process_counts_at_the_call_activity(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    stats = stats_of(world, number)
    assert stats.tokens == {"dispatch": 1}


def test_tokens_of_several_instances_add_up(world):
    for _ in range(3):
        world.open_order()
    assert stats_of(world, world.open_order()).tokens == {"phone_support": 4}


def test_an_open_incident_counts_at_its_activity(world):
    number = world.open_order(type="installation", serial=None, model="KFR-35GW")
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(number, "check_in", "eng1", {"checked_in_at": "2026-11-20T09:00"})
    world.complete(number, "install_report", "eng1", INSTALL_REPORT)  # a model we do not sell
    assert stats_of(world, number).incidents == {"record": 1}


def test_time_spent_is_averaged_per_activity_and_graded_into_heat(world):
    number = world.open_order()
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        world.complete(number, "phone_support", "agent", {"solved": False})
    with time_machine.travel(utcnow() + timedelta(hours=2, minutes=30), tick=False):
        world.complete(number, "accept", "boss1", {"accepted": True})
    stats = stats_of(world, number)
    assert stats.avg_seconds["phone_support"] == pytest.approx(7200, abs=5)
    assert stats.avg_seconds["dispatch"] == pytest.approx(1800, abs=5)  # accept, inside it
    assert stats.heat() == {"phone_support": 5, "dispatch": 1}


def test_the_path_keeps_steps_whose_history_was_pruned(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(number, "check_in", "eng1", {"checked_in_at": "2026-11-20T10:00"})
    instance = world.instance(number)
    with world.factory() as session:
        path = monitoring.instance_path(session, session.get(ProcessInstance, instance.id))
    assert path.current == ["work_report"]
    assert {"start", "init", "phone_support", "dispatch", "price_visit"} <= set(path.completed)
    assert path.failed == []


def test_lateness_counts_overdue_and_soon_due_tasks_per_activity(world):
    world.open_order()
    world.open_order()
    later = utcnow() + timedelta(minutes=45)
    with time_machine.travel(later, tick=False), world.factory() as session:
        rows = monitoring.lateness(session, world.actors["lead"], "activity")
    assert [(r.name, r.open, r.overdue) for r in rows] == [("phone_support", 2, 2)]


def test_lateness_stays_within_the_viewers_scope(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})  # now at outlet O1
    with world.factory() as session:
        theirs = monitoring.lateness(session, world.actors["boss1"], "unit")
        others = monitoring.lateness(session, world.actors["boss2"], "unit")
    assert [r.open for r in theirs] == [1] and others == []


def test_durations_give_average_and_90th_percentile(world):
    for hours in (1, 1, 1, 1, 1, 1, 1, 1, 10, 10):
        number = world.open_order()
        with time_machine.travel(utcnow() + timedelta(hours=hours), tick=False):
            world.complete(number, "phone_support", "agent", {"solved": True})
    with world.factory() as session:
        rows = monitoring.durations(session, world.actors["lead"])
    row = next(r for r in rows if r.activity == "phone_support")
    assert row.completed == 10
    assert row.avg_seconds == pytest.approx(2.8 * 3600, rel=0.01)
    assert row.p90_seconds == pytest.approx(10 * 3600, rel=0.01)  # the 9th of 10
