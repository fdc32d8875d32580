"""The engineer's phone view: their own assigned visits and reports as cards, today's first,
with what they finished today; the check-in page carries the task form geolocation fills."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from aftersales.orders.models import ServiceOrder
from aftersales.outlets.models import Praise
from engine.models import HumanTask, utcnow

from . import pages
from .board_world import Orders, build
from .pages import World, counts, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


@pytest.fixture
def orders(world: World) -> Orders:
    return build(world)


def task_id(world: World, number: str, name: str) -> str:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(HumanTask.id).where(
                HumanTask.business_key == number,
                HumanTask.name == name,
                HumanTask.status == "open",
            )
        )


def jobs(page: str) -> list[str]:
    return re.findall(r'data-job="([^"]+)"', page)


def test_the_engineer_sees_only_their_own_jobs(world: World, orders: Orders) -> None:
    page = text(world.client("engineer").get("/engineer"))
    check_in = task_id(world, orders["C"], "check_in")
    report = task_id(world, orders["D"], "work_report")
    assert sorted(jobs(page)) == sorted([check_in, report])
    assert task_id(world, orders["E"], "check_in") not in page  # engineer2's
    assert "顾客戊" not in page
    card = page[page.index(f'data-job="{check_in}"') :]
    card = card[: card.index("</li>")]
    assert "顾客丙" in card and 'href="tel:13900000002"' in card
    assert "上海市上海市浦东新区1 号" in card and "KFR-35GW" in card
    assert "顾客丙家空调不制冷" in card
    assert f'href="/tasks/{check_in}"' in card
    assert counts(page)["done"] == "1"  # D's check-in
    assert "data-not-engineer" not in page
    other = text(world.client("engineer2").get("/engineer"))
    assert jobs(other) == [task_id(world, orders["E"], "check_in")]
    assert counts(other)["done"] == "0"


def test_jobs_due_today_come_first(world: World, orders: Orders) -> None:
    check_in = task_id(world, orders["C"], "check_in")
    report = task_id(world, orders["D"], "work_report")
    with world.session_factory() as session:
        session.execute(
            sa.update(HumanTask)
            .where(HumanTask.id == report)
            .values(due_at=utcnow() + timedelta(days=5))
        )
        session.execute(
            sa.update(HumanTask)
            .where(HumanTask.id == check_in)
            .values(due_at=utcnow() - timedelta(hours=1))
        )
        session.commit()
    page = text(world.client("engineer").get("/engineer"))
    assert jobs(page) == [check_in, report]
    today = page[page.index('data-jobs="today"') : page.index('data-jobs="later"')]
    assert check_in in today and report not in today
    assert counts(page)["today"] == "1" and counts(page)["later"] == "1"


def test_the_card_leads_to_the_check_in_form_that_geolocation_fills(
    world: World, orders: Orders
) -> None:
    check_in = task_id(world, orders["C"], "check_in")
    page = text(world.client("engineer").get(f"/tasks/{check_in}"))
    form = page[page.index("data-task-form") :]
    assert 'name="latitude"' in form and 'name="longitude"' in form
    script = world.client().get("/static/js/app.js").get_data(as_text=True)
    assert "navigator.geolocation" in script and "form[data-task-form]" in script


def test_a_non_engineer_gets_a_friendly_empty_page(world: World, orders: Orders) -> None:
    response = world.client("outlet").get("/engineer")
    assert response.status_code == 200
    page = text(response)
    assert "data-not-engineer" in page and jobs(page) == []
    assert 'data-nav="engineer"' not in page
    assert 'data-nav="engineer"' in text(world.client("engineer").get("/engineer"))
    assert world.client().get("/engineer").status_code == 302


def test_praise_for_the_engineer_shows_on_their_page(world: World, orders: Orders) -> None:
    with world.session_factory() as session:
        order = session.scalar(sa.select(ServiceOrder).where(ServiceOrder.number == orders["C"]))
        engineer = world.user("engineer")
        session.add(Praise(order_id=order.id, engineer_id=engineer.id, text="师傅非常专业"))
        session.commit()
    assert "师傅非常专业" in text(world.client("engineer").get("/engineer"))
    assert "师傅非常专业" not in text(world.client("outlet").get("/engineer"))
