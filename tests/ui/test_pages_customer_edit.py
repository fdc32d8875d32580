"""The call center edits a customer and their products on the customer's edit page; every
change shows in the history on the customer page (who, when, which field, before, after)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from aftersales.customers.models import Customer, CustomerChange
from aftersales.products.models import InstalledProduct

from . import pages
from .pages import World, field_block, flashes, post, text
from .test_pages_calls import _customer

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def _history(page: str) -> str:
    return page[page.index("data-changes") :]


def _product_id(world: World, serial: str) -> int:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(InstalledProduct.id).where(InstalledProduct.serial == serial)
        )


def _changes(world: World, cid: int) -> list[tuple[str, str | None, str | None, str]]:
    with world.session_factory() as session:
        return [
            (c.field, c.old_value, c.new_value, c.changed_by)
            for c in session.scalars(
                sa.select(CustomerChange)
                .where(CustomerChange.customer_id == cid)
                .order_by(CustomerChange.id)
            )
        ]


def test_an_agent_renames_a_customer_and_the_history_says_who_changed_what(world: World):
    cid = _customer(world)
    client = world.client("agent")
    page = text(client.get(f"/customers/{cid}"))
    assert "data-edit-link" in page and "data-no-changes" in page
    response = post(client, f"/customers/{cid}/edit", {"name": "陈静怡", "member_level": "gold"})
    assert response.status_code == 302
    assert _changes(world, cid) == [
        ("name", "陈静", "陈静怡", "agent"),
        ("member_level", "none", "gold", "agent"),
    ]
    history = _history(text(client.get(f"/customers/{cid}")))
    assert "客户姓名" in history and "陈静" in history and "陈静怡" in history
    assert "会员等级" in history and "普通" in history and "金卡" in history
    assert "agent" in history


def test_phones_are_added_made_primary_and_removed_but_one_stays(world: World):
    cid = _customer(world)
    client = world.client("lead")
    response = post(client, f"/customers/{cid}/phones", {"phone": "021-6488 1234"})
    assert response.status_code == 302
    with world.session_factory() as session:
        phones = {p.phone: p for p in session.get(Customer, cid).phones}
    assert set(phones) == {"13800138000", "02164881234"}  # stored in its canonical form
    landline = phones["02164881234"]
    assert landline.kind == "landline" and not landline.is_primary
    post(client, f"/customers/{cid}/phones", {"action": "primary", "phone_id": landline.id})
    post(
        client,
        f"/customers/{cid}/phones",
        {"action": "remove", "phone_id": phones["13800138000"].id},
    )
    with world.session_factory() as session:
        left = session.get(Customer, cid).phones
        assert [(p.phone, p.is_primary) for p in left] == [("02164881234", True)]
    response = post(
        client, f"/customers/{cid}/phones", {"action": "remove", "phone_id": left[0].id}
    )
    assert response.status_code == 422
    assert "客户至少要保留一个电话。" in text(response)
    fields = [f for f, *_ in _changes(world, cid)]
    assert fields == ["phone", "primary_phone", "phone"]


def test_a_bad_phone_is_refused_with_the_reason_and_nothing_changes(world: World):
    cid = _customer(world)
    client = world.client("agent")
    response = post(client, f"/customers/{cid}/phones", {"phone": "12345"})
    assert response.status_code == 422
    assert "号码太短" in text(response)
    assert _changes(world, cid) == []


def test_addresses_are_added_changed_and_made_primary(world: World):
    cid = _customer(world)
    client = world.client("agent")
    address = {
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "street": "文三路 9 号",
    }
    assert post(client, f"/customers/{cid}/addresses", address).status_code == 302
    with world.session_factory() as session:
        added = [a for a in session.get(Customer, cid).addresses if a.city == "杭州市"][0]
    post(
        client,
        f"/customers/{cid}/addresses",
        {"action": "save", "address_id": added.id, **address, "street": "文三路 10"},
    )
    post(client, f"/customers/{cid}/addresses", {"action": "primary", "address_id": added.id})
    with world.session_factory() as session:
        primary = session.get(Customer, cid).addresses[0]
        assert (primary.street, primary.is_primary) == ("文三路 10", True)
    response = post(client, f"/customers/{cid}/addresses", {"province": "浙江省"})
    assert response.status_code == 422 and "必填" in text(response)
    assert [f for f, *_ in _changes(world, cid)] == ["address", "address", "primary_address"]


def test_a_products_purchase_date_recomputes_its_warranty_end(world: World):
    cid = _customer(world, products=[("SN-EDIT", date(2023, 1, 1))])
    pid = _product_id(world, "SN-EDIT")
    client = world.client("agent")
    response = post(
        client,
        f"/customers/{cid}/products/{pid}",
        {"model": "KFR-35GW", "serial": "SN-EDIT-2", "purchase_date": "2025-02-10"},
    )
    assert response.status_code == 302
    with world.session_factory() as session:
        product = session.get(InstalledProduct, pid)
        # the category of this world's model gives 36 months
        assert (product.serial, product.warranty_end) == ("SN-EDIT-2", date(2028, 2, 10))
    assert [(f, o, n) for f, o, n, _ in _changes(world, cid)] == [
        ("serial", "SN-EDIT", "SN-EDIT-2"),
        ("purchase_date", "2020-01-01", "2025-02-10"),
        ("warranty_end", "2023-01-01", "2028-02-10"),
    ]
    history = _history(text(client.get(f"/customers/{cid}")))
    assert "保修截止" in history and "2028-02-10" in history


def test_a_serial_another_product_has_is_refused(world: World):
    cid = _customer(world, products=[("SN-A", date(2030, 1, 1)), ("SN-B", date(2030, 1, 1))])
    client = world.client("agent")
    response = post(
        client, f"/customers/{cid}/products/{_product_id(world, 'SN-A')}", {"serial": "SN-B"}
    )
    assert response.status_code == 422
    assert 'class="field-error"' in field_block(text(response), "serial")
    assert _changes(world, cid) == []


def test_values_with_markup_show_as_text(world: World):
    cid = _customer(world)
    client = world.client("agent")
    post(client, f"/customers/{cid}/edit", {"name": "<script>alert(1)</script>"})
    page = text(client.get(f"/customers/{cid}"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _history(page)


def test_only_the_call_center_edits_and_an_unknown_customer_is_not_found(world: World):
    cid = _customer(world)
    outlet = world.client("outlet")
    assert outlet.get(f"/customers/{cid}/edit").status_code in (403, 404)
    assert post(outlet, f"/customers/{cid}/edit", {"name": "X"}).status_code == 403
    center = world.client("center")
    assert post(center, f"/customers/{cid}/edit", {"name": "X"}).status_code == 403
    agent = world.client("agent")
    assert agent.get("/customers/999999/edit").status_code == 404
    assert post(agent, "/customers/999999/edit", {"name": "X"}).status_code == 404
    assert _changes(world, cid) == []
    page = text(agent.get(f"/customers/{cid}/edit"))
    assert "编辑客户" in page and 'name="member_level"' in page
    assert "保存成功" not in flashes(page)
