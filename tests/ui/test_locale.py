"""POST /locale, the locale selector's order and /healthz."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask_login import LoginManager

from webapp.ui.helpers import safe_next

from .conftest import csrf_token


def switch(client, locale: str, next_: str | None = "/tasks?page=2"):  # noqa: ANN001, ANN201
    data = {"locale": locale, "csrf_token": csrf_token(client)}
    if next_ is not None:
        data["next"] = next_
    return client.post("/locale", data=data)


def test_default_language_is_chinese(client) -> None:  # noqa: ANN001
    body = client.get("/nowhere").get_data(as_text=True)
    assert '<html lang="zh-CN">' in body
    assert "页面不存在" in body


def test_accept_language_does_not_override_the_default(client) -> None:  # noqa: ANN001
    body = client.get("/nowhere", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in body


def test_switching_sets_the_session_and_redirects_to_next(client) -> None:  # noqa: ANN001
    response = switch(client, "en")
    assert response.status_code == 303
    assert response.headers["Location"] == "/tasks?page=2"
    with client.session_transaction() as session:
        assert session["locale"] == "en"
    body = client.get("/nowhere").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "Page not found" in body
    switch(client, "zh")
    assert "页面不存在" in client.get("/nowhere").get_data(as_text=True)


def test_missing_next_goes_to_the_start_page(client) -> None:  # noqa: ANN001
    response = switch(client, "en", next_=None)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("locale", ["fr", "", "zh_TW", "EN"])
def test_unknown_locale_is_refused(client, locale: str) -> None:  # noqa: ANN001
    response = switch(client, locale)
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "locale" not in session


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nSet-Cookie: x=1",
        "/\tevil",
        "http:/evil.example",
    ],
)
def test_open_redirects_are_refused(client, target: str) -> None:  # noqa: ANN001
    response = switch(client, "en", next_=target)
    assert response.status_code == 400
    assert "Location" not in response.headers
    with client.session_transaction() as session:
        assert "locale" not in session


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/tasks", "/tasks"),
        ("/tasks/12?tab=history#x", "/tasks/12?tab=history#x"),
        ("/calls/incoming?phone=13800000000", "/calls/incoming?phone=13800000000"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


@dataclass
class FakeUser:
    """What the selector needs of a user: Flask-Login's flags and a ``locale`` attribute."""

    id: str = "1"
    display_name: str = "王小明"
    username: str = "agent"
    locale: str | None = "en"
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.id


def with_login(app: Flask, user: object) -> None:
    manager = LoginManager()
    manager.init_app(app)
    manager.request_loader(lambda request: user if request.headers.get("X-User") else None)


def test_the_users_saved_locale_comes_first(ui_app: Flask) -> None:
    user = FakeUser(locale="en")
    with_login(ui_app, user)
    client = ui_app.test_client()
    assert "Page not found" in client.get("/nowhere", headers={"X-User": "1"}).get_data(
        as_text=True
    )
    # the session says zh, the user says en: the user wins
    with client.session_transaction() as session:
        session["locale"] = "zh"
    body = client.get("/nowhere", headers={"X-User": "1"}).get_data(as_text=True)
    assert "Page not found" in body
    # signed out, the session decides again
    assert "页面不存在" in client.get("/nowhere").get_data(as_text=True)


def test_a_user_without_a_saved_locale_falls_back_to_the_session(ui_app: Flask) -> None:
    with_login(ui_app, FakeUser(locale=None))
    client = ui_app.test_client()
    assert "页面不存在" in client.get("/nowhere", headers={"X-User": "1"}).get_data(as_text=True)


def test_switching_saves_the_signed_in_users_choice(
    ui_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp.extensions import db

    user = FakeUser(locale="en")
    with_login(ui_app, user)
    commits: list[bool] = []
    client = ui_app.test_client()
    token = csrf_token(client)
    with ui_app.app_context():
        monkeypatch.setattr(db.session, "commit", lambda: commits.append(True))
        response = client.post(
            "/locale",
            data={"locale": "zh", "next": "/tasks", "csrf_token": token},
            headers={"X-User": "1"},
        )
    assert response.status_code == 303
    assert user.locale == "zh"
    assert commits == [True]


def test_layout_shows_the_signed_in_user_and_a_logout_form(ui_app: Flask) -> None:
    with_login(ui_app, FakeUser())
    body = ui_app.test_client().get("/nowhere", headers={"X-User": "1"}).get_data(as_text=True)
    assert '<span class="user-name">王小明</span>' in body
    assert '<form method="post" action="/logout" class="logout-form">' in body
    logout = body[body.index('action="/logout"') :]
    assert 'name="csrf_token"' in logout[: logout.index("</form>")]


def test_layout_renders_without_flask_login(client) -> None:  # noqa: ANN001
    body = client.get("/nowhere").get_data(as_text=True)
    assert "logout" not in body
    assert "user-name" not in body


def test_healthz_answers_ok(app) -> None:  # noqa: ANN001  (runs on SQLite and PostgreSQL)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(make_ui_app, tmp_path) -> None:  # noqa: ANN001
    app = make_ui_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}
