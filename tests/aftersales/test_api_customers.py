"""GET /api/v1/customers: the caller lookup as telephony and mobile apps call it."""

from __future__ import annotations

from aftersales.customers import create_customer


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
