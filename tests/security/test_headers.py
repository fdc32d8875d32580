"""Every answer carries the security headers set once in ``create_app`` (webapp/headers.py),
and no template brings back what the Content-Security-Policy forbids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from tests.ui import conftest as ui_fixtures
from tests.ui import pages
from webapp.headers import FILE_POLICY

make_ui_app = ui_fixtures.make_ui_app  # the fixture: a new app on a fresh SQLite database
world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL
TEMPLATES = Path(__file__).resolve().parents[2] / "webapp" / "templates"


@pytest.fixture
def app(make_ui_app) -> Flask:  # noqa: ANN001
    return make_ui_app()


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_a_page_gets_a_policy_that_runs_only_the_sites_own_script_files(app: Flask) -> None:
    policy = _directives(app.test_client().get("/login").headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]


def test_the_page_policy_allows_no_inline_style_eval_plugins_or_foreign_framing(
    app: Flask,
) -> None:
    header = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    policy = _directives(header)
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_an_error_page_and_a_redirect_carry_the_page_policy_too(app: Flask) -> None:
    client = app.test_client()
    for response in (client.get("/no-such-page"), client.get("/tasks")):
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path", ["/login", "/healthz", "/api/v1/openapi.json", "/static/css/app.css", "/nowhere"]
)
def test_every_answer_says_nosniff_and_same_origin_referrers(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_an_answer_that_is_not_a_page_may_run_nothing(app: Flask) -> None:
    for path in ("/api/v1/openapi.json", "/api/v1/tasks", "/static/js/app.js"):
        assert app.test_client().get(path).headers["Content-Security-Policy"] == FILE_POLICY


def test_the_session_cookie_is_secure_on_https(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/login", base_url="https://csm.example")
    assert "Secure" in response.headers["Set-Cookie"]


def test_the_session_cookie_is_not_secure_on_plain_http_unless_configured(
    make_ui_app,  # noqa: ANN001
) -> None:
    plain = make_ui_app().test_client().get("/login")
    assert "Secure" not in plain.headers["Set-Cookie"]
    forced = make_ui_app(SESSION_COOKIE_SECURE=True).test_client().get("/login")
    assert "Secure" in forced.headers["Set-Cookie"]


def test_behind_a_trusted_proxy_the_forwarded_scheme_makes_the_cookie_secure(
    make_ui_app,  # noqa: ANN001
) -> None:
    headers = {"X-Forwarded-Proto": "https"}
    trusted = make_ui_app(PROXY_FIX={"x_proto": 1}).test_client().get("/login", headers=headers)
    assert "Secure" in trusted.headers["Set-Cookie"]
    untrusted = make_ui_app().test_client().get("/login", headers=headers)
    assert "Secure" not in untrusted.headers["Set-Cookie"]


# ---- the templates keep to the policy ---------------------------------------------------


def _templates() -> list[tuple[str, str]]:
    return [
        (str(p.relative_to(TEMPLATES)), p.read_text()) for p in sorted(TEMPLATES.rglob("*.html"))
    ]


def test_no_template_has_an_inline_script() -> None:
    found = [
        name
        for name, text in _templates()
        for tag in re.findall(r"<script\b[^>]*>", text)
        if "src=" not in tag and 'type="application/json"' not in tag
    ]
    assert found == []


def test_no_template_has_an_inline_event_handler_or_script_url() -> None:
    pattern = re.compile(r"""\son[a-z]+\s*=|javascript:|hx-on|hx-vals=['"]js:""", re.I)
    assert [name for name, text in _templates() if pattern.search(text)] == []


def test_no_template_has_a_style_attribute_or_element() -> None:
    pattern = re.compile(r"""\sstyle\s*=|<style\b""", re.I)
    assert [name for name, text in _templates() if pattern.search(text)] == []


def test_no_template_marks_a_value_safe() -> None:
    assert [name for name, text in _templates() if "|safe" in text.replace(" ", "")] == []


def test_json_in_an_attribute_is_single_quoted() -> None:
    """Jinja's tojson escapes < > & ' but not ": only a single-quoted attribute holds it."""
    pattern = re.compile(r"""="\{\{[^}]*\|\s*tojson""")
    assert [name for name, text in _templates() if pattern.search(text)] == []


def test_only_the_decision_editor_allows_style_attributes_and_never_inline_script(
    world: pages.World,
) -> None:
    client = world.client("designer")
    editor = client.get("/decisions/service_fee/edit")
    assert editor.status_code == 200
    policy = _directives(editor.headers["Content-Security-Policy"])
    assert policy["style-src-attr"] == ["'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert "style-src-attr" not in client.get("/tasks").headers["Content-Security-Policy"]


def test_a_downloaded_model_file_keeps_its_own_sandbox_policy(world: pages.World) -> None:
    download = world.client("manager").get("/definitions/service_fee/1/source")
    assert download.status_code == 200
    assert download.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
