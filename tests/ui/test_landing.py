"""Each role lands where it works, after signing in and on "/": agents and team leads on the
caller page, engineers on their jobs, managers on monitoring, everyone else in the inbox.
A ``next`` page asked for still wins, when it is on this site."""

from __future__ import annotations

import pytest

from . import pages
from .pages import World, login

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

LANDINGS = [
    ("agent", "/calls/incoming"),
    ("lead", "/calls/incoming"),  # a team lead answers calls too
    ("engineer", "/engineer"),
    ("manager", "/definitions"),  # monitoring (流程监控)
    ("center", "/tasks"),
    ("designer", "/tasks"),
    ("admin", "/tasks"),
]


@pytest.mark.parametrize(("user", "page"), LANDINGS)
def test_signing_in_lands_where_the_role_works(world: World, user: str, page: str) -> None:
    client = world.app.test_client()
    response = login(client, user)
    assert (response.status_code, response.headers["Location"]) == (302, page)
    assert client.get(page).status_code == 200


@pytest.mark.parametrize(("user", "page"), LANDINGS)
def test_the_site_root_leads_to_the_same_page(world: World, user: str, page: str) -> None:
    client = world.client(user)
    assert client.get("/").headers["Location"] == page
    assert client.get("/login").headers["Location"] == page  # signed in already


def test_the_page_asked_for_before_signing_in_wins(world: World) -> None:
    client = world.app.test_client()
    assert client.get("/board").headers["Location"] == "/login?next=%2Fboard"
    assert login(client, "engineer", next="/tasks?list=group").headers["Location"] == (
        "/tasks?list=group"
    )


@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example/", "//evil.example/tasks", "/\\evil.example", "javascript:x"],
)
def test_a_next_page_on_another_site_is_ignored_for_the_landing(
    world: World, elsewhere: str
) -> None:
    client = world.app.test_client()
    assert login(client, "agent", next=elsewhere).headers["Location"] == "/calls/incoming"


def test_the_sign_in_page_carries_only_a_next_page_that_was_asked_for(world: World) -> None:
    client = world.app.test_client()
    assert 'name="next" value=""' in client.get("/login").get_data(as_text=True)
    page = client.get("/login?next=/board").get_data(as_text=True)
    assert 'name="next" value="/board"' in page
