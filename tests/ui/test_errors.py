"""HTML error pages outside /api/, JSON inside it; never a stack trace."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, abort, request

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from webapp.policy import OPEN, declare

from .conftest import csrf_token

CODES = [400, 403, 404, 405, 409, 413, 422, 429, 500]


class Boom(Exception):
    pass


@pytest.fixture
def app(make_ui_app) -> Flask:  # noqa: ANN001
    app = make_ui_app(MAX_CONTENT_LENGTH=1024)

    @app.get("/_t/abort/<int:code>")
    def abort_with(code: int):  # noqa: ANN202
        abort(code)

    @app.get("/_t/boom")
    def boom():  # noqa: ANN202
        raise Boom("secret detail: password=hunter2")

    @app.get("/api/v1/_t/boom")
    def api_boom():  # noqa: ANN202
        raise Boom("secret detail")

    engine_errors = {"conflict": Conflict, "forbidden": Forbidden, "missing": NotFound}
    engine_errors["invalid"] = InvalidInput

    @app.get("/_t/engine/<kind>")
    def engine_error(kind: str):  # noqa: ANN202
        raise engine_errors[kind]("engine says no", {"field": "x"})

    @app.post("/_t/upload")
    def upload():  # noqa: ANN202
        return f"{len(request.form)} fields"

    for endpoint in ("abort_with", "boom", "api_boom", "engine_error", "upload"):
        declare(app, endpoint, OPEN)  # pages of this test only, open to anyone
    return app


def html(response) -> str:  # noqa: ANN001
    assert response.content_type.startswith("text/html"), response.content_type
    return response.get_data(as_text=True)


@pytest.mark.parametrize("code", [c for c in CODES if c != 405])
def test_each_status_has_an_html_page_in_chinese(app: Flask, code: int) -> None:
    response = app.test_client().get(f"/_t/abort/{code}")
    assert response.status_code == code
    body = html(response)
    assert '<html lang="zh-CN">' in body
    assert f'<p class="error-code">{code}</p>' in body
    assert "客户服务管理系统" in body


def test_unknown_url_is_an_html_404_in_chinese(app: Flask) -> None:
    body = html(app.test_client().get("/no/such/page"))
    assert "页面不存在" in body
    assert "Not Found" not in body


def test_unknown_api_url_is_still_json(app: Flask) -> None:
    response = app.test_client().get("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": response.get_json()["message"],
        "details": None,
    }
    assert response.get_json()["message"].startswith("The requested URL was not found")


def test_api_method_not_allowed_and_errors_are_unchanged(app: Flask) -> None:
    client = app.test_client()
    response = client.delete("/api/v1/openapi.json")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    response = client.get("/api/v1/_t/boom")
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "internal_error",
        "message": "an unexpected error occurred; it was logged",
        "details": None,
    }
    response = client.get("/api/v1/tasks")  # no bearer token
    assert response.status_code == 401
    assert response.get_json()["error"]


def test_405_page_keeps_the_allow_header(app: Flask) -> None:
    response = app.test_client().post("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "此页面不接受这种请求" in html(response)


def test_409_says_someone_else_got_there_first_in_both_languages(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/_t/engine/conflict")
    assert response.status_code == 409
    assert "其他人已抢先处理——请刷新页面查看最新状态。" in html(response)
    assert 'href="/_t/engine/conflict"' in html(response)  # the reload link
    token = csrf_token(client)
    client.post("/locale", data={"locale": "en", "next": "/", "csrf_token": token})
    body = html(client.get("/_t/engine/conflict"))
    assert "Someone else got there first — reload to see the current state." in body


def test_403_says_you_may_not(app: Flask) -> None:
    client = app.test_client()
    assert "您无权执行此操作。" in html(client.get("/_t/abort/403"))
    response = client.get("/_t/engine/forbidden")
    assert response.status_code == 403
    assert "您无权执行此操作。" in html(response)


def test_a_missing_thing_gets_the_404_page_and_no_more(app: Flask) -> None:
    response = app.test_client().get("/_t/engine/missing")
    assert response.status_code == 404
    assert "engine says no" not in html(response)


@pytest.mark.parametrize(("kind", "status"), [("invalid", 422), ("conflict", 409)])
def test_a_refused_action_gets_its_page_with_the_reason(app: Flask, kind: str, status: int) -> None:
    response = app.test_client().get(f"/_t/engine/{kind}")
    assert response.status_code == status
    assert "data-error-detail>engine says no<" in html(response)


def test_too_large_a_post_is_a_413_page(app: Flask) -> None:
    response = app.test_client().post("/_t/upload", data={"f": "x" * 4096})
    assert response.status_code == 413
    assert "提交的内容过大" in html(response)


def test_unexpected_exception_is_logged_and_shown_without_details(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/_t/boom")
    assert response.status_code == 500
    body = html(response)
    assert "出错了" in body
    assert "hunter2" not in body
    assert "Traceback" not in body
    assert "Boom" not in body
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is Boom]
    assert logged, "the exception was not logged"


def test_a_broken_error_page_falls_back_to_plain_html(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp.ui import errors

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("template broke")

    monkeypatch.setattr(errors, "render_template", broken)
    response = app.test_client().get("/_t/boom")
    assert response.status_code == 500
    body = html(response)
    assert "<h1>500 Internal Server Error</h1>" in body
    assert "template broke" not in body
