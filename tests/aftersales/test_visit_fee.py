"""The visit fee follows the fee standard's distance bands (bpmn/visit_fee.dmn): the repair
process measures how far the outlet is from the site after dispatch and prices the visit
before the engineer's work report, which shows the fee pre-filled."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from aftersales.customers.models import CustomerAddress
from aftersales.dispatch.geo import distance_km
from aftersales.orders.models import ServiceOrder
from aftersales.outlets.models import OutletProfile
from engine.models import OrgUnit, ProcessInstance
from tests.aftersales.world import REPORT, build

OUTLET = (31.2215, 121.5447)  # Pudong
NEARBY = (31.2400, 121.5000)  # about 5 km away
FAR = (30.2599, 120.1300)  # Hangzhou, about 170 km away


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    world = build(session_factory)
    with world.factory() as session:
        for profile in session.scalars(sa.select(OutletProfile)):
            profile.latitude, profile.longitude = OUTLET
        session.commit()
    return world


def place_site(world, coordinates: tuple[float, float] | None) -> None:  # noqa: ANN001
    with world.factory() as session:
        address = session.scalar(
            sa.select(CustomerAddress).where(CustomerAddress.customer_id == world.customer_id)
        )
        address.latitude, address.longitude = coordinates or (None, None)
        session.commit()


def until_work_report(world, serial: str, check_in: dict | None = None) -> str:  # noqa: ANN001
    number = world.open_order(serial=serial)
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(
        number, "check_in", "eng1", {"checked_in_at": "2026-11-20T10:00", **(check_in or {})}
    )
    assert world.open_names(number) == ["work_report"]
    return number


def variables(world, number: str) -> dict:  # noqa: ANN001
    with world.factory() as session:
        return session.scalar(
            sa.select(ProcessInstance.variables)
            .join(ServiceOrder, ServiceOrder.process_instance_id == ProcessInstance.id)
            .where(ServiceOrder.number == number)
        )


def distance_of(world, number: str) -> float | None:  # noqa: ANN001
    with world.factory() as session:
        return session.scalar(
            sa.select(ServiceOrder.distance_km).where(ServiceOrder.number == number)
        )


def test_the_distance_between_two_cities_is_the_great_circle_one():
    assert distance_km(31.2304, 121.4737, 30.2741, 120.1551) == pytest.approx(164, abs=3)


def test_a_nearby_site_out_of_warranty_pays_the_nearest_band(world):
    place_site(world, NEARBY)
    number = until_work_report(world, "SN-OLD")
    data = variables(world, number)
    assert (data["visit_fee"], data["distance_band"]) == (30, "0-10")
    assert distance_of(world, number) == pytest.approx(4.7, abs=0.5)


def test_a_far_site_out_of_warranty_pays_the_far_band(world):
    place_site(world, FAR)
    number = until_work_report(world, "SN-OLD")
    data = variables(world, number)
    assert (data["visit_fee"], data["distance_band"]) == (120, "60+")


def test_a_product_in_warranty_pays_no_visit_fee_however_far(world):
    place_site(world, FAR)
    number = until_work_report(world, "SN-1")
    data = variables(world, number)
    assert (data["visit_fee"], data["distance_band"]) == (0, "60+")


def test_an_unmeasured_distance_is_charged_as_the_standard_band(world):
    place_site(world, None)
    number = until_work_report(world, "SN-OLD")
    data = variables(world, number)
    assert (data["visit_fee"], data["distance_band"]) == (50, "unknown")
    assert distance_of(world, number) is None


def test_a_check_in_location_measures_the_distance_and_is_kept_on_the_address(world):
    place_site(world, None)
    number = until_work_report(world, "SN-OLD", {"latitude": NEARBY[0], "longitude": NEARBY[1]})
    assert variables(world, number)["distance_band"] == "0-10"
    with world.factory() as session:
        address = session.scalar(
            sa.select(CustomerAddress).where(CustomerAddress.customer_id == world.customer_id)
        )
        assert (address.latitude, address.longitude) == NEARBY


def test_the_address_on_record_wins_over_a_check_in_elsewhere(world):
    place_site(world, NEARBY)
    number = until_work_report(world, "SN-OLD", {"latitude": FAR[0], "longitude": FAR[1]})
    assert variables(world, number)["distance_band"] == "0-10"


def test_an_outlet_without_coordinates_leaves_the_distance_unmeasured(world):
    place_site(world, NEARBY)
    with world.factory() as session:
        outlet = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "O1"))
        session.get(OutletProfile, outlet.id).latitude = None
        session.commit()
    number = until_work_report(world, "SN-OLD")
    assert variables(world, number)["distance_band"] == "unknown"


def test_the_engineer_may_change_the_pre_filled_fee_in_the_report(world):
    place_site(world, NEARBY)
    number = until_work_report(world, "SN-OLD")
    world.complete(number, "work_report", "eng1", {**REPORT, "visit_fee": 0})
    assert variables(world, number)["visit_fee"] == 0
