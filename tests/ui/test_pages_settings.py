"""The settings page: a team lead sets the callback threshold; others may not."""

from __future__ import annotations

from aftersales.settings import service as settings

from . import pages
from .pages import post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def test_a_team_lead_saves_the_threshold(world):
    client = world.client("lead")
    response = post(client, "/settings", {"callback_threshold": "40"})
    assert response.status_code == 302
    with world.session_factory() as session:
        assert settings.value(session, "callback_threshold") == 40


def test_a_threshold_out_of_range_is_shown_next_to_the_field(world):
    client = world.client("lead")
    response = post(client, "/settings", {"callback_threshold": "500"})
    assert response.status_code == 422
    assert "请输入 0 到 100 之间的整数。" in text(response)
    with world.session_factory() as session:
        assert settings.value(session, "callback_threshold") == 60


def test_an_agent_gets_403_on_the_settings_page(world):
    assert world.client("agent").get("/settings").status_code == 403
