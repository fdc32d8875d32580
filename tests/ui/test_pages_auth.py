"""Signing in and out: redirects, wrong passwords, slowing down, server-side sessions, CSRF."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from engine.models import utcnow
from webapp.models import LoginSession

from . import pages
from .pages import World, csrf, login, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def _sessions(world: World, username: str) -> list[LoginSession]:
    user = world.user(username)
    with world.session_factory() as session:
        return list(session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id)))


def test_signing_in_leads_to_the_task_inbox(world: World) -> None:
    """Center staff work from the inbox; other roles land where they work (test_landing)."""
    client = world.app.test_client()
    response = login(client, "center")
    assert response.status_code == 302
    assert response.headers["Location"] == "/tasks"
    page = text(client.get("/tasks"))
    assert "<h1>任务</h1>" in page
    assert "退出登录" in page
    assert len(_sessions(world, "center")) == 1


def test_signing_in_returns_to_the_page_asked_for(world: World) -> None:
    client = world.app.test_client()
    response = login(client, "agent", next="/processes")
    assert response.headers["Location"] == "/processes"


def test_a_wrong_password_answers_401_with_a_message(world: World) -> None:
    client = world.app.test_client()
    response = login(client, "agent", "wrong-password")
    assert response.status_code == 401
    page = text(response)
    assert "用户名或密码错误。" in page
    assert 'value="agent"' in page  # the user name stays filled in
    assert _sessions(world, "agent") == []
    assert client.get("/tasks").status_code == 302  # still signed out


def test_the_sixth_failed_attempt_is_slowed_down_without_checking_the_password(
    world: World,
) -> None:
    client = world.app.test_client()
    for _ in range(5):
        assert login(client, "agent", "wrong-password").status_code == 401
    response = login(client, "agent")  # the right password, but too soon
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    page = text(response)
    assert "失败次数过多，请在" in page
    assert "秒后重试" in page
    assert _sessions(world, "agent") == []


def test_pages_need_a_signed_in_user(world: World) -> None:
    client = world.app.test_client()
    response = client.get("/tasks?list=group")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "%2Ftasks" in response.headers["Location"]


def test_the_sign_in_page_says_why_in_chinese(world: World) -> None:
    client = world.app.test_client()
    page = text(client.get("/tasks", follow_redirects=True))
    assert "请先登录再打开此页面。" in page
    assert "Please log in" not in page


def test_an_expired_server_side_session_sends_you_back_to_sign_in(world: World) -> None:
    client = world.client("agent")
    assert client.get("/tasks").status_code == 200
    (row,) = _sessions(world, "agent")
    with world.session_factory() as session:
        session.get(LoginSession, row.id).expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    response = client.get("/tasks")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert _sessions(world, "agent") == []  # the expired row is gone


def test_signing_out_deletes_the_session_row(world: World) -> None:
    client = world.client("agent")
    assert len(_sessions(world, "agent")) == 1
    response = post(client, "/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert _sessions(world, "agent") == []
    assert "您已退出登录。" in text(client.get("/login"))
    assert client.get("/tasks").status_code == 302


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    client = world.client("agent")
    task = world.task("DEMO-0002", "callback")
    response = client.post(f"/tasks/{task.id}/claim")
    assert response.status_code == 400
    assert "请求有误" in text(response)
    assert world.task("DEMO-0002", "callback").assignee is None
    assert client.post("/logout").status_code == 400
    assert len(_sessions(world, "agent")) == 1


def test_signing_in_without_csrf_token_is_refused(world: World) -> None:
    client = world.app.test_client()
    csrf(client)
    response = client.post("/login", data={"username": "agent", "password": "demo1234"})
    assert response.status_code == 400
    assert _sessions(world, "agent") == []
