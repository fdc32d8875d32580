"""Sign-in for the staff UI: hashed passwords, server-side sessions that expire, CSRF on
every form, and slowing down of repeated failed sign-ins.

The session cookie carries only the id of a ``login_session`` row (Flask-Login's
"alternative token"): signing out, an expired row or an administrator deactivating the user
ends the session on the server, whatever the browser kept.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, request
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.security import check_password_hash, generate_password_hash

from engine.identity import Actor, actor_for
from engine.models import User, utcnow

from .extensions import db
from .models import LoginAttempt, LoginSession

login_manager = LoginManager()
csrf = CSRFProtect()

FREE_FAILURES = 5
FIRST_BLOCK_S = 30
MAX_BLOCK_S = 15 * 60
TOUCH_EVERY = timedelta(seconds=60)
_DUMMY_HASH = generate_password_hash("not a real password")


class SignedIn(UserMixin):
    """The signed-in user as Flask-Login sees it: the user row plus the session row's id."""

    def __init__(self, user: User, session_id: str) -> None:
        object.__setattr__(self, "user", user)
        object.__setattr__(self, "session_id", session_id)

    def get_id(self) -> str:
        return self.session_id

    @property
    def actor(self) -> Actor:
        return actor_for(self.user)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.user, name, value)


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_IDLE_MINUTES", 8 * 60)
    app.config.setdefault("SESSION_MAX_DAYS", 7)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the server-side session expires instead
    login_manager.init_app(app)
    login_manager.login_view = "ui.login"
    login_manager.session_protection = None  # the server-side row is the protection
    csrf.init_app(app)


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


@login_manager.user_loader
def _load(session_id: str) -> SignedIn | None:
    row = db.session.get(LoginSession, session_id)
    now = utcnow()
    if row is None:
        return None
    user = db.session.get(User, row.user_id)
    if row.expires_at <= now or user is None or not user.active:
        db.session.delete(row)
        db.session.commit()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        limit = row.created_at + timedelta(days=current_app.config["SESSION_MAX_DAYS"])
        row.last_seen_at, row.expires_at = now, min(now + _idle(), limit)
        db.session.commit()
    return SignedIn(user, row.id)


def blocked_for(username: str, now: datetime | None = None) -> int:
    """Seconds until this user name may try again; 0 when it may now."""
    now = now or utcnow()
    row = db.session.get(LoginAttempt, username.lower())
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0
    return int((row.blocked_until - now).total_seconds()) + 1


def _record_failure(username: str) -> None:
    key = username.lower()[:80]
    row = db.session.get(LoginAttempt, key) or LoginAttempt(username=key, failures=0)
    db.session.add(row)
    row.failures += 1
    row.last_failure_at = utcnow()
    if row.failures >= FREE_FAILURES:
        delay = min(FIRST_BLOCK_S * 2 ** (row.failures - FREE_FAILURES), MAX_BLOCK_S)
        row.blocked_until = row.last_failure_at + timedelta(seconds=delay)
    db.session.commit()


def authenticate(username: str, password: str) -> User | None:
    """The user when the password is right; records a failure otherwise.

    A missing user costs the same hash check, so timing does not tell which names exist.
    """
    user = db.session.scalar(sa.select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password) and user is not None and user.active
    if not ok:
        _record_failure(username)
        return None
    attempt = db.session.get(LoginAttempt, username.lower())
    if attempt is not None:
        db.session.delete(attempt)
    return user


def start_session(user: User) -> SignedIn:
    now = utcnow()
    row = LoginSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + _idle(),
        remote_addr=(request.remote_addr or "")[:64],
        user_agent=(request.user_agent.string or "")[:300],
    )
    db.session.add(row)
    db.session.commit()
    return SignedIn(user, row.id)


def end_session() -> None:
    if current_user.is_authenticated:
        row = db.session.get(LoginSession, current_user.session_id)
        if row is not None:
            db.session.delete(row)
            db.session.commit()


def current_actor() -> Actor:
    return current_user.actor
