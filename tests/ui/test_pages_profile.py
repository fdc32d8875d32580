"""The profile page's personal API tokens, and the language a user chooses."""

from __future__ import annotations

import re

from . import pages
from .pages import World, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

NEW_TOKEN = re.compile(r"data-new-token>([^<]+)<")


def _api_status(world: World, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return world.app.test_client().get("/api/v1/tasks?candidate=me", headers=headers).status_code


def test_a_new_token_is_shown_once_and_authenticates_the_api(world: World) -> None:
    client = world.client("agent")
    response = post(client, "/profile/tokens", {"name": "手机应用"})
    assert response.status_code == 201
    page = text(response)
    assert "请立即复制此令牌，它不会再次显示：" in page
    token = NEW_TOKEN.search(page).group(1)
    assert _api_status(world, token) == 200
    page = text(client.get("/profile"))
    assert "手机应用" in page
    assert token not in page
    assert "data-new-token" not in page


def test_a_revoked_token_no_longer_authenticates(world: World) -> None:
    client = world.client("agent")
    token = NEW_TOKEN.search(text(post(client, "/profile/tokens", {"name": "old"}))).group(1)
    token_id = re.search(r"/profile/tokens/(\d+)/revoke", text(client.get("/profile"))).group(1)
    response = post(client, f"/profile/tokens/{token_id}/revoke")
    assert response.status_code == 302
    page = text(client.get("/profile"))
    assert "令牌已吊销。" in flashes(page)
    assert "暂无令牌。" in page
    assert _api_status(world, token) == 401


def test_another_users_token_cannot_be_revoked(world: World) -> None:
    owner = world.client("agent")
    token = NEW_TOKEN.search(text(post(owner, "/profile/tokens", {"name": "x"}))).group(1)
    token_id = re.search(r"/profile/tokens/(\d+)/revoke", text(owner.get("/profile"))).group(1)
    assert post(world.client("agent2"), f"/profile/tokens/{token_id}/revoke").status_code == 404
    assert _api_status(world, token) == 200


def test_the_language_switch_persists_on_the_user(world: World) -> None:
    client = world.client("agent")
    response = post(client, "/locale", {"locale": "en", "next": "/tasks"})
    assert response.status_code == 303
    assert world.user("agent").locale == "en"
    page = text(client.get("/tasks"))
    assert '<html lang="en">' in page and "<h1>Tasks</h1>" in page
    # a new sign-in elsewhere (no session cookie yet) starts in the user's language
    page = text(world.client("agent").get("/tasks"))
    assert '<html lang="en">' in page and "To claim" in page
    assert '<html lang="zh-CN">' in text(world.client("agent2").get("/tasks"))
