"""Starting a process from its start form, and the order (instance) pages."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from engine import queries
from engine.commands import (
    StartInstance,
    execute,
)
from engine.deployment import latest_definition, latest_definitions
from engine.errors import InvalidInput, NotFound
from engine.identity import NOT_GRANTED, start_refusal, startable_definitions
from engine.models import ProcessDefinition
from engine.org import find_unit, subtree
from forms.binding import form_for
from forms.validation import coerce_post

from ..extensions import db
from ..i18n import current_locale
from ..times import utc_midnight
from . import bp
from .data_editor import FIELDS, editor_for
from .errors import render_error
from .exports import instances_workbook
from .form_view import form_fields
from .helpers import is_number
from .instance_view import render_instance


def _startable() -> list[ProcessDefinition]:
    return startable_definitions(db.session, current_user.actor, latest_definitions(db.session))


@bp.get("/processes")
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


# why a process cannot be started from this page, for everyone (``StartRefusal.reason``)
REFUSALS = {
    "called_only": lambda: _(
        "This process is only called by other processes; it cannot be started on its own."
    ),
    "service_order": lambda: _(
        "This is the process of a service order: it starts when the order is opened, "
        "from the Incoming call page."
    ),
}


def _definition(key: str) -> ProcessDefinition:
    """The process the user may start here; else the 403 page saying why no one can start it
    here, or 404 for a process this user may not start (as if it did not exist)."""
    definition = latest_definition(db.session, key)
    if definition is None:
        raise NotFound(f"process {key!r} not found")
    refusal = start_refusal(db.session, current_user.actor, definition)
    if refusal is None:
        return definition
    if refusal.reason == NOT_GRANTED:
        raise NotFound(f"process {key!r} not found")
    worded = REFUSALS.get(refusal.reason)
    text = worded() if worded else _("This process cannot be started here.")
    abort(make_response(render_error(403, text)))


@bp.get("/processes/<key>/start")
def start_form(key: str):  # noqa: ANN201
    return _render_start(_definition(key))


@bp.post("/processes/<key>/start")
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


EXPORT_LIMIT = 10_000  # rows in one Excel export
# the list's filters besides status; only these are carried into its links
FILTER_NAMES = (
    "process_key",
    "version",
    "business_key",
    "unit",
    "started_from",
    "started_to",
    "incident",
    "overdue",
)


def _instance_filter() -> queries.InstanceFilter:
    """The list's filters from the query string; a malformed one is a 422, not a guess."""
    args = request.args

    def text(name: str, limit: int = 200) -> str | None:
        return (args.get(name) or "").strip()[:limit] or None

    def day(name: str) -> date | None:
        value = text(name, 10)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(_("Dates are written YYYY-MM-DD."), {name: "invalid"}) from None

    version = text("version", 9)
    if version is not None and not is_number(version):
        raise InvalidInput(_("The version is a whole number."), {"version": "invalid"})
    unit_code = text("unit", 40)
    unit_path = None
    if unit_code:
        unit = find_unit(db.session, unit_code)
        if unit is None or not current_user.actor.sees(unit.path):
            raise InvalidInput(_("No such organisation unit."), {"unit": "unknown"})
        unit_path = unit.path
    start, end = day("started_from"), day("started_to")
    return queries.InstanceFilter(
        process_key=text("process_key"),
        version=int(version) if version else None,
        status=text("status", 20),
        business_key=text("business_key"),
        org_path=unit_path,
        started_from=utc_midnight(start) if start else None,
        started_before=utc_midnight(end + timedelta(days=1)) if end else None,
        with_incident=args.get("incident") == "1",
        with_overdue_task=args.get("overdue") == "1",
    )


@bp.get("/instances")
def instances():  # noqa: ANN201
    page = queries.Page.parse(request.args.get("page"), request.args.get("per_page") or 20)
    where = _instance_filter()
    actor = current_user.actor
    rows, total = queries.list_instances(db.session, actor, page=page, where=where, light=True)
    return render_template(
        "instances/list.html",
        rows=rows,
        total=total,
        page=page,
        counts=queries.instance_status_counts(db.session, actor, where),
        statuses=queries.INSTANCE_STATUSES,
        keys=sorted({d.key for d in latest_definitions(db.session)}),
        units=subtree(db.session, actor.scope),
        filter_args={k: v for k in FILTER_NAMES if (v := request.args.get(k))},
    )


@bp.get("/instances.xlsx")
def export_instances():  # noqa: ANN201
    """The filtered list as an Excel workbook (the newest EXPORT_LIMIT rows)."""
    where = _instance_filter()
    rows, total = queries.list_instances(
        db.session,
        current_user.actor,
        page=queries.Page(1, EXPORT_LIMIT),
        where=where,
        light=True,
    )
    names = {u.path: u.name for u in subtree(db.session, current_user.actor.scope)}
    body = instances_workbook(rows, names, truncated_from=total if total > len(rows) else None)
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="instances.xlsx"'},
    )


@bp.get("/instances/<id:instance_id>")
def instance_page(instance_id: int):  # noqa: ANN201
    """An instance; ``?data=json`` opens its data editor on the JSON view."""
    instance = queries.get_instance(db.session, current_user.actor, instance_id)
    view = request.args.get("data") or FIELDS
    return render_instance(instance, data=editor_for(instance.variables or {}, view))
