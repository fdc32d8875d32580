"""A request for a product not yet registered registers it (产生服务请求后, 该故障产品将会自动
保存为安装记录), and a product whose warranty nobody knows is never charged as out of
warranty until a person decides."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from aftersales.orders.models import ServiceOrder
from aftersales.products.models import InstalledProduct
from engine.errors import InvalidInput
from engine.models import ProcessInstance
from tests.aftersales.world import REPORT, build


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def product(world, serial: str) -> InstalledProduct | None:  # noqa: ANN001
    with world.factory() as session:
        return session.scalar(sa.select(InstalledProduct).where(InstalledProduct.serial == serial))


def order(world, number: str) -> ServiceOrder:  # noqa: ANN001
    with world.factory() as session:
        return session.scalar(sa.select(ServiceOrder).where(ServiceOrder.number == number))


def variables(world, number: str) -> dict:  # noqa: ANN001
    with world.factory() as session:
        return session.get(ProcessInstance, order(world, number).process_instance_id).variables


def to_the_visit(world, number: str, **support: object) -> None:  # noqa: ANN001
    """Phone support does not solve it; the outlet accepts, assigns, the engineer checks in."""
    world.complete(number, "phone_support", "agent", {"solved": False, **support})
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(number, "check_in", "eng1", {"checked_in_at": "2026-11-20T10:00"})


def test_an_unknown_serial_registers_the_product_with_the_order(world):
    number = world.open_order(
        serial="SN-NEW-1",
        model="KFR-35GW",
        purchase_date="2024-03-01",
        invoice_number="FP-20240301-88",
    )
    registered = product(world, "SN-NEW-1")
    assert registered is not None and registered.customer_id == world.customer_id
    assert (registered.purchase_date, registered.invoice_number) == (
        date(2024, 3, 1),
        "FP-20240301-88",
    )
    assert registered.warranty_end == date(2030, 3, 1)  # the category's 72 months
    opened = order(world, number)
    assert opened.installed_product_id == registered.id and opened.in_warranty is True
    assert variables(world, number)["in_warranty"] is True


def test_a_purchase_date_without_proof_leaves_the_warranty_unknown(world):
    number = world.open_order(serial="SN-NEW-2", model="KFR-35GW", purchase_date="2024-03-01")
    registered = product(world, "SN-NEW-2")
    assert registered.purchase_date == date(2024, 3, 1) and registered.warranty_end is None
    assert order(world, number).in_warranty is None
    assert variables(world, number)["in_warranty"] is None


def test_a_new_product_needs_a_known_model_and_a_past_date(world):
    with pytest.raises(InvalidInput) as no_model:
        world.open_order(serial="SN-NEW-3")
    assert no_model.value.details == {"model": "required"}
    with pytest.raises(InvalidInput) as unknown:
        world.open_order(serial="SN-NEW-3", model="NO-SUCH")
    assert unknown.value.details == {"model": "unknown"}
    with pytest.raises(InvalidInput) as future:
        world.open_order(serial="SN-NEW-3", model="KFR-35GW", purchase_date="2999-01-01")
    assert future.value.details == {"purchase_date": "future"}
    assert product(world, "SN-NEW-3") is None  # a refused request registers nothing
    with world.factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) == 0


def test_another_customers_serial_is_still_refused(world):
    with world.factory() as session:
        from aftersales.customers.service import create_customer

        other = create_customer(session, name="王磊", phone="13900139000")
        session.commit()
        other_id = other.id
    with pytest.raises(InvalidInput) as refused:
        world.open_order(customer_id=other_id, serial="SN-1")
    assert refused.value.details == {"serial": "unknown"}


def test_unknown_warranty_is_not_charged_until_someone_decides(world):
    number = world.open_order(serial="SN-NEW-4", model="KFR-35GW")  # no date, no invoice
    to_the_visit(world, number)
    assert world.open_names(number) == ["decide_warranty"]  # no fee computed, no work report
    data = variables(world, number)
    assert "visit_fee" not in data and "service_fee" not in data
    decision = world.task(number, "decide_warranty")
    assert decision.candidate_group == "centers"


def test_a_decided_out_of_warranty_is_charged(world):
    number = world.open_order(serial="SN-NEW-5", model="KFR-35GW")
    to_the_visit(world, number)
    world.complete(
        number,
        "decide_warranty",
        "center",
        {"warranty_decision": "out_of_warranty", "warranty_note": "无发票"},
    )
    assert order(world, number).in_warranty is False
    world.complete(number, "work_report", "eng1", REPORT)
    assert variables(world, number)["service_fee"] == 150  # refrigeration out of warranty


def test_a_decided_in_warranty_is_free(world):
    number = world.open_order(serial="", model="KFR-35GW")  # no serial at all: unknown too
    to_the_visit(world, number)
    world.complete(number, "decide_warranty", "center", {"warranty_decision": "in_warranty"})
    assert variables(world, number)["visit_fee"] == 0  # the visit is free
    world.complete(number, "work_report", "eng1", {**REPORT, "visit_fee": 0})
    assert variables(world, number)["service_fee"] == 0
    assert order(world, number).in_warranty is True


def test_the_agent_may_decide_on_the_phone_and_the_center_is_not_asked(world):
    number = world.open_order(serial="SN-NEW-6", model="KFR-35GW", purchase_date="2020-01-01")
    to_the_visit(world, number, warranty_decision="out_of_warranty")
    assert world.open_names(number) == ["work_report"]
    assert order(world, number).in_warranty is False


def test_a_known_warranty_needs_no_decision(world):
    number = world.open_order()  # SN-1, in warranty until 2031
    to_the_visit(world, number, warranty_decision="out_of_warranty")  # ignored: it is known
    assert world.open_names(number) == ["work_report"]
    assert order(world, number).in_warranty is True
