"""Pages every other page relies on: the language switch and the health check."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort, jsonify, redirect, request, session
from flask_babel import refresh
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..i18n import LOCALES, signed_in_user
from . import bp
from .helpers import safe_next

log = logging.getLogger(__name__)


@bp.post("/locale")
def set_locale():  # noqa: ANN201
    """Form fields ``locale`` (zh or en) and ``next`` (a path on this site)."""
    locale = request.form.get("locale", "")
    if locale not in LOCALES:
        abort(400)
    raw_next = request.form.get("next") or "/"
    target = safe_next(raw_next, default="")
    if not target:
        abort(400)
    session["locale"] = locale
    user = signed_in_user()
    if user is not None and hasattr(user, "locale"):
        user.locale = locale
        db.session.commit()
    refresh()
    return redirect(target, code=303)


@bp.get("/healthz")
def healthz():  # noqa: ANN201
    """For load balancers and docker-compose: 200 when the database answers, else 503."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        log.exception("health check: the database does not answer")
        db.session.rollback()
        return jsonify({"status": "error", "database": "unavailable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
