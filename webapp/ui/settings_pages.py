"""Settings that team leads and managers change: the callback satisfaction threshold."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from aftersales import settings
from engine.errors import InvalidInput

from ..extensions import db
from . import bp


def _may_change_any() -> bool:
    return any(settings.may_change(current_user.actor, name) for name in settings.SETTINGS)


@bp.get("/settings")
@login_required
def settings_page():  # noqa: ANN201
    if not _may_change_any():
        abort(403)
    values = {name: settings.value(db.session, name) for name in settings.SETTINGS}
    return render_template("settings/settings.html", values=values, errors={})


@bp.post("/settings")
@login_required
def settings_save():  # noqa: ANN201
    if not _may_change_any():
        abort(403)
    try:
        settings.change(
            db.session,
            current_user.actor,
            "callback_threshold",
            request.form.get("callback_threshold"),
        )
    except InvalidInput:
        db.session.rollback()
        values = {name: settings.value(db.session, name) for name in settings.SETTINGS}
        values["callback_threshold"] = request.form.get("callback_threshold", "")
        errors = {"callback_threshold": [_("Enter a whole number from 0 to 100.")]}
        return render_template("settings/settings.html", values=values, errors=errors), 422
    db.session.commit()
    flash(_("Settings saved."), "success")
    return redirect(url_for("ui.settings_page"))
