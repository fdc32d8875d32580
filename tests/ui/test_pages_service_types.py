"""The designer's pages for service types, and the caller page that offers them: a type saved
in the browser is checked like a deployed file, versioned, and offered to agents at once with
its own start form."""

from __future__ import annotations

import re

import sqlalchemy as sa

from aftersales.customers.service import create_customer
from aftersales.orders.models import ServiceOrder, ServiceType
from engine.models import ProcessInstance

from . import pages
from .pages import World, field_block, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

PHONE = "13912340000"
ADDRESS = {
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "street": "世纪大道 9 号",
}
REPAIR_STATUSES = [
    ("received", "已受理", "Received", False),
    ("dispatched", "已派工", "Dispatched", False),
    ("accepted", "已接单", "Accepted", False),
    ("on_site", "已上门", "On site", False),
    ("reviewing", "审核中", "In review", False),
    ("closed", "已关闭", "Closed", True),
]


def type_form(key: str, name: str, prefix: str, statuses=REPAIR_STATUSES, **more) -> dict:  # noqa: ANN001, ANN003
    form = {
        "original_key": "",
        "key": key,
        "name_zh": name,
        "name_en": "Warranty repair",
        "prefix": prefix,
        "process": "repair",
        "start_form": "repair_request",
        "open_roles": ["agent", "team_lead"],
        "open_groups": "",
        "customer": "required",
        "product": "optional",
        "callback": "repair",
        "status_rows": str(len(statuses)),
        **more,
    }
    for i, (status, zh, en, final) in enumerate(statuses):
        form.update({f"status-{i}-key": status, f"status-{i}-zh": zh, f"status-{i}-en": en})
        if final:
            form[f"status-{i}-final"] = "1"
    return form


def versions(world: World, key: str) -> list[int]:
    with world.session_factory() as session:
        return list(
            session.scalars(
                sa.select(ServiceType.version)
                .where(ServiceType.key == key)
                .order_by(ServiceType.version)
            )
        )


def save(world: World, form: dict):  # noqa: ANN201
    return post(world.client("designer"), "/admin/service-types", form)


def caller(world: World) -> int:
    with world.session_factory() as session:
        customer = create_customer(session, name="郑爽", phone=PHONE, address=ADDRESS)
        session.commit()
        return customer.id


def test_the_designer_lists_every_type_by_name(world: World) -> None:
    page = text(world.client("designer").get("/admin/service-types"))
    for key, name in (("repair", "维修单"), ("installation", "安装单"), ("praise", "赞誉单")):
        row = page[page.index(f'data-type="{key}"') :]
        assert name in row[: row.index("</tr>")]


def test_an_agent_may_not_open_the_designers_pages(world: World) -> None:
    client = world.client("agent")
    assert client.get("/admin/service-types").status_code == 403
    assert post(client, "/admin/service-types", type_form("x", "x", "X")).status_code == 403


def test_a_type_saved_in_the_browser_is_offered_on_the_caller_page_at_once(world: World) -> None:
    designer = world.client("designer")
    response = post(
        designer, "/admin/service-types", type_form("warranty_repair", "保内维修单", "WR")
    )
    assert response.status_code == 302, text(response)
    assert response.headers["Location"].endswith("/admin/service-types/warranty_repair")
    assert versions(world, "warranty_repair") == [1]
    caller(world)
    page = text(world.client("agent").get(f"/calls/incoming?phone={PHONE}"))
    assert re.search(r'<option value="warranty_repair"[^>]*>保内维修单</option>', page)
    block = page[page.index('data-start-form="warranty_repair"') :]
    assert 'name="warranty_repair.urgency"' in block[: block.index("</fieldset>")]


def test_a_saved_change_is_a_new_version_and_an_unchanged_save_is_none(world: World) -> None:
    designer = world.client("designer")
    form = type_form("repair", "报修单", "R", original_key="repair")
    assert post(designer, "/admin/service-types", form).status_code == 302
    assert post(designer, "/admin/service-types", form).status_code == 302
    assert versions(world, "repair") == [1, 2]
    page = text(designer.get("/admin/service-types/repair"))
    assert 'data-version="2"' in page and 'data-version="1"' in page
    assert 'value="报修单"' in page


def test_a_status_the_process_names_must_be_listed(world: World) -> None:
    without_review = [s for s in REPAIR_STATUSES if s[0] != "reviewing"]
    form = type_form("repair", "维修单", "R", without_review, original_key="repair")
    response = post(world.client("designer"), "/admin/service-types", form)
    assert response.status_code == 422
    block = field_block(text(response), "statuses")
    assert "repair/mark_reviewing" in block and "reviewing" in block
    assert versions(world, "repair") == [1]


def test_a_bad_prefix_is_shown_at_its_field(world: World) -> None:
    response = save(world, type_form("wx", "维修", "r1"))
    assert response.status_code == 422
    assert "prefix" in field_block(text(response), "prefix")
    assert versions(world, "wx") == []


def test_a_new_type_may_not_take_an_existing_key(world: World) -> None:
    response = post(
        world.client("designer"), "/admin/service-types", type_form("repair", "维修", "Q")
    )
    assert response.status_code == 422
    assert "已存在" in field_block(text(response), "key")


def test_markup_in_a_types_name_shows_as_text(world: World) -> None:
    name = "<script>alert(1)</script>维修"
    assert (
        post(
            world.client("designer"), "/admin/service-types", type_form("xss", name, "XS")
        ).status_code
        == 302
    )
    page = text(world.client("designer").get("/admin/service-types"))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_chosen_types_start_form_data_reach_the_process(world: World) -> None:
    cid = caller(world)
    response = post(
        world.client("agent"),
        "/calls/orders",
        {
            "customer_id": str(cid),
            "type": "repair",
            "description": "空调漏水",
            "repair.urgency": "urgent",
            "repair.visit_period": "morning",
            "installation.visit_period": "evening",  # another type's block: not read
        },
    )
    assert response.status_code == 302, text(response)
    number = response.headers["Location"].rsplit("/", 1)[-1]
    with world.session_factory() as session:
        instance = session.scalar(
            sa.select(ProcessInstance)
            .join(ServiceOrder, ServiceOrder.process_instance_id == ProcessInstance.id)
            .where(ServiceOrder.number == number)
        )
        assert (instance.variables["urgency"], instance.variables["visit_period"]) == (
            "urgent",
            "morning",
        )


def test_an_invalid_start_field_is_shown_at_the_field_and_opens_nothing(world: World) -> None:
    cid = caller(world)
    with world.session_factory() as session:
        before = session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder))
    response = post(
        world.client("agent"),
        "/calls/orders",
        {"customer_id": str(cid), "type": "repair", "repair.urgency": "tomorrow"},
    )
    assert response.status_code == 422
    page = text(response)
    block = page[page.index('data-start-form="repair"') :]
    block = block[: block.index("</fieldset>")]
    assert 'data-field="urgency"' in block and "is-invalid" in block
    with world.session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) == before


def test_a_field_the_start_form_does_not_declare_is_refused(world: World) -> None:
    cid = caller(world)
    response = post(
        world.client("agent"),
        "/calls/orders",
        {"customer_id": str(cid), "type": "repair", "repair.org_unit": "O-GZ-TH"},
    )
    assert response.status_code == 422
    assert "org_unit" in text(response)


def test_the_board_exports_every_type_by_its_name(world: World) -> None:
    from io import BytesIO

    import openpyxl

    cid = caller(world)
    for kind, data in (("repair", {"repair.urgency": "normal"}), ("consultation", {})):
        body = {"customer_id": str(cid), "type": kind, "description": "问题", **data}
        assert post(world.client("agent"), "/calls/orders", body).status_code == 302
    page = text(world.client("manager").get("/board"))
    assert 'href="/board.xlsx"' in page
    response = world.client("manager").get("/board.xlsx?type=consultation")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("工单号", "类型", "状态")
    assert {r[1] for r in rows[1:] if r and r[0]} == {"咨询单"}


def test_an_agent_opens_a_return_or_exchange_from_the_caller_page(world: World) -> None:
    cid = caller(world)
    page = text(world.client("agent").get(f"/calls/incoming?phone={PHONE}"))
    block = page[page.index('data-start-form="return_exchange"') :]
    assert 'name="return_exchange.pickup_method"' in block[: block.index("</fieldset>")]
    fields = {
        "identity_verified": "true",
        "pickup_method": "home_delivery",
        "exchange_result": "exchanged",
        "responsible_department": "logistics",
        "reason_class": "transport_damage",
        "reason": "外箱破损，面板有划痕",
        "product_category": "FR",
        "brand": "haier",
        "quantity": "1",
        "amount": "3999",
    }
    response = post(
        world.client("agent"),
        "/calls/orders",
        {
            "customer_id": str(cid),
            "type": "return_exchange",
            "description": "送货时发现冰箱面板划伤",
            **{f"return_exchange.{k}": v for k, v in fields.items()},
        },
    )
    assert response.status_code == 302, text(response)
    number = response.headers["Location"].rsplit("/", 1)[-1]
    assert number.startswith("RX")
    order = text(world.client("agent").get(f"/orders/{number}"))
    assert "退换货单" in order and "已受理" in order
    opening = order[order.index('data-case-step="opening"') :]
    opening = opening[: opening.index("</li>")]
    assert "外箱破损，面板有划痕" in opening and "¥3999.00" in opening
