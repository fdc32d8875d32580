"""A deactivated user is out at once, API tokens expire, and session ids are stored hashed."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.testing import FlaskClient

from engine.identity import issue_token
from engine.models import ApiToken, User, utcnow
from tests.ui import pages
from tests.ui.pages import World, post, text
from webapp.cli import cli
from webapp.models import LoginSession

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def _sessions(world: World, username: str) -> list[LoginSession]:
    with world.session_factory() as session:
        user_id = session.scalar(sa.select(User.id).where(User.username == username))
        return list(session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user_id)))


def _token(world: World, username: str, days: int = 90) -> str:
    with world.session_factory() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        token = issue_token(session, user, "test", days=days)
        session.commit()
        return token


def _api(world: World, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return world.app.test_client().get("/api/v1/tasks", headers=headers).status_code


def _cookie_secret(world: World, client: FlaskClient) -> str:
    cookie = client.get_cookie(world.app.config.get("SESSION_COOKIE_NAME", "session"))
    serializer = world.app.session_interface.get_signing_serializer(world.app)
    return serializer.loads(cookie.value)["_user_id"]


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/tasks").status_code == 200


def _deactivate_on_the_users_page(world: World, username: str) -> None:
    user = world.user(username)
    form = {"username": username, "org": user.org_unit.code, "roles": user.roles}
    response = post(world.client("admin"), "/admin/users", form)  # "active" left unticked
    assert response.status_code == 302
    assert world.user(username).active is False


# ---- session ids --------------------------------------------------------------------------


def test_the_session_row_is_keyed_by_the_hash_of_the_cookies_secret(world: World) -> None:
    client = world.client("agent")
    secret = _cookie_secret(world, client)
    (row,) = _sessions(world, "agent")
    assert row.id == hashlib.sha256(secret.encode()).hexdigest()
    assert row.id != secret


def test_a_session_row_id_used_as_the_cookies_secret_signs_nobody_in(world: World) -> None:
    world.client("agent")
    (row,) = _sessions(world, "agent")
    forged = world.app.test_client()
    with forged.session_transaction() as session:
        session["_user_id"] = row.id  # what someone with a copy of the table would try
        session["_fresh"] = True
    response = forged.get("/tasks")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# ---- deactivation ---------------------------------------------------------------------------


def test_deactivating_a_user_on_the_users_page_deletes_their_sessions(world: World) -> None:
    victim = world.client("agent2")
    assert _signed_in(victim)
    _deactivate_on_the_users_page(world, "agent2")
    assert _sessions(world, "agent2") == []
    assert not _signed_in(victim)


def test_a_deactivated_users_api_token_answers_401_at_once(world: World) -> None:
    token = _token(world, "agent2")
    assert _api(world, token) == 200
    _deactivate_on_the_users_page(world, "agent2")
    assert _api(world, token) == 401


def test_reactivating_a_user_does_not_bring_their_old_token_back(world: World) -> None:
    token = _token(world, "agent2")
    _deactivate_on_the_users_page(world, "agent2")
    user = world.user("agent2")
    form = {"username": "agent2", "org": user.org_unit.code, "active": "true"}
    assert post(world.client("admin"), "/admin/users", form).status_code == 302
    assert world.user("agent2").active is True
    assert _api(world, token) == 401


def test_an_inactive_users_token_is_refused_even_if_nothing_revoked_it(world: World) -> None:
    token = _token(world, "agent2")
    with world.session_factory() as session:
        session.scalar(sa.select(User).where(User.username == "agent2")).active = False
        session.commit()
    assert _api(world, token) == 401


def test_an_inactive_users_old_session_cookie_is_refused(world: World) -> None:
    victim = world.client("agent2")
    with world.session_factory() as session:
        session.scalar(sa.select(User).where(User.username == "agent2")).active = False
        session.commit()
    assert not _signed_in(victim)
    assert _sessions(world, "agent2") == []


@pytest.fixture
def csm(world: World, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("DATABASE_URL", world.app.config["SQLALCHEMY_DATABASE_URI"])
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_csm_user_add_inactive_ends_the_users_sessions_and_tokens(world: World, csm) -> None:  # noqa: ANN001
    victim = world.client("agent2")
    token = _token(world, "agent2")
    assert csm("user", "add", "agent2", "--inactive").exit_code == 0
    assert not _signed_in(victim)
    assert _api(world, token) == 401


def test_the_user_import_with_active_no_ends_the_users_sessions(world: World) -> None:
    victim = world.client("agent2")
    token = _token(world, "agent2")
    admin = world.client("admin")
    csv = b"username,active\nagent2,no\n"
    response = post(admin, "/admin/users/import", {"file": (BytesIO(csv), "u.csv")})
    assert response.status_code == 302
    assert not _signed_in(victim)
    assert _api(world, token) == 401


def test_an_import_with_an_unreadable_active_value_changes_nobody(world: World) -> None:
    victim = world.client("agent2")
    csv = b"username,active\nagent2,maybe\n"
    admin = world.client("admin")
    response = post(admin, "/admin/users/import", {"file": (BytesIO(csv), "u.csv")})
    assert response.status_code == 422
    assert _signed_in(victim)


# ---- expiry --------------------------------------------------------------------------------


def test_an_expired_token_answers_401(world: World) -> None:
    token = _token(world, "agent")
    with world.session_factory() as session:
        for row in session.scalars(sa.select(ApiToken)):
            row.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    assert _api(world, token) == 401


def test_a_new_token_expires_after_the_configured_days(world: World) -> None:
    world.app.config["TOKEN_DAYS"] = 7
    response = post(world.client("agent"), "/profile/tokens", {"name": "phone"})
    assert response.status_code == 201
    page = text(response)
    # the page shows the day in the user's time zone (the default, Asia/Shanghai)
    expires = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=7)
    assert re.search(rf"data-new-token-expires>[^<]*<time [^>]*>{expires:%Y-%m-%d}<", page)
    with world.session_factory() as session:
        row = session.scalar(sa.select(ApiToken).where(ApiToken.name == "phone"))
    assert timedelta(days=7) - (row.expires_at - row.created_at) < timedelta(minutes=1)


def test_the_profile_lists_each_tokens_expiry_and_not_expired_ones(world: World) -> None:
    client = world.client("agent")
    post(client, "/profile/tokens", {"name": "kept"})
    post(client, "/profile/tokens", {"name": "gone"})
    with world.session_factory() as session:
        row = session.scalar(sa.select(ApiToken).where(ApiToken.name == "gone"))
        row.expires_at = utcnow() - timedelta(days=1)
        session.commit()
    page = text(client.get("/profile"))
    assert "kept" in page and "gone" not in page
    assert len(re.findall(r"data-token-expires><time [^>]*>\d{4}-\d\d-\d\d<", page)) == 1


def test_csm_user_token_prints_the_token_alone_and_its_expiry_on_stderr(world: World, csm) -> None:  # noqa: ANN001
    result = csm("user", "token", "agent", "--days", "3")
    assert result.exit_code == 0
    (token,) = result.stdout.split()
    assert _api(world, token) == 200
    expected = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%d")
    assert result.stderr.startswith(f"expires {expected}")


def test_csm_user_token_refuses_an_inactive_user(world: World, csm) -> None:  # noqa: ANN001
    csm("user", "add", "agent2", "--inactive")
    result = csm("user", "token", "agent2")
    assert result.exit_code == 1
    assert result.stdout == ""
