"""Installation: dispatch, the install report records the installed product, callback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from aftersales.customers.service import create_customer
from aftersales.orders.models import ServiceOrder
from aftersales.products.models import InstalledProduct
from engine.models import Incident
from tests.aftersales.world import SIGNATURE, build

REPORT = {
    "installed_serial": "SN-NEW-1",
    "installed_model": "KFR-35GW",
    "install_date": "2026-11-20",
    "customer_signature": SIGNATURE,
}


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def installed(world, number: str) -> None:  # noqa: ANN001
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(number, "check_in", "eng1", {"checked_in_at": "2026-11-20T09:00"})


def test_an_installation_goes_straight_to_dispatch(world):
    number = world.open_order(type="installation", serial=None, model="KFR-35GW")
    assert world.open_names(number) == ["accept"]


def test_the_install_report_creates_the_installed_product_with_its_warranty(world):
    number = world.open_order(type="installation", serial=None, model="KFR-35GW")
    installed(world, number)
    world.complete(number, "install_report", "eng1", REPORT)
    with world.factory() as session:
        product = session.scalar(
            sa.select(InstalledProduct).where(InstalledProduct.serial == "SN-NEW-1")
        )
        order = session.scalar(sa.select(ServiceOrder).where(ServiceOrder.number == number))
        assert (product.install_date.isoformat(), product.warranty_end.isoformat()) == (
            "2026-11-20",
            "2032-11-20",
        )
        assert (order.installed_product_id, order.status) == (product.id, "closed")
    assert world.open_names(number) == ["callback"]


def test_an_unknown_model_in_the_report_becomes_an_incident_to_fix_and_retry(world):
    number = world.open_order(type="installation", serial=None, model="KFR-35GW")
    installed(world, number)
    world.complete(number, "install_report", "eng1", {**REPORT, "installed_model": "NOPE-1"})
    with world.factory() as session:
        incident = session.scalar(sa.select(Incident))
        assert "NOPE-1" in incident.message


def test_a_serial_that_belongs_to_another_customer_becomes_an_incident(world):
    with world.factory() as session:
        stranger = create_customer(session, name="路人", phone="13911112222")
        product = session.scalar(
            sa.select(InstalledProduct).where(InstalledProduct.serial == "SN-1")
        )
        product.customer_id = stranger.id
        session.commit()
    number = world.open_order(type="installation", serial=None, model="KFR-35GW")
    installed(world, number)
    world.complete(number, "install_report", "eng1", {**REPORT, "installed_serial": "SN-1"})
    with world.factory() as session:
        assert "another customer" in session.scalar(sa.select(Incident)).message
