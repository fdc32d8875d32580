"""Customer data follows scope: the call center and HQ read every customer; a center or an
outlet reads a customer only while one of the customer's orders is in its scope; an outlet's
hotline finds a caller by the exact phone number (contact and products, none of other units'
orders). Registering a customer is the call center's, and an outlet's only with the order it
opens. Asked through the pages and the API as each role."""

from __future__ import annotations

import re

from aftersales.customers.models import Customer
from aftersales.orders.models import ServiceOrder
from engine.models import ProcessInstance
from tests.helpers import redeploy_type
from tests.ui.pages import World, post, text

from .scope_world import (
    PUDONG,
    TIANHE,
    count,
    customer,
    deploy,
    dispatched_order,
    let_outlets_open_repairs,
    refused,
    token,
    unit_of,
)

PHONE = "13800138000"


def _pudong_caller_with_an_order(world: World) -> tuple[int, str]:
    deploy(world)
    cid = customer(world, "陈静", PHONE, PUDONG, serial="SN-PD-1")
    number = dispatched_order(world, cid)
    assert unit_of(world, number) == "O-SH-PD"
    return cid, number


def test_the_call_center_reads_a_customer_who_has_no_order(world: World) -> None:
    cid = customer(world, "陈静", PHONE, PUDONG)
    page = text(world.client("agent").get(f"/customers/{cid}"))
    assert "陈静" in page and "世纪大道 1 号" in page


def test_an_outlet_reads_a_customer_while_one_of_their_orders_is_in_its_scope(
    world: World,
) -> None:
    cid, number = _pudong_caller_with_an_order(world)
    page = text(world.client("outlet").get(f"/customers/{cid}"))
    assert "陈静" in page and f'data-order="{number}"' in page


def test_another_outlet_gets_404_for_the_customer_exactly_as_for_no_customer(
    world: World,
) -> None:
    cid, _ = _pudong_caller_with_an_order(world)
    client = world.client("outlet2")
    hidden, missing = client.get(f"/customers/{cid}"), client.get("/customers/999999")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert "陈静" not in text(hidden)


def test_a_center_reads_the_customers_of_its_outlets_and_not_another_centers(
    world: World,
) -> None:
    cid, _ = _pudong_caller_with_an_order(world)
    assert world.client("center").get(f"/customers/{cid}").status_code == 200
    assert world.client("center-south").get(f"/customers/{cid}").status_code == 404


def test_an_engineer_of_another_outlet_cannot_open_the_customer(world: World) -> None:
    cid, _ = _pudong_caller_with_an_order(world)
    assert world.client("eng-gz-th-1").get(f"/customers/{cid}").status_code == 404


def test_a_customer_page_lists_only_the_orders_in_the_viewers_scope(world: World) -> None:
    cid, kept = _pudong_caller_with_an_order(world)
    moved = dispatched_order(world, cid, "冰箱不制冷")
    assert refused(world, moved, "outlet") == "O-SH-MH"  # the next outlet serving Pudong
    pudong = text(world.client("outlet").get(f"/customers/{cid}"))
    assert f'data-order="{kept}"' in pudong and moved not in pudong
    minhang = text(world.client("mgr-sh-mh").get(f"/customers/{cid}"))
    assert f'data-order="{moved}"' in minhang and kept not in minhang
    everything = text(world.client("agent").get(f"/customers/{cid}"))
    assert kept in everything and moved in everything


def test_an_outlets_hotline_finds_any_caller_by_the_exact_phone_without_their_orders(
    world: World,
) -> None:
    cid, number = _pudong_caller_with_an_order(world)
    page = text(world.client("outlet2").get(f"/calls/incoming?phone={PHONE}"))
    assert f'data-customer="{cid}"' in page
    assert "陈静" in page and "世纪大道 1 号" in page and 'data-product="SN-PD-1"' in page
    assert number not in page and 'data-open-orders="0"' in page
    assert f'href="/customers/{cid}"' not in page  # the customer page stays closed to them
    assert "data-new-customer" not in page


def test_the_hotline_finds_the_caller_by_the_number_written_any_way(world: World) -> None:
    cid, _ = _pudong_caller_with_an_order(world)
    page = text(world.client("outlet2").get("/calls/incoming?phone=%2B86%20138%200013%208000"))
    assert f'data-customer="{cid}"' in page


def test_a_partial_number_finds_nobody_outside_the_scope(world: World) -> None:
    cid, _ = _pudong_caller_with_an_order(world)
    page = text(world.client("outlet2").get("/calls/incoming?phone=1380013"))
    assert f'data-customer="{cid}"' not in page
    picked = world.client("outlet2").get("/pickers/customer?field=q&q=1380013")
    assert "陈静" not in picked.get_data(as_text=True)


def test_an_engineer_finds_no_caller_by_phone_outside_the_scope(world: World) -> None:
    cid, _ = _pudong_caller_with_an_order(world)
    page = text(world.client("eng-gz-th-1").get(f"/calls/incoming?phone={PHONE}"))
    assert f'data-customer="{cid}"' not in page and "陈静" not in page
    assert "data-new-customer" not in page  # nor may they register the caller


def test_a_barcode_outside_the_scope_finds_nobody(world: World) -> None:
    _pudong_caller_with_an_order(world)
    page = text(world.client("outlet2").get("/calls/incoming?serial=SN-PD-1"))
    assert "data-unknown-serial" in page and "陈静" not in page
    page = text(world.client("outlet").get("/calls/incoming?serial=SN-PD-1"))
    assert "陈静" in page


def test_the_api_lookup_answers_each_role_its_view_of_the_caller(world: World) -> None:
    cid, number = _pudong_caller_with_an_order(world)
    client = world.app.test_client()

    def items(username: str) -> list[dict]:
        response = client.get(f"/api/v1/customers?phone={PHONE}", headers=token(world, username))
        assert response.status_code == 200
        return response.get_json()["items"]

    [full] = items("agent")
    assert [o["number"] for o in full["orders"]] == [number]
    [hotline] = items("outlet2")
    assert hotline["id"] == cid and hotline["orders"] == []
    assert [p["serial"] for p in hotline["products"]] == ["SN-PD-1"]
    assert items("center-south") == [] and items("eng-gz-th-1") == []
    assert [o["number"] for o in items("center")[0]["orders"]] == [number]


def test_the_api_serial_lookup_outside_the_scope_answers_no_items(world: World) -> None:
    _pudong_caller_with_an_order(world)
    response = world.app.test_client().get(
        "/api/v1/customers?serial=SN-PD-1", headers=token(world, "outlet2")
    )
    assert response.get_json() == {"items": []}


def test_an_outlet_opens_an_order_for_a_caller_found_on_its_hotline(world: World) -> None:
    cid, first = _pudong_caller_with_an_order(world)
    let_outlets_open_repairs(world)
    client = world.client("outlet2")
    response = post(
        client,
        "/calls/orders",
        {"customer_id": str(cid), "type": "repair", "description": "漏水", "lookup_phone": PHONE},
    )
    assert response.status_code == 302, text(response)
    number = re.fullmatch(r"/orders/(\w+)", response.headers["Location"]).group(1)
    assert unit_of(world, number) == "O-GZ-TH"  # the outlet's own order
    page = text(client.get(f"/customers/{cid}"))  # in its scope now, with its order only
    assert f'data-order="{number}"' in page and first not in page


def test_an_order_for_an_out_of_scope_customer_id_without_its_phone_is_not_found(
    world: World,
) -> None:
    cid, _ = _pudong_caller_with_an_order(world)
    let_outlets_open_repairs(world)
    client = world.client("outlet2")
    before = count(world, ServiceOrder)
    body = {"customer_id": str(cid), "type": "repair", "description": "漏水"}
    assert post(client, "/calls/orders", body).status_code == 404
    wrong = {**body, "lookup_phone": "13900000000"}
    assert post(client, "/calls/orders", wrong).status_code == 404
    assert count(world, ServiceOrder) == before


def test_the_api_refuses_an_out_of_scope_customer_id_like_an_unknown_one(world: World) -> None:
    cid, _ = _pudong_caller_with_an_order(world)
    let_outlets_open_repairs(world)
    client, headers = world.app.test_client(), token(world, "outlet2")
    before = count(world, ServiceOrder)
    answers = [
        client.post("/api/v1/orders", headers=headers, json={"type": "repair", "customer_id": i})
        for i in (cid, 999999)
    ]
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].get_json()["details"] == answers[1].get_json()["details"]
    assert count(world, ServiceOrder) == before


def test_the_call_center_registers_a_new_caller(world: World) -> None:
    before = count(world, Customer)
    response = post(
        world.client("agent"),
        "/calls/customers",
        {"name": "孙悦", "phone": "13912345678", **PUDONG, "lookup_phone": "13912345678"},
    )
    assert response.status_code == 302
    assert count(world, Customer) == before + 1


def test_an_engineer_a_center_and_a_manager_may_not_register_a_customer(world: World) -> None:
    before = count(world, Customer)
    for username in ("engineer", "center", "manager"):
        response = post(
            world.client(username),
            "/calls/customers",
            {"name": "孙悦", "phone": "13912345678", **PUDONG},
        )
        assert response.status_code == 403, username
        assert "孙悦" not in text(response)
    assert count(world, Customer) == before


def test_the_api_refuses_a_new_caller_from_an_engineer(world: World) -> None:
    deploy(world)
    before = (count(world, Customer), count(world, ServiceOrder))
    response = world.app.test_client().post(
        "/api/v1/orders",
        headers=token(world, "engineer"),
        json={
            "type": "repair",
            "customer": {"name": "孙悦", "phone": "13912345678", "address": PUDONG},
        },
    )
    assert response.status_code == 403
    assert (count(world, Customer), count(world, ServiceOrder)) == before


def test_an_outlet_registers_a_new_caller_only_with_the_order_it_opens(world: World) -> None:
    deploy(world)
    let_outlets_open_repairs(world)
    client = world.client("outlet2")
    page = text(client.get("/calls/incoming?phone=13912345678"))
    assert "data-new-customer" in page and 'name="type"' in page
    caller = {"name": "孙悦", "phone": "13912345678", **TIANHE, "lookup_phone": "13912345678"}
    before = (count(world, Customer), count(world, ProcessInstance))
    alone = post(client, "/calls/customers", caller)  # no order: nothing is registered
    assert alone.status_code == 422
    assert (count(world, Customer), count(world, ProcessInstance)) == before
    response = post(client, "/calls/customers", {**caller, "type": "repair", "description": "漏水"})
    assert response.status_code == 302, text(response)
    number = re.fullmatch(r"/orders/(\w+)", response.headers["Location"]).group(1)
    assert unit_of(world, number) == "O-GZ-TH"
    assert count(world, Customer) == before[0] + 1


def test_an_outlet_that_may_not_open_the_order_registers_no_caller(world: World) -> None:
    deploy(world)
    # the outlet's hotline may not open repairs
    redeploy_type(world.session_factory, "repair", open={"roles": ["agent"], "groups": []})
    before = count(world, Customer)
    caller = {"name": "孙悦", "phone": "13912345678", **TIANHE, "type": "repair"}
    assert post(world.client("outlet2"), "/calls/customers", caller).status_code == 403
    assert count(world, Customer) == before
