"""A request for a product not registered yet, from the incoming-call page: the agent types
its serial, model, purchase date and invoice (number and photo) and the product is saved
for the customer with the order."""

from __future__ import annotations

import io

import sqlalchemy as sa

from aftersales.orders.models import ServiceOrder
from aftersales.products.models import InstalledProduct
from webapp.models import Attachment

from . import pages
from .pages import World, flashes, post, text
from .test_pages_calls import PHONE, _count, _customer, _deploy

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _request(client, cid: int, **fields):  # noqa: ANN001, ANN003, ANN202
    data = {
        "customer_id": str(cid),
        "type": "repair",
        "serial": "",
        "model": "KFR-35GW",
        "description": "空调不制冷",
        "lookup_phone": PHONE,
        **fields,
    }
    return post(client, "/calls/orders", data, content_type="multipart/form-data")


def test_a_new_serial_with_its_invoice_registers_the_product_with_the_order(world: World):
    _deploy(world)
    cid = _customer(world)
    client = world.client("agent")
    response = _request(
        client,
        cid,
        new_serial="SN-FRESH-1",
        purchase_date="2024-06-01",
        invoice_number="FP-778899",
        invoice_photo=(io.BytesIO(PNG), "invoice.png", "image/png"),
    )
    assert response.status_code == 302, text(response)
    with world.session_factory() as session:
        product = session.scalar(
            sa.select(InstalledProduct).where(InstalledProduct.serial == "SN-FRESH-1")
        )
        assert product.customer_id == cid and product.invoice_number == "FP-778899"
        assert product.warranty_end is not None  # dated and proven: known
        photo = session.get(Attachment, product.invoice_photo_id)
        order = session.scalar(
            sa.select(ServiceOrder).where(ServiceOrder.installed_product_id == product.id)
        )
        assert photo.instance_id == order.process_instance_id  # seen with its order
        assert order.in_warranty is True
    page = text(client.get(f"/customers/{cid}"))
    row = page[page.index('data-product="SN-FRESH-1"') :]
    row = row[: row.index("</tr>")]
    assert "FP-778899" in row and "data-invoice-photo" in row and 'data-warranty="in"' in row
    assert client.get(f"/attachments/{product.invoice_photo_id}").data == PNG


def test_a_new_serial_without_a_date_is_registered_with_an_unknown_warranty(world: World):
    _deploy(world)
    cid = _customer(world)
    client = world.client("agent")
    response = _request(client, cid, new_serial="SN-FRESH-2")
    assert response.status_code == 302, text(response)
    page = text(client.get(response.headers["Location"]))
    assert 'data-warranty="unknown"' in page and "保修未知" in page


def test_a_new_product_without_its_model_is_refused_and_nothing_is_kept(world: World):
    _deploy(world)
    cid = _customer(world)
    client = world.client("agent")
    before = _count(world, InstalledProduct), _count(world, Attachment)
    response = _request(
        client,
        cid,
        model="",
        new_serial="SN-FRESH-3",
        invoice_photo=(io.BytesIO(PNG), "invoice.png", "image/png"),
    )
    assert response.status_code == 422
    page = text(response)
    assert "请修改标出的字段。" in flashes(page)
    assert "新产品需要填写型号。" in page
    assert (_count(world, InstalledProduct), _count(world, Attachment)) == before
