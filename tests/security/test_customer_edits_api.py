"""Editing customers through the API: the call center (agents, team leads, administrators)
edits the customers it reads; every change is in the history; anyone else gets 403, and a
customer outside the caller's scope is not found, exactly like no customer."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from aftersales.products.models import InstalledProduct
from tests.ui.pages import World

from .scope_world import PUDONG, TIANHE, customer, deploy, dispatched_order, token


def _product(world: World, serial: str) -> int:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(InstalledProduct.id).where(InstalledProduct.serial == serial)
        )


def test_an_agent_edits_through_the_api_and_reads_the_history(world: World) -> None:
    cid = customer(world, "陈静", "13800138000", PUDONG, serial="SN-API-1")
    client, agent = world.app.test_client(), token(world, "agent")
    answer = client.patch(
        f"/api/v1/customers/{cid}", json={"member_level": "platinum"}, headers=agent
    )
    assert answer.status_code == 200 and answer.json["member_level"] == "platinum"
    answer = client.post(
        f"/api/v1/customers/{cid}/phones",
        json={"phone": "+86 139 0013 9000", "primary": True},
        headers=agent,
    )
    assert answer.status_code == 201
    assert answer.json["phones"][0] == {"phone": "13900139000", "kind": "mobile", "primary": True}
    pid = _product(world, "SN-API-1")
    answer = client.patch(
        f"/api/v1/customers/{cid}/products/{pid}",
        json={"install_date": "2025-03-01"},
        headers=agent,
    )
    assert answer.status_code == 200
    product = answer.json["products"][0]
    assert (product["install_date"], product["warranty_end"]) == (
        "2025-03-01",
        "2028-03-01",
    )  # the demo's 36 months
    changes = client.get(f"/api/v1/customers/{cid}/changes", headers=agent).json["items"]
    assert [(c["field"], c["old"], c["new"], c["by"]) for c in changes] == [
        ("warranty_end", "2031-01-01", "2028-03-01", "agent"),
        ("install_date", None, "2025-03-01", "agent"),
        ("primary_phone", "13800138000", "13900139000", "agent"),
        ("phone", None, "13900139000", "agent"),
        ("member_level", "none", "platinum", "agent"),
    ]


def test_a_refused_edit_answers_422_and_changes_nothing(world: World) -> None:
    cid = customer(world, "陈静", "13800138000", PUDONG, serial="SN-API-2")
    client, lead = world.app.test_client(), token(world, "lead")
    pid = _product(world, "SN-API-2")
    answer = client.patch(
        f"/api/v1/customers/{cid}/products/{pid}",
        json={"purchase_date": "2999-01-01"},
        headers=lead,
    )
    assert answer.status_code == 422 and answer.json["details"] == {"purchase_date": "future"}
    phones = client.get(f"/api/v1/customers/{cid}", headers=lead).json["phones"]
    assert len(phones) == 1
    with world.session_factory() as session:
        product = session.get(InstalledProduct, pid)
        assert product.purchase_date == date(2025, 1, 1)
    assert client.get(f"/api/v1/customers/{cid}/changes", headers=lead).json["items"] == []


def test_only_the_call_center_edits_and_scope_hides_other_customers(world: World) -> None:
    deploy(world)
    pudong = customer(world, "陈静", "13800138000", PUDONG)
    tianhe = customer(world, "李雷", "13700137000", TIANHE)
    dispatched_order(world, pudong)  # now in the Pudong outlet's scope
    client = world.app.test_client()
    outlet = token(world, "outlet")
    assert client.get(f"/api/v1/customers/{pudong}", headers=outlet).status_code == 200
    assert client.get(f"/api/v1/customers/{tianhe}", headers=outlet).status_code == 404
    assert client.get("/api/v1/customers/999999", headers=outlet).status_code == 404
    refused = client.patch(f"/api/v1/customers/{pudong}", json={"name": "X"}, headers=outlet)
    assert refused.status_code == 403
    center = token(world, "center")
    assert (
        client.post(
            f"/api/v1/customers/{pudong}/phones", json={"phone": "13600136000"}, headers=center
        ).status_code
        == 403
    )
    agent = token(world, "agent")
    missing = client.patch("/api/v1/customers/999999", json={"name": "X"}, headers=agent)
    assert missing.status_code == 404
    assert client.get(f"/api/v1/customers/{pudong}", headers=agent).json["name"] == "陈静"
