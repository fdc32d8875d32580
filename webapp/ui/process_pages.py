"""Starting a process from its start form, and the order (instance) pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import monitoring, queries
from engine.commands import (
    Resume,
    RetryIncident,
    StartInstance,
    Suspend,
    Terminate,
    execute,
)
from engine.deployment import latest_definition, latest_definitions
from engine.errors import InvalidInput, NotFound
from engine.identity import may_start, startable_definitions
from engine.models import Comment, Incident, ProcessDefinition
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
    incidents = queries.incidents_of(db.session, instance.id)
    path = monitoring.instance_path(db.session, instance)
    drawn = monitoring.drawn_activity(db.session, instance.definition_id)
    open_incidents: dict[str, int] = {}
    for incident in incidents:
        if incident.status == "open":
            shown = drawn.get(incident.activity or "", incident.activity or "")
            open_incidents[shown] = open_incidents.get(shown, 0) + 1
    source = db.session.scalar(
        sa.select(ProcessDefinition.source).where(ProcessDefinition.id == instance.definition_id)
    )
    return render_template(
        "instances/instance.html",
        instance=instance,
        tasks=queries.open_tasks_of(db.session, instance.id),
        incidents=incidents,
        history=queries.history_of(db.session, instance.id),
        names=queries.activity_names(db.session, instance.definition_id),
        comments=comments,
        source=source,
        overlay={
            "completed": path.completed,
            "current": path.current,
            "failed": path.failed,
            "incidents": open_incidents,
        },
    )


@bp.post("/instances/<id:instance_id>/<any(suspend, resume):action>")
@login_required
def instance_action(instance_id: int, action: str):  # noqa: ANN201
    queries.get_instance(db.session, current_user.actor, instance_id)  # 404 outside the scope
    command = Suspend(instance_id) if action == "suspend" else Resume(instance_id)
    execute(db.session, command, current_user.actor)
    flash(_("Suspended.") if action == "suspend" else _("Resumed."), "success")
    return redirect(url_for("ui.instance_page", instance_id=instance_id))


@bp.post("/instances/<id:instance_id>/terminate")
@login_required
def terminate_instance(instance_id: int):  # noqa: ANN201
    queries.get_instance(db.session, current_user.actor, instance_id)
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for terminating."), {"reason": "required"})
    execute(db.session, Terminate(instance_id, reason=reason[:500]), current_user.actor)
    flash(_("Terminated."), "success")
    return redirect(url_for("ui.instance_page", instance_id=instance_id))


@bp.post("/incidents/<int:incident_id>/retry")
@login_required
def retry_incident(incident_id: int):  # noqa: ANN201
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    queries.get_instance(db.session, current_user.actor, incident.instance_id)
    instance_id = incident.instance_id
    execute(db.session, RetryIncident(incident_id), current_user.actor)
    flash(_("The step ran again."), "success")
    return redirect(url_for("ui.instance_page", instance_id=instance_id))
