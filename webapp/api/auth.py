"""Bearer-token authentication for the API."""

from __future__ import annotations

from flask import g, request

from engine.identity import Actor, actor_for, user_for_token

from ..extensions import db
from .errors import ApiError


def current_actor() -> Actor:
    """The caller, from ``Authorization: Bearer TOKEN``; 401 when missing or unknown."""
    actor = g.get("actor")
    if actor is not None:
        return actor
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer TOKEN")
    user = user_for_token(db.session, token.strip())
    if user is None:
        raise ApiError(401, "unauthorized", "unknown, expired or revoked token")
    g.actor = actor_for(user)
    return g.actor
