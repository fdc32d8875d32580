"""Sign in and out, and the profile page: time zone and personal API tokens.

Who may call each page is declared in ``webapp/policy.py``; the views check only what depends
on the object (a token is revoked only by its owner). Failed sign-ins are throttled by
``webapp/throttle.py``, which wraps ``login``.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user

from engine.identity import Actor, issue_token
from engine.models import ApiToken, utcnow

from .. import times
from ..auth import authenticate, end_session, start_session
from ..extensions import db
from ..policy import may_call
from . import bp
from .helpers import safe_next

# where each role works, first match wins; everyone else starts in the inbox
LANDINGS = (
    ("agent", "ui.incoming_call"),
    ("team_lead", "ui.incoming_call"),
    ("engineer", "ui.engineer_jobs"),
    ("manager", "ui.definitions"),  # monitoring (流程监控)
)


def landing(actor: Actor) -> str:
    """The page the user works on: the caller page, my jobs, monitoring or the inbox."""
    for role, endpoint in LANDINGS:
        if role in actor.roles and may_call(endpoint):
            return url_for(endpoint)
    return url_for("ui.inbox")


@bp.get("/")
def home():  # noqa: ANN201
    return redirect(landing(current_user.actor))


def login_page(
    error: str | None = None, status: int = 200, *, too_many_for: int | None = None
) -> Response:
    """The sign-in page, with the name typed kept and ``error`` shown; ``too_many_for``
    (seconds) says the attempts from here are throttled (429)."""
    if too_many_for is not None:
        error = _(
            "Too many failed attempts. Try again in %(seconds)s seconds.", seconds=too_many_for
        )
        status = 429
    target = safe_next(request.values.get("next"), "")  # only a ``next`` that was given
    username = (request.form.get("username") or "").strip()
    page = render_template("auth/login.html", error=error, username=username, next=target)
    return make_response(page, status)


@bp.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    """After sign-in: the ``next`` page if it is on this site, else the user's landing."""
    target = safe_next(request.values.get("next"), "")
    if current_user.is_authenticated:
        return redirect(target or landing(current_user.actor))
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        user = authenticate(username, request.form.get("password") or "")
        if user is not None:
            login_user(start_session(user))
            return redirect(target or landing(current_user.actor))
        return login_page(_("Wrong user name or password."), 401)
    return login_page()


@bp.post("/logout")
def logout():  # noqa: ANN201
    end_session()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("ui.login"))


def _tokens() -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    return db.session.scalars(
        sa.select(ApiToken)
        .where(
            ApiToken.user_id == current_user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > utcnow(),
        )
        .order_by(ApiToken.created_at.desc())
    ).all()


def render_profile(status: int = 200, **context: object):  # noqa: ANN201
    """The profile page; ``context`` may carry a new token or the time zone field's error."""
    context.setdefault("new_token", None)
    context.setdefault("chosen_zone", times.zone_name())
    return render_template(
        "auth/profile.html", tokens=_tokens(), zone_choices=times.zone_choices(), **context
    ), status


@bp.get("/profile")
def profile():  # noqa: ANN201
    return render_profile()


@bp.post("/profile/time-zone")
def set_time_zone():  # noqa: ANN201
    """Form field ``time_zone``: one of the IANA zones offered (``webapp.times.ZONES``)."""
    zone = request.form.get("time_zone") or ""
    if not times.is_zone(zone):
        flash(_("Please correct the marked fields."), "error")
        # the select keeps the zone in force: it cannot show one it does not offer
        return render_profile(422, zone_error=_("Choose a time zone from the list."))
    current_user.user.time_zone = zone
    db.session.commit()
    refresh()  # the message below names the new zone
    flash(_("Times are now shown in %(zone)s.", zone=times.zone_label()), "success")
    return redirect(url_for("ui.profile"))


@bp.post("/profile/tokens")
def create_token():  # noqa: ANN201
    name = (request.form.get("name") or "").strip()[:80] or _("API token")
    days = current_app.config["TOKEN_DAYS"]
    token = issue_token(db.session, current_user.user, name, days=days)
    db.session.commit()
    expires = utcnow() + timedelta(days=days)
    return render_profile(201, new_token=token, new_token_expires=expires)


@bp.post("/profile/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):  # noqa: ANN201
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    token.revoked_at = token.revoked_at or utcnow()
    db.session.commit()
    flash(_("The token was revoked."), "success")
    return redirect(url_for("ui.profile"))
