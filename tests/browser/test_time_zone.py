"""Choosing a time zone on the profile page in a real browser: the select, the saved zone named
in the top bar, and a profile page that still fits a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from engine.models import User

from .test_layout import NO_OVERFLOW
from .test_service_request_flow import log_in


@pytest.fixture
def agent_zone_restored(db) -> Iterator[None]:  # noqa: ANN001
    """The live server is shared by the session: the agent gets the default zone back."""
    yield
    db.execute(sa.update(User).where(User.username == "agent").values(time_zone=None))
    db.commit()


def test_a_user_chooses_berlin_and_the_top_bar_names_it(
    page: Page,
    db,  # noqa: ANN001
    agent_zone_restored: None,
) -> None:
    log_in(page, "agent")
    page.goto("/profile")
    zone = page.get_by_label("时区")
    expect(zone).to_have_value("Asia/Shanghai")
    expect(page.locator("[data-user-zone]")).to_have_text("中国（上海）时间")
    zone.select_option("Europe/Berlin")
    page.locator("[data-time-zone]").get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.get_by_role("status")).to_contain_text("现在按 德国（柏林）时间 显示时间。")
    expect(page.get_by_label("时区")).to_have_value("Europe/Berlin")
    expect(page.locator("[data-user-zone]")).to_have_text("德国（柏林）时间")
    db.expire_all()
    assert db.scalar(sa.select(User.time_zone).where(User.username == "agent")) == "Europe/Berlin"
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/profile")
    assert page.evaluate(NO_OVERFLOW), "the profile page scrolls sideways at 375 px"
