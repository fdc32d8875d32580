"""Praise kept against outlet and engineer; the callback threshold the team lead sets."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from aftersales.orders.models import ServiceOrder
from aftersales.orders.service import get_order
from aftersales.outlets.models import Praise
from aftersales.settings import service as settings
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.models import Incident, OrgUnit, User
from tests.aftersales.test_repair_process import field_work
from tests.aftersales.world import build


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def test_praise_is_kept_against_the_outlet_and_engineer_and_closes(world):
    number = world.open_order(type="praise", serial=None, description="师傅很专业，服务热情")
    world.complete(
        number, "identify", "agent", {"praised_outlet": "O1", "praised_engineer": "eng1"}
    )
    with world.factory() as session:
        praise = session.scalar(sa.select(Praise))
        engineer = session.scalar(sa.select(User).where(User.username == "eng1"))
        assert (praise.engineer_id, praise.text) == (engineer.id, "师傅很专业，服务热情")
        status = session.scalar(sa.select(ServiceOrder.status).where(ServiceOrder.number == number))
        assert status == "closed"


def test_praise_of_an_engineer_alone_credits_their_outlet_whose_people_then_see_it(world):
    number = world.open_order(type="praise", serial=None, description="工程师很耐心")
    world.complete(number, "identify", "agent", {"praised_engineer": "eng1"})
    with world.factory() as session:
        praise = session.scalar(sa.select(Praise))
        outlet = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "O1"))
        assert praise.outlet_id == outlet.id
        get_order(session, world.actors["boss1"], number)  # the praised outlet may open it
        with pytest.raises(NotFound):
            get_order(session, world.actors["boss2"], number)


def test_praise_must_name_an_outlet_or_an_engineer(world):
    number = world.open_order(type="praise", serial=None, description="好")
    with pytest.raises(InvalidInput):
        world.complete(number, "identify", "agent", {})


def test_praise_naming_an_unknown_outlet_is_refused_on_the_field_and_stays_open(world):
    number = world.open_order(type="praise", serial=None, description="好")
    with pytest.raises(InvalidInput) as refused:
        world.complete(number, "identify", "agent", {"praised_outlet": "NOPE"})
    assert refused.value.details["fields"] == {"praised_outlet": ["没有这个网点，请从列表中选择"]}
    assert world.open_names(number) == ["identify"]
    with world.factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0


def test_praise_naming_an_unknown_engineer_is_refused_on_the_field(world):
    number = world.open_order(type="praise", serial=None, description="好")
    with pytest.raises(InvalidInput) as refused:
        world.complete(number, "identify", "agent", {"praised_engineer": "nobody-here"})
    assert list(refused.value.details["fields"]) == ["praised_engineer"]


def test_a_team_lead_changes_the_callback_threshold(world):
    with world.factory() as session:
        settings.change(session, world.actors["lead"], "callback_threshold", "30")
        session.commit()
        assert settings.value(session, "callback_threshold") == 30


def test_an_agent_may_not_change_the_threshold(world):
    with world.factory() as session, pytest.raises(Forbidden):
        settings.change(session, world.actors["agent"], "callback_threshold", 30)


def test_a_threshold_out_of_range_is_refused(world):
    with world.factory() as session, pytest.raises(InvalidInput):
        settings.change(session, world.actors["lead"], "callback_threshold", 101)


def test_a_lower_threshold_lets_a_mediocre_callback_pass(world):
    with world.factory() as session:
        settings.change(session, world.actors["lead"], "callback_threshold", 30)
        session.commit()
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    field_work(world, number)
    world.complete(number, "review", "center", {"approved": True})
    world.complete(number, "callback", "agent", {"VISITED": True, "ATTITUDE": 1})
    assert world.open_names(number) == []
