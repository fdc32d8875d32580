"""Caller lookup: a phone or a barcode finds the customer with products, warranty and orders."""

from __future__ import annotations

from datetime import date

import pytest

from aftersales.customers.service import create_customer, lookup, normalize_phone, search
from aftersales.orders.models import ServiceOrder
from aftersales.products.models import InstalledProduct, ProductCategory, ProductModel
from aftersales.products.service import add_months, warranty_end
from engine.errors import InvalidInput
from engine.identity import Actor

TODAY = date(2026, 11, 23)
AGENT = Actor("agent", roles=frozenset({"agent"}))  # the call center: every customer


@pytest.fixture
def chen(session):  # noqa: ANN001, ANN201
    aircon = ProductCategory(
        code="AC", name_zh="空调", name_en="Air conditioner", warranty_months=72
    )
    model = ProductModel(code="KFR-35GW", name="壁挂式空调 1.5 匹", category=aircon)
    customer = create_customer(
        session,
        name="陈静",
        phone="138 0013 8000",
        address={
            "province": "上海市",
            "city": "上海市",
            "district": "浦东新区",
            "street": "世纪大道 100 号",
        },
    )
    session.add_all(
        [
            InstalledProduct(
                customer=customer,
                model=model,
                serial="SN-AC-0001",
                purchase_date=date(2021, 1, 10),
                install_date=date(2021, 1, 12),
                warranty_end=date(2027, 1, 12),
            ),
            InstalledProduct(
                customer=customer,
                model=model,
                serial="SN-AC-0002",
                purchase_date=date(2015, 5, 1),
                install_date=None,
                warranty_end=date(2021, 5, 1),
            ),
            ServiceOrder(
                number="R-1",
                type="repair",
                status="accepted",
                customer=customer,
                description="不制冷",
            ),
            ServiceOrder(
                number="R-0", type="installation", status="closed", is_open=False, customer=customer
            ),
        ]
    )
    session.commit()
    return customer


def test_a_known_phone_finds_the_customer_with_products_and_orders(session, chen):
    [found] = lookup(session, AGENT, phone="13800138000", today=TODAY)
    assert (found["name"], found["phones"][0]["phone"]) == ("陈静", "13800138000")
    assert {p["serial"]: p["in_warranty"] for p in found["products"]} == {
        "SN-AC-0001": True,
        "SN-AC-0002": False,
    }
    assert {o["number"] for o in found["orders"]} == {"R-1", "R-0"}
    assert found["open_orders"] == 1


def test_a_phone_with_spaces_or_country_code_is_the_same_number(session, chen):
    assert normalize_phone("+86 138-0013-8000".replace("-", " ")) == "13800138000"
    assert len(lookup(session, AGENT, phone="+86 138 0013 8000")) == 1


def test_an_unknown_phone_finds_nobody(session, chen):
    assert lookup(session, AGENT, phone="13900000000") == []


def test_a_barcode_finds_its_owner(session, chen):
    [found] = lookup(session, AGENT, serial="SN-AC-0002", today=TODAY)
    assert found["id"] == chen.id


def test_an_unknown_barcode_finds_nobody(session, chen):
    assert lookup(session, AGENT, serial="SN-NOPE") == []


def test_a_new_caller_needs_a_valid_phone(session):
    with pytest.raises(InvalidInput) as raised:
        create_customer(session, name="杨磊", phone="12345")
    assert raised.value.details == {"phone": "invalid"}


def test_a_new_callers_address_needs_its_district(session):
    with pytest.raises(InvalidInput) as raised:
        create_customer(
            session,
            name="杨磊",
            phone="13900001111",
            address={"province": "广东省", "city": "广州市"},
        )
    assert raised.value.details == {"address.district": "required"}


def test_pickers_search_by_phone_prefix_or_name(session, chen):
    assert [c.name for c in search(session, AGENT, "1380013")] == ["陈静"]
    assert [c.name for c in search(session, AGENT, "陈")] == ["陈静"]
    assert search(session, AGENT, "%") == []


def test_warranty_runs_from_installation_and_keeps_month_ends():
    model = ProductModel(code="X", name="x", warranty_months=12)
    assert warranty_end(model, date(2024, 1, 5), date(2024, 1, 31)) == date(2025, 1, 31)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_a_country_code_whose_plus_a_url_lost_still_finds_the_caller(session, chen):
    assert len(lookup(session, AGENT, phone=" 8613800138000")) == 1


@pytest.mark.parametrize(
    "typed", ["021-6488 1234", "(021)64881234", "+86 21 6488 1234", "0086-21-64881234"]
)
def test_a_landline_is_stored_and_found_however_it_is_written(session, typed):
    created = create_customer(session, name="王芳", phone="（021）6488-1234")
    session.commit()
    assert [p.phone for p in created.phones] == ["02164881234"]
    assert [c["id"] for c in lookup(session, AGENT, phone=typed)] == [created.id]


@pytest.mark.parametrize(
    "typed", ["+86 138 0013 8000", "0086-13800138000", "138-0013-8000", "(138) 0013 8000"]
)
def test_a_mobile_number_with_country_code_or_separators_finds_the_caller(session, chen, typed):
    assert [c["id"] for c in lookup(session, AGENT, phone=typed)] == [chen.id]


def test_a_new_callers_phone_is_stored_in_its_canonical_form(session):
    customer = create_customer(session, name="杨磊", phone="0086 139-0000-1111")
    assert customer.phones[0].phone == "13900001111"


@pytest.mark.parametrize("phone", ["1390000abcd", "139000", "021-648"])
def test_letters_or_too_few_digits_are_refused_on_the_phone_field(session, phone):
    with pytest.raises(InvalidInput) as raised:
        create_customer(session, name="杨磊", phone=phone)
    assert raised.value.details == {"phone": "invalid"}


def test_pickers_find_a_landline_by_a_prefix_written_with_its_dash(session):
    create_customer(session, name="王芳", phone="021-6488 1234")
    session.commit()
    assert [c.name for c in search(session, AGENT, "021-6488")] == ["王芳"]
