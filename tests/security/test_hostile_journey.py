"""Markup anyone types along a whole repair journey stays text on every page that shows it.

An agent registers a caller whose name and address, and an order whose description, carry
attribute break-outs, tags, template syntax and a ``javascript:`` URL; the engineer's work
report, the center's review comment and the data an administrator edits on the halted
instance carry them too. Every role that sees them then opens the pages that show them;
each page is parsed as a browser would, and must hold no element, attribute or script the
values brought, and show the values as text. The Excel export keeps them as text cells.
"""

from __future__ import annotations

import json
from io import BytesIO

import lxml.html
import openpyxl
import pytest
import sqlalchemy as sa

from aftersales.orders.models import ServiceOrder
from engine.commands import SetVariables, Suspend, execute
from engine.identity import SYSTEM_ACTOR
from engine.models import HumanTask
from tests.ui.pages import World

from .scope_world import (
    PUDONG,
    complete,
    customer,
    deploy,
    dispatched_order,
)

BREAKOUT = """"><script>alert(1)</script><img src=x onerror=alert(2)>"""
ATTRIBUTE = """' onmouseover='alert(3)' x='"""
TEMPLATE = "{{7*7}}${7*7}<%= 7*7 %>"
SVG = "</textarea><svg onload=alert(4)>"
URL = "javascript:alert(5)"
HOSTILE = {
    "name": "王" + BREAKOUT,
    "street": "世纪大道" + ATTRIBUTE + SVG,
    "description": "空调不制冷" + TEMPLATE + BREAKOUT,
    "solution": "补充冷媒" + SVG + URL,
    "review_comment": "通过" + ATTRIBUTE + TEMPLATE,
    "note": URL + BREAKOUT,
}
REPORT = {
    "check_in_at": "2026-11-20T10:30",
    "fault_class": "refrigeration",
    "visit_fee": 50,
    "customer_signature": "data:image/png;base64,iVBORw0KGgo=",
}


def journey(world: World) -> tuple[str, int, int]:
    """The order, driven by the people whose step it is, waiting for the callback."""
    deploy(world)
    cid = customer(world, HOSTILE["name"], "13800000909", {**PUDONG, "street": HOSTILE["street"]})
    number = dispatched_order(world, cid, HOSTILE["description"])
    complete(world, number, "accept", "outlet", {"accepted": True})
    complete(world, number, "assign_engineer", "outlet", {"engineer": "engineer"})
    complete(world, number, "check_in", "engineer", {"checked_in_at": "2026-11-20T10:00"})
    complete(world, number, "work_report", "engineer", {**REPORT, "solution": HOSTILE["solution"]})
    complete(
        world,
        number,
        "review",
        "center",
        {"approved": True, "review_comment": HOSTILE["review_comment"]},
    )
    with world.session_factory() as session:
        instance_id = session.scalar(
            sa.select(ServiceOrder.process_instance_id).where(ServiceOrder.number == number)
        )
        execute(session, Suspend(instance_id), SYSTEM_ACTOR)
        execute(session, SetVariables(instance_id, {"note": HOSTILE["note"]}), SYSTEM_ACTOR)
    return number, instance_id, cid


def task_ids(world: World, number: str) -> dict[str, str]:
    with world.session_factory() as session:
        rows = session.execute(
            sa.select(HumanTask.name, HumanTask.id).where(HumanTask.business_key == number)
        ).all()
    return dict(rows)


def injected(page: str) -> list[str]:
    """What a browser would run or load because of a value: the page's own scripts are files
    (``src``) or JSON data blocks, so anything else is the values' doing."""
    doc = lxml.html.fromstring(page)
    found = []
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "script":
            kind = element.get("type") or ""
            if element.get("src") is None and kind != "application/json":
                found.append(f"inline script {lxml.html.tostring(element)[:80]!r}")
            if kind == "application/json":
                json.loads(element.text or "null")  # the data block is still one JSON value
        if element.tag in ("svg", "iframe", "object", "embed"):
            found.append(f"<{element.tag}> element")
        if element.tag == "img" and element.get("src") == "x":
            found.append("the value's <img>")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"{name} on <{element.tag}>")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith(
                "javascript:"
            ):
                found.append(f"{name}={value!r} on <{element.tag}>")
    return found


def shown_text(page: str) -> str:
    """The page's text and attribute values, JSON-valued attributes (the data editor's
    inputs) read as the value they hold."""
    doc = lxml.html.fromstring(page)
    values = [v for e in doc.iter() if isinstance(e.tag, str) for v in e.attrib.values()]
    return " ".join([doc.text_content(), *values, *map(_as_json_text, values)])


def _as_json_text(value: str) -> str:
    try:
        held = json.loads(value)
    except ValueError:
        return ""
    return held if isinstance(held, str) else ""


@pytest.fixture
def walked(world: World) -> tuple[World, str, int, dict[str, str]]:
    number, instance_id, cid = journey(world)
    tasks = {**task_ids(world, number), "customer": str(cid)}
    return world, number, instance_id, tasks


def pages_of(number: str, instance_id: int, tasks: dict[str, str]) -> dict[str, list[str]]:
    return {
        "agent": [
            f"/orders/{number}",
            "/calls/incoming?phone=13800000909",
            f"/customers/{tasks['customer']}",
            f"/tasks/{tasks['phone_support']}",
            f"/tasks/{tasks['callback']}",
            "/tasks",
        ],
        "outlet": [f"/orders/{number}", f"/tasks/{tasks['accept']}", "/board"],
        "engineer": [f"/tasks/{tasks['work_report']}", "/engineer"],
        "center": [f"/orders/{number}", f"/tasks/{tasks['review']}", "/board"],
        "manager": [f"/orders/{number}", f"/instances/{instance_id}", "/instances", "/board"],
        "admin": [f"/instances/{instance_id}", f"/customers/{tasks['customer']}"],
    }


def test_every_page_that_shows_the_journeys_values_shows_them_as_text(walked) -> None:  # noqa: ANN001
    world, number, instance_id, tasks = walked
    seen: set[str] = set()
    for user, paths in pages_of(number, instance_id, tasks).items():
        client = world.client(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, f"{user} {path}: {response.status_code}"
            page = response.get_data(as_text=True)
            assert not injected(page), f"{user} {path}: {injected(page)}"
            assert "Traceback" not in page
            text = shown_text(page)
            seen |= {key for key, value in HOSTILE.items() if value in text}
    assert seen >= {"name", "street", "description", "solution", "review_comment", "note"}, seen


def test_template_syntax_in_the_values_is_never_evaluated(walked) -> None:  # noqa: ANN001
    world, number, _instance_id, _tasks = walked
    page = world.client("agent").get(f"/orders/{number}").get_data(as_text=True)
    assert TEMPLATE in shown_text(page)


def test_the_excel_export_keeps_the_values_as_text(walked) -> None:  # noqa: ANN001
    world, number, _instance_id, _tasks = walked
    response = world.client("manager").get(f"/instances.xlsx?business_key={number}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(response.data)).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.value for c in cells if c.data_type == "f"]
