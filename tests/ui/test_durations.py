"""Durations are written in the reader's language by Babel (``3小时20分钟``, ``3 hours 20
minutes``): the monitoring pages' averages and percentiles and the board's age of an order."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale

from engine.models import HumanTask, utcnow
from webapp.times import duration_text

from . import pages
from .board_world import build
from .pages import World, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

H, M = 3600, 60


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (3 * H, "3小时", "3 hours"),
        (3 * H + 20 * M, "3小时20分钟", "3 hours 20 minutes"),
        (3 * 86400 + 4 * H + 5 * M, "3天4小时", "3 days 4 hours"),  # two units at most
        (14 * 86400, "14天", "14 days"),  # days stay days, not "2 weeks"
        (2 * 86400 + 30 * M, "2天", "2 days"),  # no "0 hours" between
        (40 * M, "40分钟", "40 minutes"),
        (12, "12秒钟", "12 seconds"),
        (1 * H + 1, "1小时", "1 hour"),
        (0, "0秒钟", "0 seconds"),
        (-5, "0秒钟", "0 seconds"),  # a clock skew is not a negative duration
    ],
)
def test_a_duration_in_chinese_and_english(ui_app: Flask, seconds: int, zh: str, en: str) -> None:
    with ui_app.test_request_context():
        with force_locale("zh"):
            assert duration_text(seconds) == zh
        with force_locale("en"):
            assert duration_text(seconds) == en
            assert duration_text(timedelta(seconds=seconds)) == en


def test_no_duration_is_blank(ui_app: Flask) -> None:
    with ui_app.test_request_context():
        assert duration_text(None) == ""


def _every_completed_task_took(world: World, took: timedelta) -> None:
    end = utcnow() - timedelta(hours=1)
    with world.session_factory() as session:
        changed = session.execute(
            sa.update(HumanTask)
            .where(HumanTask.status == "completed")
            .values(created_at=end - took, completed_at=end)
        ).rowcount
        session.commit()
    assert changed, "the demo world has completed tasks"


def test_the_sla_page_writes_durations_in_the_readers_language(world: World) -> None:
    _every_completed_task_took(world, timedelta(hours=3, minutes=20))
    client = world.client("manager")
    page = text(client.get("/monitoring/sla"))
    durations = page[page.index("data-sla-durations") :]
    assert "3小时20分钟" in durations
    assert " h " not in durations and " min<" not in durations
    post(client, "/locale", {"locale": "en", "next": "/monitoring/sla"})
    page = text(client.get("/monitoring/sla"))
    assert "3 hours 20 minutes" in page[page.index("data-sla-durations") :]


def test_the_board_writes_an_orders_age_in_the_readers_language(world: World) -> None:
    build(world)
    created = utcnow() - timedelta(days=2, hours=5, minutes=10)
    with world.session_factory() as session:
        session.execute(sa.text("UPDATE service_order SET created_at = :at"), {"at": created})
        session.commit()
    page = text(world.client("manager").get("/board"))
    assert "2天5小时" in page


def test_a_duration_a_hair_short_of_a_minute_is_rounded_not_cut(ui_app: Flask) -> None:
    # SQLite's julianday arithmetic gives 3 h 20 min as 11999.9999... seconds
    with ui_app.test_request_context(), force_locale("zh"):
        assert duration_text(3 * H + 20 * M - 0.0001) == "3小时20分钟"
