"""GET /api/v1/customers: the caller lookup as telephony and mobile apps call it."""

from __future__ import annotations

from urllib.parse import quote

from aftersales.customers.service import create_customer
from tests.environment import REPAIR_FILES


def test_lookup_by_phone_answers_the_customer(api):
    with api.env.session_factory() as session:
        create_customer(session, name="陈静", phone="13800138000")
        session.commit()
    body = api.get("/customers?phone=13800138000", "agent").get_json()
    assert [c["name"] for c in body["items"]] == ["陈静"]


def test_an_unknown_phone_answers_no_items(api):
    response = api.get("/customers?phone=13900000000", "agent")
    assert (response.status_code, response.get_json()) == (200, {"items": []})


def test_a_lookup_without_phone_or_serial_is_invalid(api):
    assert api.get("/customers", "agent").status_code == 422


def test_a_lookup_without_a_token_is_unauthorized(api):
    assert api.client.get("/api/v1/customers?phone=1").status_code == 401


def test_an_order_for_a_new_caller_creates_both_and_starts_its_process(api):
    api.deploy_paths(*REPAIR_FILES, "forms/phone_support.form.json")
    response = api.post(
        "/orders",
        "agent",
        json={
            "type": "repair",
            "customer": {
                "name": "杨磊",
                "phone": "13900001111",
                "address": {"province": "广东省", "city": "广州市", "district": "天河区"},
            },
            "description": "洗衣机漏水",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"].startswith("R") and body["current_activities"] == ["phone_support"]
    again = api.get(f"/orders/{body['number']}", "agent").get_json()
    assert again["customer"]["name"] == "杨磊"
    assert [e["command"] for e in again["timeline"]] == ["start"]


def test_an_order_with_a_bad_phone_is_refused_and_creates_nothing(api):
    api.deploy_paths(*REPAIR_FILES)
    response = api.post(
        "/orders",
        "agent",
        json={"type": "repair", "customer": {"name": "杨磊", "phone": "123"}},
    )
    assert response.status_code == 422
    assert api.get("/customers?phone=123", "agent").get_json()["items"] == []


def test_an_unknown_order_number_answers_404(api):
    assert api.get("/orders/R20260101000001", "agent").status_code == 404


def test_an_order_of_an_unknown_type_is_invalid(api):
    response = api.post("/orders", "agent", json={"type": "magic", "customer_id": 1})
    assert response.status_code == 422


def test_a_lookup_finds_the_caller_however_the_number_is_written(api):
    with api.env.session_factory() as session:
        create_customer(session, name="王芳", phone="021-6488 1234")
        session.commit()
    for written in ("02164881234", "(021)64881234", "+86 21 6488 1234", "0086-21-64881234"):
        body = api.get(f"/customers?phone={quote(written)}", "agent").get_json()
        assert [c["phones"][0]["phone"] for c in body["items"]] == ["02164881234"], written


def test_a_new_callers_phone_in_an_order_is_stored_canonical(api):
    api.deploy_paths(*REPAIR_FILES)
    response = api.post(
        "/orders",
        "agent",
        json={
            "type": "repair",
            "customer": {
                "name": "杨磊",
                "phone": "+86 139 0000 1111",
                "address": {"province": "广东省", "city": "广州市", "district": "天河区"},
            },
            "description": "洗衣机漏水",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = api.get("/customers?phone=13900001111", "agent").get_json()
    assert [c["name"] for c in body["items"]] == ["杨磊"]
