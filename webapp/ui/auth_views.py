"""Sign in and out, and the profile page: language and personal API tokens."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from engine.identity import issue_token
from engine.models import ApiToken, utcnow

from ..auth import authenticate, blocked_for, end_session, start_session
from ..extensions import db
from . import bp
from .helpers import safe_next


@bp.get("/")
def home():  # noqa: ANN201
    return redirect(url_for("ui.inbox"))


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    target = safe_next(request.values.get("next"), url_for("ui.inbox"))
    if current_user.is_authenticated:
        return redirect(target)
    error, status = None, 200
    username = (request.form.get("username") or "").strip()
    if request.method == "POST":
        wait = blocked_for(username) if username else 0
        if wait:
            error = _("Too many failed attempts. Try again in %(seconds)s seconds.", seconds=wait)
            status = 429
        else:
            user = authenticate(username, request.form.get("password") or "")
            if user is not None:
                login_user(start_session(user))
                return redirect(target)
            error, status = _("Wrong user name or password."), 401
    return render_template("auth/login.html", error=error, username=username, next=target), status


@bp.post("/logout")
def logout():  # noqa: ANN201
    end_session()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("ui.login"))


@bp.get("/profile")
@login_required
def profile():  # noqa: ANN201
    tokens = db.session.scalars(
        sa.select(ApiToken)
        .where(ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("auth/profile.html", tokens=tokens, new_token=None)


@bp.post("/profile/tokens")
@login_required
def create_token():  # noqa: ANN201
    name = (request.form.get("name") or "").strip()[:80] or _("API token")
    token = issue_token(db.session, current_user.user, name)
    db.session.commit()
    tokens = db.session.scalars(
        sa.select(ApiToken)
        .where(ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    ).all()
    return render_template("auth/profile.html", tokens=tokens, new_token=token), 201


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):  # noqa: ANN201
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()
    flash(_("The token was revoked."), "success")
    return redirect(url_for("ui.profile"))
