"""The dispatch board: orders per status and listed, only those in the viewer's scope,
filtered by center, outlet, status, type and creation date."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engine.models import HumanTask, utcnow

from . import pages
from .board_world import Orders, build
from .pages import World, counts, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


@pytest.fixture
def orders(world: World) -> Orders:
    return build(world)


def listed(page: str) -> set[str]:
    return set(re.findall(r'data-order="([^"]+)"', page))


def board(world: World, user: str, query: str = "") -> str:
    response = world.client(user).get(f"/board{query}")
    assert response.status_code == 200, response.status_code
    return text(response)


def test_hq_sees_every_order_counted_per_status(world: World, orders: Orders) -> None:
    page = board(world, "manager")
    assert counts(page) == {
        "all": "8",
        "received": "1",
        "dispatched": "3",
        "accepted": "2",
        "on_site": "1",
        "reviewing": "0",
        "transferred": "0",
        # the working statuses of the retail entries (data only: bpmn/*.service.json)
        "overdue": "0",
        "calling_back": "0",
        "compensated": "0",
        "refused": "0",
        "refunded": "0",
        "closed": "1",
    }
    assert listed(page) == set(orders.numbers.values())
    row = page[page.index(f'data-order="{orders["D"]}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/orders/{orders["D"]}"' in row
    assert "顾客丁" in row and "上海浦东网点" in row and 'data-order-status="on_site"' in row
    # the filter choices: every center and outlet
    assert 'value="C-EAST"' in page and 'value="C-SOUTH"' in page and 'value="O-GZ-TH"' in page


def test_a_center_sees_only_its_outlets_orders(world: World, orders: Orders) -> None:
    page = board(world, "center")
    assert listed(page) == {orders[k] for k in "BCDEG"}
    assert counts(page)["all"] == "5" and counts(page)["dispatched"] == "2"
    assert "顾客己" not in page and "顾客甲" not in page
    assert 'value="O-SH-PD"' in page and 'value="O-HZ-XH"' in page
    assert 'value="O-GZ-TH"' not in page and 'value="C-SOUTH"' not in page


def test_an_outlet_sees_only_its_own_orders(world: World, orders: Orders) -> None:
    assert listed(board(world, "outlet")) == {orders[k] for k in "BCDE"}
    page = board(world, "outlet2")
    assert listed(page) == {orders["F"]}
    assert counts(page)["all"] == "1"


def test_filters_by_outlet_status_center_and_type(world: World, orders: Orders) -> None:
    assert listed(board(world, "manager", "?outlet=O-GZ-TH")) == {orders["F"]}
    page = board(world, "manager", "?status=accepted")
    assert listed(page) == {orders["C"], orders["E"]}
    assert counts(page)["all"] == "8"  # the columns keep counting every status
    assert listed(board(world, "manager", "?center=C-EAST&status=dispatched")) == {
        orders["B"],
        orders["G"],
    }
    page = board(world, "center", "?outlet=O-SH-PD&status=dispatched")
    assert listed(page) == {orders["B"]}
    assert listed(board(world, "manager", "?type=installation")) == set()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the UI's time zone
    assert len(listed(board(world, "manager", f"?from={today}&to={today}"))) == 8
    before = today - timedelta(days=3)
    assert listed(board(world, "manager", f"?to={before}")) == set()


def test_a_unit_outside_the_scope_is_refused_like_an_unknown_one(
    world: World, orders: Orders
) -> None:
    client = world.client("center")
    outside = client.get("/board?outlet=O-GZ-TH")
    unknown = client.get("/board?outlet=NO-SUCH-UNIT")
    assert outside.status_code == unknown.status_code == 400
    body = text(outside)
    assert orders["F"] not in body and "顾客己" not in body and "广州天河网点" not in body
    assert client.get("/board?center=C-SOUTH").status_code == 400
    assert world.client("outlet").get("/board?center=C-EAST").status_code == 400
    assert client.get("/board?status=lost").status_code == 400
    assert client.get("/board?from=yesterday").status_code == 400


def test_overdue_open_tasks_mark_their_order(world: World, orders: Orders) -> None:
    with world.session_factory() as session:
        session.execute(
            sa.update(HumanTask)
            .where(HumanTask.business_key == orders["B"], HumanTask.status == "open")
            .values(due_at=utcnow() - timedelta(hours=1))
        )
        session.commit()
    page = board(world, "manager")
    overdue = re.findall(r'<tr class="overdue" data-order="([^"]+)"', page)
    assert overdue == [orders["B"]]


def test_the_board_is_for_service_staff(world: World, orders: Orders) -> None:
    assert 'data-nav="board"' in text(world.client("center").get("/tasks"))
    assert 'data-nav="board"' not in text(world.client("engineer").get("/tasks"))
    assert world.client("engineer").get("/board").status_code == 403
    assert world.client().get("/board").status_code == 302  # sign in first


def test_pages_split_the_list(world: World, orders: Orders, monkeypatch) -> None:  # noqa: ANN001
    from webapp.ui import board_pages

    monkeypatch.setattr(board_pages, "PER_PAGE", 3)
    first = board(world, "manager")
    second = board(world, "manager", "?page=2")
    third = board(world, "manager", "?page=3")
    assert len(listed(first)) == len(listed(second)) == 3 and len(listed(third)) == 2
    assert listed(first) | listed(second) | listed(third) == set(orders.numbers.values())
    assert orders["H"] in listed(first)  # newest first
