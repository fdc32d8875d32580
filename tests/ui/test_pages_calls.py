"""The call-center pages: the incoming call (lookup by phone or barcode, a new caller, a new
request), the customer page and the order page with its timeline."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from aftersales.customers.models import Customer, CustomerPhone
from aftersales.customers.service import create_customer
from aftersales.orders.models import ServiceOrder
from aftersales.orders.service import create_order
from aftersales.orders.types import latest_types
from aftersales.products.models import InstalledProduct, ProductCategory, ProductModel
from engine.commands import Deploy, execute
from engine.deployment import latest_definition
from engine.identity import SYSTEM_ACTOR, actor_for
from engine.models import OrgUnit, ProcessInstance, User
from tests.helpers import redeploy_type

from . import pages
from .pages import World, field_block, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

ROOT = Path(__file__).resolve().parents[2]
PHONE = "13800138000"
ADDRESS = {
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "street": "世纪大道 1 号",
}


def _deploy(world: World) -> None:
    """The product's processes and forms, as an installation deploys them (idempotent)."""
    files = [
        (str(p), p.read_bytes())
        for p in [
            *sorted((ROOT / "bpmn").glob("*.bpmn")),
            *sorted((ROOT / "forms").glob("*.form.json")),
            *sorted((ROOT / "bpmn").glob("*.service.json")),
        ]
    ]
    with world.session_factory() as session:
        execute(session, Deploy(files), SYSTEM_ACTOR)


def _model(session, code: str = "KFR-35GW") -> ProductModel:  # noqa: ANN001
    model = session.scalar(sa.select(ProductModel).where(ProductModel.code == code))
    if model is None:
        category = session.scalar(sa.select(ProductCategory).where(ProductCategory.code == "AC"))
        if category is None:
            category = ProductCategory(
                code="AC", name_zh="空调", name_en="Air conditioner", warranty_months=36
            )
        model = ProductModel(code=code, name="壁挂式空调", category=category)
        session.add(model)
    return model


def _customer(world: World, name: str = "陈静", phone: str = PHONE, products=()) -> int:  # noqa: ANN001
    """A customer with ``products``: (serial, warranty_end) pairs."""
    with world.session_factory() as session:
        customer = create_customer(session, name=name, phone=phone, address=ADDRESS)
        for serial, end in products:
            session.add(
                InstalledProduct(
                    customer=customer,
                    model=_model(session),
                    serial=serial,
                    purchase_date=date(2020, 1, 1),
                    warranty_end=end,
                )
            )
        session.commit()
        return customer.id


def _actor(world: World, username: str):  # noqa: ANN202
    with world.session_factory() as session:
        return actor_for(session.scalar(sa.select(User).where(User.username == username)))


def _order(world: World, customer_id: int, serial: str | None = "SN-IN", **body) -> str:  # noqa: ANN003
    actor = _actor(world, "agent")
    with world.session_factory() as session:
        order = create_order(
            session,
            actor,
            {
                "type": "repair",
                "customer_id": customer_id,
                "serial": serial,
                "description": "空调不制冷",
                **body,
            },
        )
        return order.number


def _count(world: World, model: type) -> int:
    with world.session_factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_known_caller_shows_products_with_warranty_and_orders(world: World) -> None:
    _deploy(world)
    cid = _customer(world, products=[("SN-IN", date(2099, 1, 1)), ("SN-OUT", date(2001, 1, 1))])
    number = _order(world, cid)
    page = text(world.client("agent").get(f"/calls/incoming?phone={PHONE}"))
    assert f'data-customer="{cid}"' in page and "陈静" in page
    assert "上海市上海市浦东新区世纪大道 1 号" in page
    inside = page[page.index('data-product="SN-IN"') :]
    assert 'data-warranty="in"' in inside[: inside.index("</tr>")] and "在保" in page
    outside = page[page.index('data-product="SN-OUT"') :]
    assert 'data-warranty="out"' in outside[: outside.index("</tr>")] and "过保" in page
    assert "2099-01-01" in page  # the warranty end
    assert f'href="/orders/{number}"' in page
    assert re.search(rf'data-order="{number}"\s+data-open', page)
    assert 'data-open-orders="1"' in page
    assert "维修单" in page and "已受理" in page  # type and status in Chinese
    # the request form offers the deployed types only and asks the knowledge base while typing
    form = page[page.index(f'data-request-form="{cid}"') :]
    with world.session_factory() as session:
        deployed = {t.key for t in latest_types(session) if latest_definition(session, t.process)}
    assert "repair" in deployed
    offered = set(re.findall(r'<option value="(\w+)"', form[: form.index('name="serial"')]))
    assert offered == deployed  # only the types whose process is deployed
    # posted, not in the query string: a long fault description outgrows a request line
    assert 'hx-post="/kb/suggest"' in form and f'hx-target="#kb-{cid}"' in form
    assert 'data-model="KFR-35GW"' in form
    assert 'data-nav="calls"' in page and "来电" in page


def test_two_customers_sharing_a_phone_both_show(world: World) -> None:
    first = _customer(world, "陈静")
    second = _customer(world, "陈磊")
    page = text(world.client("agent").get("/calls/incoming?phone=%2B86%20138%200013%208000"))
    assert f'data-customer="{first}"' in page and f'data-customer="{second}"' in page
    assert 'data-several-callers="2"' in page
    assert "data-new-customer" not in page


def test_an_unknown_phone_offers_a_new_customer_form_that_creates_the_caller(world: World) -> None:
    client = world.client("agent")
    page = text(client.get("/calls/incoming?phone=13912345678"))
    assert "data-new-customer" in page
    assert 'value="13912345678"' in field_block(page, "phone")
    before = _count(world, Customer)
    response = post(
        client,
        "/calls/customers",
        {"name": "孙悦", "phone": "13912345678", **ADDRESS, "lookup_phone": "13912345678"},
    )
    assert response.status_code == 302, text(response)
    assert response.headers["Location"] == "/calls/incoming?phone=13912345678"
    assert _count(world, Customer) == before + 1
    page = text(client.get(response.headers["Location"]))
    assert "已新建客户 孙悦。" in flashes(page)
    assert "data-new-customer" not in page and "孙悦" in page


def test_a_new_customer_with_a_bad_phone_answers_422_and_creates_nothing(world: World) -> None:
    client = world.client("agent")
    before = _count(world, Customer)
    response = post(
        client,
        "/calls/customers",
        {"name": "孙悦", "phone": "12345", **ADDRESS, "city": "", "lookup_phone": "12345"},
    )
    assert response.status_code == 422
    page = text(response)
    assert 'class="field-error"' in field_block(page, "phone")
    assert 'class="field-error"' in field_block(page, "city")
    assert 'class="field-error"' not in field_block(page, "name")
    assert 'value="孙悦"' in field_block(page, "name")  # what was typed stays
    assert _count(world, Customer) == before


def test_a_barcode_finds_its_owner_and_an_unknown_one_says_so(world: World) -> None:
    cid = _customer(world, products=[("SN-IN", date(2099, 1, 1))])
    client = world.client("agent")
    page = text(client.get("/calls/incoming?serial=SN-IN"))
    assert f'data-customer="{cid}"' in page and "陈静" in page
    page = text(client.get("/calls/incoming?serial=NO-SUCH"))
    assert "data-unknown-serial" in page and "没有条码为 NO-SUCH 的登记产品。" in page
    assert "data-customer=" not in page and "data-new-customer" not in page


def test_a_new_repair_request_creates_the_order_and_opens_its_page(world: World) -> None:
    _deploy(world)
    cid = _customer(world, products=[("SN-IN", date(2099, 1, 1))])
    client = world.client("agent")
    response = post(
        client,
        "/calls/orders",
        {
            "customer_id": str(cid),
            "type": "repair",
            "serial": "SN-IN",
            "model": "",
            "description": "空调不制冷",
            "lookup_phone": PHONE,
        },
    )
    assert response.status_code == 302, text(response)
    match = re.fullmatch(r"/orders/(R\d{14})", response.headers["Location"])
    assert match
    number = match.group(1)
    with world.session_factory() as session:
        order = session.scalar(sa.select(ServiceOrder).where(ServiceOrder.number == number))
        assert order.customer_id == cid and order.in_warranty is True
        assert order.created_by == "agent"
    page = text(client.get(response.headers["Location"]))
    assert f"已创建工单 {number}。" in flashes(page)
    assert "空调不制冷" in page and "陈静" in page and "SN-IN" in page
    assert 'data-step="received" aria-current="step"' in page
    timeline = page[page.index("data-timeline") :]
    assert 'data-event="start"' in timeline and "座席 王芳 · 发起" in timeline
    tasks = page[page.index("data-open-tasks") : page.index("data-timeline")]
    assert 'href="/tasks/' in tasks  # phone support is waiting
    # the customer page lists it too
    page = text(client.get(f"/customers/{cid}"))
    assert f'href="/orders/{number}"' in page and 'data-open-orders="1"' in page


def test_an_invalid_request_answers_422_and_creates_nothing(world: World) -> None:
    _deploy(world)
    cid = _customer(world, products=[("SN-IN", date(2099, 1, 1))])
    client = world.client("agent")
    before = (_count(world, ServiceOrder), _count(world, ProcessInstance))
    base = {"customer_id": str(cid), "description": "空调不制冷", "lookup_phone": PHONE}
    response = post(client, "/calls/orders", {**base, "type": "", "serial": "SN-IN"})
    assert response.status_code == 422
    page = text(response)
    assert 'class="field-error"' in field_block(page, "type")
    assert "空调不制冷" in field_block(page, "description")  # what was typed stays
    response = post(client, "/calls/orders", {**base, "type": "repair", "serial": "SN-NONE"})
    assert response.status_code == 422
    page = text(response)
    assert 'class="field-error"' in field_block(page, "serial")
    assert 'class="field-error"' not in field_block(page, "type")
    assert (_count(world, ServiceOrder), _count(world, ProcessInstance)) == before


def test_a_user_who_may_not_start_the_process_gets_the_403_page(world: World) -> None:
    _deploy(world)
    # the outlet's hotline may no longer open repairs
    redeploy_type(world.session_factory, "repair", open={"roles": ["agent"], "groups": []})
    cid = _customer(world)
    before = _count(world, ServiceOrder)
    response = post(  # the outlet found the caller on its hotline, but may not open repairs
        world.client("outlet"),
        "/calls/orders",
        {
            "customer_id": str(cid),
            "type": "repair",
            "description": "空调不制冷",
            "lookup_phone": PHONE,
        },
    )
    assert response.status_code == 403
    assert "Traceback" not in text(response)
    assert _count(world, ServiceOrder) == before


def test_another_outlets_order_is_not_found_for_an_outlet_user(world: World) -> None:
    _deploy(world)
    cid = _customer(world, products=[("SN-IN", date(2099, 1, 1))])
    number = _order(world, cid)
    with world.session_factory() as session:  # the order went to the Guangzhou outlet
        path = session.scalar(sa.select(OrgUnit.path).where(OrgUnit.code == "O-GZ-TH"))
        order = session.scalar(sa.select(ServiceOrder).where(ServiceOrder.number == number))
        session.get(ProcessInstance, order.process_instance_id).org_path = path
        session.commit()
    assert world.client("outlet2").get(f"/orders/{number}").status_code == 200
    response = world.client("outlet").get(f"/orders/{number}")
    assert response.status_code == 404 and "Traceback" not in text(response)
    assert world.client("agent").get("/orders/R20990101999999").status_code == 404
    # the Pudong outlet does not see the order in the caller's list either
    page = text(world.client("outlet").get(f"/customers/{cid}"))
    assert number not in page


def test_posts_without_a_csrf_token_are_refused(world: World) -> None:
    _deploy(world)
    cid = _customer(world)
    client = world.client("agent")
    before = (_count(world, Customer), _count(world, ServiceOrder))
    response = client.post(
        "/calls/customers", data={"name": "孙悦", "phone": "13912345678", **ADDRESS}
    )
    assert response.status_code == 400
    response = client.post(
        "/calls/orders", data={"customer_id": str(cid), "type": "repair", "description": "x"}
    )
    assert response.status_code == 400
    assert (_count(world, Customer), _count(world, ServiceOrder)) == before


def test_signed_out_users_are_sent_to_login(world: World) -> None:
    client = world.client()
    for path in (f"/calls/incoming?phone={PHONE}", "/customers/1", "/orders/R20260101000001"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_the_customer_page_pages_through_many_orders(world: World) -> None:
    _deploy(world)
    cid = _customer(world, products=[("SN-IN", date(2099, 1, 1))])
    numbers = [_order(world, cid) for _ in range(22)]
    client = world.client("agent")
    page = text(client.get(f"/customers/{cid}"))
    assert page.count('data-order="') == 20 and "共 22 单" in page
    page = text(client.get(f"/customers/{cid}?page=2"))
    assert page.count('data-order="') == 2
    assert numbers[0] in page  # the oldest comes last
    assert client.get("/customers/999999").status_code == 404


def test_the_incoming_page_in_english(world: World) -> None:
    _customer(world, products=[("SN-OUT", date(2001, 1, 1))])
    client = world.client("agent")
    post(client, "/locale", {"locale": "en", "next": "/calls/incoming"})
    page = text(client.get(f"/calls/incoming?phone={PHONE}"))
    assert "Incoming call" in page and "Out of warranty" in page
    with world.session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CustomerPhone)) >= 1


def test_the_incoming_call_finds_a_caller_however_the_number_is_written(world: World) -> None:
    _customer(world, name="王芳", phone="021-6488 1234")
    client = world.client("agent")
    for written in ("(021)64881234", "+86 21 6488 1234", "021-6488-1234"):
        page = text(client.get("/calls/incoming", query_string={"phone": written}))
        assert "王芳" in page and "data-new-customer" not in page, written


def test_a_new_callers_number_is_stored_in_its_canonical_form(world: World) -> None:
    response = post(
        world.client("agent"),
        "/calls/customers",
        {"name": "孙悦", "phone": "+86 139-1234-5678", **ADDRESS},
    )
    assert response.status_code == 302, text(response)
    assert response.headers["Location"] == "/calls/incoming?phone=13912345678"


def test_a_new_callers_bad_number_says_what_is_wrong_with_it(world: World) -> None:
    client = world.client("agent")
    before = _count(world, Customer)
    for phone, message in [
        ("139 1234 abcd", "电话号码由数字组成，中间可以有空格、短横线、括号和 +86。"),
        ("139 1234", "号码太短：手机号码为 11 位，固定电话为区号加 7 或 8 位号码。"),
        ("021-6488 1234 999", "号码太长：手机号码为 11 位，固定电话为区号加 7 或 8 位号码。"),
    ]:
        response = post(client, "/calls/customers", {"name": "孙悦", "phone": phone, **ADDRESS})
        assert response.status_code == 422, phone
        block = field_block(text(response), "phone")
        assert message in block and 'aria-invalid="true"' in block, phone
    assert _count(world, Customer) == before
