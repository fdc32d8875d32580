"""Sign-in throttling (webapp/throttle.py): failed sign-ins are limited per client address and
per (address, user name), counted in Redis when there is one and in memory otherwise; it
stores nothing per name, believes X-Forwarded-For only from a configured proxy, and cannot be
used to lock a real user out from elsewhere.

Each test runs on memory storage and, when REDIS_URL names a Redis, on Redis as well.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from engine.db import make_engine, make_session_factory
from engine.identity import upsert_user
from engine.models import Base
from tests.ui import conftest as ui_fixtures

make_ui_app = ui_fixtures.make_ui_app  # the fixture: a new app on a fresh SQLite database
REDIS_URL = os.environ.get("REDIS_URL", "")
PASSWORD = "right-password"
A, B = "203.0.113.7", "198.51.100.23"


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.integration),
    ]
)
def storage(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI needs REDIS_URL for the Redis sign-in counters")
        pytest.skip("REDIS_URL does not name a Redis")
    return REDIS_URL


def app_factory(make_ui_app: Callable[..., Flask], storage: str) -> Callable[..., Flask]:
    """Apps (like web processes) that share one set of counters, with user ``agent``."""
    prefix = f"test-{uuid.uuid4().hex}"

    def make(**config: object) -> Flask:
        app = make_ui_app(
            WTF_CSRF_ENABLED=False,
            RATELIMIT_STORAGE_URI=storage,
            RATELIMIT_KEY_PREFIX=prefix,
            SIGNIN_LIMIT_PER_NAME="5 per minute",
            SIGNIN_LIMIT_PER_ADDRESS="12 per minute",
            **config,
        )
        engine = make_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with make_session_factory(engine)() as session:
            upsert_user(session, username="agent", password_hash=generate_password_hash(PASSWORD))
            session.commit()
        engine.dispose()
        return app

    return make


@pytest.fixture
def make_app(make_ui_app, storage: str) -> Callable[..., Flask]:  # noqa: ANN001
    return app_factory(make_ui_app, storage)


def sign_in(client: FlaskClient, username: str, password: str, address: str = A, **headers: str):  # noqa: ANN201
    return client.post(
        "/login",
        data={"username": username, "password": password},
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


def fail(client: FlaskClient, times: int, username: str = "agent", address: str = A) -> None:
    for _ in range(times):
        assert sign_in(client, username, "wrong", address).status_code == 401


def test_the_sixth_failure_from_an_address_for_a_name_is_refused_with_retry_after(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app().test_client()
    fail(client, 5)
    response = sign_in(client, "agent", PASSWORD)  # right, but too soon: not even checked
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    page = response.get_data(as_text=True)
    assert "失败次数过多，请在" in page and 'name="username"' in page
    assert client.get("/tasks").status_code == 302  # still signed out


def test_the_refusal_speaks_english_to_an_english_reader(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.post("/locale", data={"locale": "en", "next": "/login"})
    fail(client, 5)
    page = sign_in(client, "agent", PASSWORD).get_data(as_text=True)
    assert "Too many failed attempts. Try again in" in page


def test_an_attacker_locked_out_cannot_lock_the_user_out_from_another_address(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    fail(app.test_client(), 5, address=A)
    assert sign_in(app.test_client(), "agent", PASSWORD, A).status_code == 429
    assert sign_in(app.test_client(), "agent", PASSWORD, B).status_code == 302


def test_one_address_is_limited_across_every_name_it_tries(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    for n in range(12):
        fail(client, 1, username=f"guess{n}")
    assert sign_in(client, "someone-new", "x").status_code == 429
    assert sign_in(client, "someone-new", "x", address=B).status_code == 401


def test_successful_sign_ins_are_not_counted(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    for _ in range(8):
        assert sign_in(app.test_client(), "agent", PASSWORD).status_code == 302


@pytest.mark.integration
def test_web_processes_share_the_counters_in_redis(make_ui_app) -> None:  # noqa: ANN001
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI needs REDIS_URL for the Redis sign-in counters")
        pytest.skip("REDIS_URL does not name a Redis")
    make = app_factory(make_ui_app, REDIS_URL)
    first, second = make(), make()
    fail(first.test_client(), 5)
    assert sign_in(second.test_client(), "agent", PASSWORD).status_code == 429


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:6379/5"])
def test_the_counters_live_in_redis_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
    redis_url: str,  # noqa: ANN001
) -> None:
    from webapp.config import from_environment

    monkeypatch.setenv("REDIS_URL", redis_url)
    assert from_environment(tmp_path)["RATELIMIT_STORAGE_URI"] == (redis_url or "memory://")


def test_made_up_names_leave_no_row_in_the_database(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    engine = make_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def rows() -> dict[str, int]:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in Base.metadata.sorted_tables
            }

    before = rows()
    client = app.test_client()
    for n in range(10):
        fail(client, 1, username=f"nobody-{uuid.uuid4().hex}", address=f"192.0.2.{n}")
    assert rows() == before
    assert "login_attempt" not in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_without_a_configured_proxy_x_forwarded_for_is_ignored(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app().test_client()
    for n in range(5):
        response = sign_in(client, "agent", "wrong", A, **{"X-Forwarded-For": f"10.0.0.{n}"})
        assert response.status_code == 401
    forged = sign_in(client, "agent", PASSWORD, A, **{"X-Forwarded-For": "10.9.9.9"})
    assert forged.status_code == 429


def test_behind_a_configured_proxy_the_forwarded_client_address_is_limited(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app(PROXY_FIX={"x_for": 1}).test_client()
    for _ in range(5):
        response = sign_in(client, "agent", "wrong", "10.0.0.1", **{"X-Forwarded-For": A})
        assert response.status_code == 401
    locked = sign_in(client, "agent", PASSWORD, "10.0.0.1", **{"X-Forwarded-For": A})
    assert locked.status_code == 429
    other = sign_in(client, "agent", PASSWORD, "10.0.0.1", **{"X-Forwarded-For": B})
    assert other.status_code == 302  # another client behind the same proxy
