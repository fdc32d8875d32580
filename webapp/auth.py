"""Sign-in for the staff UI: hashed passwords, server-side sessions that expire, CSRF on
every form. Repeated failed sign-ins are slowed down by ``webapp.throttle``.

The session cookie carries a random secret; the ``login_session`` row is keyed by its SHA-256,
like API tokens, so a copy of the table lets nobody in. Signing out, an expired row or an
administrator deactivating the user ends the session on the server, whatever the browser kept.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, request
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.security import check_password_hash, generate_password_hash

from engine.identity import Actor, actor_for
from engine.models import User, utcnow

from .extensions import db
from .models import LoginSession

login_manager = LoginManager()
csrf = CSRFProtect()

TOUCH_EVERY = timedelta(seconds=60)
_DUMMY_HASH = generate_password_hash("not a real password")


def session_key(secret: str) -> str:
    """The ``login_session`` row id of the secret a cookie carries."""
    return hashlib.sha256(secret.encode()).hexdigest()


class SignedIn(UserMixin):
    """The signed-in user as Flask-Login sees it: the user row plus the session's secret
    (what the cookie keeps) and its row id (the secret's hash)."""

    def __init__(self, user: User, secret: str) -> None:
        object.__setattr__(self, "user", user)
        object.__setattr__(self, "secret", secret)
        object.__setattr__(self, "session_id", session_key(secret))

    def get_id(self) -> str:
        return self.secret

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
    login_manager.login_message = lazy_gettext("Please sign in to open this page.")
    login_manager.session_protection = None  # the server-side row is the protection
    csrf.init_app(app)


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


@login_manager.user_loader
def _load(secret: str) -> SignedIn | None:
    row = db.session.get(LoginSession, session_key(secret))
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
    return SignedIn(user, secret)


def authenticate(username: str, password: str) -> User | None:
    """The user when the name and password are right and the user is active, else None.

    A missing user costs the same hash check, so timing does not tell which names exist.
    """
    user = db.session.scalar(sa.select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password) and user is not None and user.active
    return user if ok else None


def start_session(user: User) -> SignedIn:
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    row = LoginSession(
        id=session_key(secret),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + _idle(),
        remote_addr=(request.remote_addr or "")[:64],
        user_agent=(request.user_agent.string or "")[:300],
    )
    db.session.add(row)
    db.session.commit()
    return SignedIn(user, secret)


def end_session() -> None:
    if current_user.is_authenticated:
        row = db.session.get(LoginSession, current_user.session_id)
        if row is not None:
            db.session.delete(row)
            db.session.commit()


def current_actor() -> Actor:
    return current_user.actor
