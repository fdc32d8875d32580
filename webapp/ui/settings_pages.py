"""Settings that team leads and managers change: the callback satisfaction threshold."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aftersales.settings import service as settings
from engine.errors import InvalidInput

from ..extensions import db
from . import bp


@bp.get("/settings")
def settings_page():  # noqa: ANN201
    values = {name: settings.value(db.session, name) for name in settings.SETTINGS}
    return render_template("settings/settings.html", values=values, errors={})


@bp.post("/settings")
def settings_save():  # noqa: ANN201
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
