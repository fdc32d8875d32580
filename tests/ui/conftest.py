"""Fixtures for plain HTTP tests of the staff UI (Flask's test client, SQLite only).

- ``make_ui_app(**config)``: a new app on a fresh SQLite database; a test may add routes to it
  before its first request.
- ``ui_app`` / ``client``: one such app and its test client.
- ``csrf_token(client)``: the token a page's forms carry, read from a rendered page, so form
  posts work whether or not CSRF protection is switched on.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.db import make_engine
from engine.models import Base
from engine.state import spec_cache

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def make_ui_app(tmp_path: Path) -> Callable[..., Flask]:
    spec_cache.clear()
    url = f"sqlite:///{tmp_path / 'ui.sqlite'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()

    def make(**config: object) -> Flask:
        from webapp import create_app

        return create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": url,
                "SQLALCHEMY_ENGINE_OPTIONS": {},
                "SECRET_KEY": "test",
                "EMBEDDED_TIMERS": False,
                "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
                **config,
            }
        )

    return make


@pytest.fixture
def ui_app(make_ui_app: Callable[..., Flask]) -> Flask:
    return make_ui_app()


@pytest.fixture
def client(ui_app: Flask) -> FlaskClient:
    return ui_app.test_client()


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/__a_page_that_does_not_exist__").get_data(as_text=True)
    match = TOKEN.search(page)
    assert match, "the layout's language form carries no csrf_token"
    return match.group(1)
