"""Starting a process from its start form, and the order (instance) pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import queries
from engine.commands import StartInstance, execute
from engine.deployment import latest_definition, latest_definitions
from engine.errors import InvalidInput, NotFound
from engine.identity import may_start, startable_definitions
from engine.models import Comment, ProcessDefinition
from engine.org import subtree
from forms.binding import form_for
from forms.validation import coerce_post

from ..extensions import db
from ..i18n import current_locale
from . import bp
from .form_view import form_fields


def _startable() -> list[ProcessDefinition]:
    return startable_definitions(db.session, current_user.actor, latest_definitions(db.session))


@bp.get("/processes")
@login_required
def startable():  # noqa: ANN201
    return render_template("processes/list.html", definitions=_startable())


def _start_form(definition: ProcessDefinition, locale: str) -> dict | None:
    if not definition.start_form_key:
        return None
    from engine import task_forms

    version = task_forms.current_version(db.session, definition.start_form_key)
    return form_for(db.session, definition.start_form_key, version, locale)


def _render_start(definition, data=None, errors=None, status=200):  # noqa: ANN001, ANN201
    locale = current_locale()
    form = _start_form(definition, locale)
    units = subtree(db.session, current_user.actor.scope)
    return render_template(
        "processes/start.html",
        definition=definition,
        form=form,
        fields=form_fields(form, data or {}, errors or {}, locale) if form else [],
        errors=errors or {},
        units=units,
        business_key=request.form.get("business_key", ""),
    ), status


def _definition(key: str) -> ProcessDefinition:
    definition = latest_definition(db.session, key)
    if definition is None or not may_start(db.session, current_user.actor, definition):
        raise NotFound(f"process {key!r} not found")
    return definition


@bp.get("/processes/<key>/start")
@login_required
def start_form(key: str):  # noqa: ANN201
    return _render_start(_definition(key))


@bp.post("/processes/<key>/start")
@login_required
def start_process(key: str):  # noqa: ANN201
    definition = _definition(key)
    locale = current_locale()
    form = _start_form(definition, locale)
    data = coerce_post(form, request.form) if form else {}
    command = StartInstance(
        key,
        business_key=(request.form.get("business_key") or "").strip()[:200] or None,
        variables=data,
        org_unit=request.form.get("owner-unit") or None,
        locale=locale,
    )
    try:
        instance = execute(db.session, command, current_user.actor)
    except InvalidInput as exc:
        db.session.rollback()
        details = exc.details if isinstance(exc.details, dict) else {}
        errors = details.get("fields") or {"": [str(exc)]}
        flash(_("Please correct the marked fields."), "error")
        return _render_start(definition, data, errors, 422)
    flash(_("Started %(key)s.", key=instance.business_key or f"#{instance.id}"), "success")
    return redirect(url_for("ui.instance_page", instance_id=instance.id))


@bp.get("/instances")
@login_required
def instances():  # noqa: ANN201
    page = queries.Page.parse(request.args.get("page"), request.args.get("per_page") or 20)
    status = request.args.get("status") or None
    rows, total = queries.list_instances(
        db.session,
        current_user.actor,
        process_key=request.args.get("process_key") or None,
        status=status,
        business_key=(request.args.get("business_key") or "").strip() or None,
        page=page,
    )
    return render_template("instances/list.html", rows=rows, total=total, page=page)


@bp.get("/instances/<id:instance_id>")
@login_required
def instance_page(instance_id: int):  # noqa: ANN201
    instance = queries.get_instance(db.session, current_user.actor, instance_id)
    comments = db.session.scalars(
        sa.select(Comment).where(Comment.instance_id == instance.id).order_by(Comment.id)
    ).all()
    return render_template(
        "instances/instance.html",
        instance=instance,
        tasks=queries.open_tasks_of(db.session, instance.id),
        incidents=queries.incidents_of(db.session, instance.id),
        history=queries.history_of(db.session, instance.id),
        comments=comments,
    )
