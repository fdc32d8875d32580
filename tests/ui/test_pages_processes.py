"""Starting a process from its start form."""

from __future__ import annotations

import re

import sqlalchemy as sa

from engine.models import ProcessInstance

from . import pages
from .pages import World, field_block, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

REQUEST = {
    "business_key": "SR-2026-0042",
    "customer_name": "孙悦",
    "phone": "13912345678",
    "address": "杭州市西湖区文三路 8 号",
    "product_model": "XQG100",
    "fault_description": "滚筒不转",
    "urgency": "urgent",
    "needs_visit": "false",
}


def _instances(world: World) -> int:
    with world.session_factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance))


def test_the_start_form_shows_its_fields(world: World) -> None:
    page = text(world.client("agent").get("/processes/demo_service_request/start"))
    assert "data-start-form" in page
    assert 'data-field="customer_name"' in page and 'data-field="phone"' in page


def test_starting_with_invalid_data_answers_422_with_field_errors(world: World) -> None:
    before = _instances(world)
    client = world.client("agent")
    data = {**REQUEST, "phone": "12345", "customer_name": ""}
    response = post(client, "/processes/demo_service_request/start", data)
    assert response.status_code == 422
    page = text(response)
    assert "请修改标出的字段。" in flashes(page)
    assert 'class="field-error"' in field_block(page, "phone")
    assert 'class="field-error"' in field_block(page, "customer_name")
    assert 'class="field-error"' not in field_block(page, "address")
    assert 'value="SR-2026-0042"' in page  # the business key stays filled in
    assert _instances(world) == before


def test_starting_with_valid_data_opens_the_new_order(world: World) -> None:
    client = world.client("agent")
    response = post(client, "/processes/demo_service_request/start", REQUEST)
    assert response.status_code == 302
    match = re.fullmatch(r"/instances/(\d+)", response.headers["Location"])
    assert match
    with world.session_factory() as session:
        instance = session.get(ProcessInstance, int(match.group(1)))
        assert instance.business_key == "SR-2026-0042"
        assert instance.variables["customer_name"] == "孙悦"
    page = text(client.get(response.headers["Location"]))
    assert "已发起 SR-2026-0042。" in flashes(page)
    assert "SR-2026-0042" in page
