"""Consultation: answered on the phone, or by the responsible department and called back."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from aftersales.orders.models import ServiceOrder
from engine.models import utcnow
from engine.scheduler import fire_due_timers
from tests.aftersales.world import build


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def status(world, number: str) -> str:  # noqa: ANN001
    with world.factory() as session:
        return session.scalar(sa.select(ServiceOrder.status).where(ServiceOrder.number == number))


def consult(world) -> str:  # noqa: ANN001
    return world.open_order(type="consultation", serial=None, description="空调如何清洗滤网")


def test_an_answer_on_the_phone_closes_the_consultation(world):
    number = consult(world)
    world.complete(number, "answer", "agent", {"answered": True, "answer": "拆下滤网用清水冲洗"})
    assert (status(world, number), world.open_names(number)) == ("closed", [])


def test_an_answer_needs_its_text(world):
    number = consult(world)
    with pytest.raises(Exception, match="form has errors"):
        world.complete(number, "answer", "agent", {"answered": True})


def test_a_transferred_consultation_is_answered_by_the_department_then_called_back(world):
    number = consult(world)
    world.complete(number, "answer", "agent", {"answered": False})
    assert world.task(number, "department_reply").candidate_group == "departments"
    world.complete(number, "department_reply", "quality", {"department_reply": "建议每月清洗一次"})
    world.complete(number, "call_back", "agent", {"customer_told": True})
    assert status(world, number) == "closed"


def test_a_late_department_reply_makes_the_team_lead_chase_it(world):
    number = consult(world)
    world.complete(number, "answer", "agent", {"answered": False})
    with time_machine.travel(utcnow() + timedelta(days=2), tick=False):
        assert fire_due_timers(world.factory) == 1
    assert world.open_names(number) == ["chase_department", "department_reply"]
