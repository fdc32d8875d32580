"""``csm demo`` builds a believable world: the organisation, its people, the catalogue and
customers, the knowledge base, and orders stopped at every step of their processes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

import aftersales
from aftersales.customers.models import CustomerAddress
from aftersales.demo.world import Size
from aftersales.knowledge.models import KbArticle
from aftersales.orders.models import ServiceOrder
from aftersales.outlets.models import Engineer, OutletProfile, Praise
from aftersales.products.models import InstalledProduct, Part
from engine.identity import ROLES
from engine.models import HumanTask, OrgUnit, User, utcnow
from forms.binding import install
from webapp.demo import load_demo

SIZE = Size(customers=80, orders=400)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):  # noqa: ANN001, ANN201
    """One demo database for the module: building it drives hundreds of orders."""
    from engine.db import make_engine, make_session_factory
    from engine.models import Base

    install()
    aftersales.install()
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        lines = list(load_demo(session, SIZE))
    yield factory, lines
    engine.dispose()


def count(factory, query) -> int:  # noqa: ANN001
    with factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def test_the_organisation_has_three_centers_and_twelve_outlets_in_real_districts(demo_db):
    factory, _ = demo_db
    with factory() as session:
        kinds = Counter(session.scalars(sa.select(OrgUnit.kind)))
        profiles = list(session.scalars(sa.select(OutletProfile)))
    assert (kinds["center"], kinds["outlet"]) == (3, 12)
    assert all(p.latitude and p.longitude and p.districts for p in profiles)
    assert len(profiles) == 12


def test_there_are_forty_engineers_twenty_agents_and_a_login_for_every_role(demo_db):
    factory, _ = demo_db
    with factory() as session:
        roles = [set(r or []) for r in session.scalars(sa.select(User.roles))]
        engineers = session.scalars(sa.select(Engineer)).all()
    assert sum("engineer" in r for r in roles) == 40
    assert len(engineers) == 40 and all(e.skills for e in engineers)
    assert sum(r == {"agent"} for r in roles) == 20
    for role in ROLES:
        assert any(role in r for r in roles), role


def test_the_catalogue_has_three_hundred_parts_and_a_hundred_articles(demo_db):
    factory, _ = demo_db
    assert count(factory, sa.select(Part)) == 300
    assert count(factory, sa.select(KbArticle)) == 100


def test_customers_own_one_to_four_products_and_most_addresses_are_located(demo_db):
    factory, _ = demo_db
    bought = sa.select(InstalledProduct).where(~InstalledProduct.serial.startswith("SNI"))
    assert count(factory, bought) == SIZE.customers * 5 // 2  # 5,000 for 2,000 customers
    located = count(factory, sa.select(CustomerAddress).where(CustomerAddress.latitude.isnot(None)))
    assert located >= SIZE.customers // 2


def test_orders_of_every_type_stop_at_every_state(demo_db):
    factory, _ = demo_db
    with factory() as session:
        orders = session.execute(sa.select(ServiceOrder.type, ServiceOrder.status)).all()
        verified = session.scalar(sa.select(sa.func.count()).where(ServiceOrder.verified.is_(True)))
    assert len(orders) == SIZE.orders
    assert {t for t, _ in orders} == {"repair", "installation", "consultation", "praise"}
    assert {s for _, s in orders} >= {
        "received",
        "dispatched",
        "accepted",
        "on_site",
        "reviewing",
        "closed",
    }
    assert verified > 0


def test_every_inbox_has_work_waiting(demo_db):
    factory, _ = demo_db
    with factory() as session:
        open_steps = set(
            session.scalars(sa.select(HumanTask.name).where(HumanTask.status == "open"))
        )
    assert open_steps >= {
        "phone_support",
        "accept",
        "assign_engineer",
        "check_in",
        "work_report",
        "review",
        "rework",
        "callback",
        "follow_up",
        "answer",
        "department_reply",
    }


def test_praise_lands_on_outlets_and_engineers(demo_db):
    factory, _ = demo_db
    with factory() as session:
        praises = session.scalars(sa.select(Praise)).all()
    assert praises and all(p.outlet_id and p.engineer_id for p in praises)


def test_running_it_again_adds_nothing(demo_db):
    factory, _ = demo_db
    with factory() as session:
        again = list(load_demo(session, SIZE))
    assert "demo instances already present" in again
    assert count(factory, sa.select(ServiceOrder)) == SIZE.orders


def test_the_history_spreads_over_weeks_with_real_step_durations(demo_db):
    factory, _ = demo_db
    with factory() as session:
        oldest = session.scalar(sa.select(sa.func.min(ServiceOrder.created_at)))
        waits = [
            done - created
            for created, done in session.execute(
                sa.select(HumanTask.created_at, HumanTask.completed_at).where(
                    HumanTask.name == "check_in", HumanTask.status == "completed"
                )
            )
        ]
        number, created = session.execute(
            sa.select(ServiceOrder.number, ServiceOrder.created_at).order_by(ServiceOrder.id)
        ).first()
    assert utcnow() - oldest > timedelta(days=14)
    assert waits and min(waits) >= timedelta(hours=1)  # an engineer is not on site at once
    assert number[1:9] == f"{created:%Y%m%d}"  # the number carries the day it came in
