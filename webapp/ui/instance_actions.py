"""What an operator (manager or admin) does to a running instance from its page: suspend,
resume, terminate, retry an incident, edit its data, move its token, migrate it.

Every action is an engine command with its audit row. The forms must carry the instance's
revision, which the command checks: when someone changed the instance since the page was
drawn, the action answers 409 and changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import modification, queries, runtime
from engine.commands import (
    MigrateInstance,
    MoveToken,
    Resume,
    RetryIncident,
    SetVariables,
    Suspend,
    Terminate,
    execute,
)
from engine.commands import modification as migration
from engine.deployment import find_definition
from engine.errors import Conflict, InvalidInput, NotFound, StaleRevision
from engine.models import Incident, ProcessInstance

from ..extensions import db
from . import bp
from .data_editor import JSON_VIEW, read_fields, read_json
from .helpers import is_number
from .instance_view import newer_versions, render_instance


def _instance(instance_id: int) -> ProcessInstance:
    """The instance if the operator may see it: 404 outside the scope (``webapp.policy``
    lets only operators this far)."""
    return queries.get_instance(db.session, current_user.actor, instance_id)


def _revision() -> int:
    """The revision the page was drawn from, which every action must send."""
    seen = (request.form.get("revision") or "").strip()
    if not is_number(seen):
        raise InvalidInput(
            _("The page is out of date; reload it and try again."), {"revision": "required"}
        )
    return int(seen)


def _run(command: Any) -> Any:
    try:
        return execute(db.session, command, current_user.actor)
    except StaleRevision:
        raise Conflict(_("The instance changed since you opened the page; reload it.")) from None


def _back(instance_id: int):  # noqa: ANN202
    return redirect(url_for("ui.instance_page", instance_id=instance_id))


@bp.post("/instances/<id:instance_id>/<any(suspend, resume):action>")
def instance_action(instance_id: int, action: str):  # noqa: ANN201
    _instance(instance_id)
    kind = Suspend if action == "suspend" else Resume
    _run(kind(instance_id, expected_revision=_revision()))
    flash(_("Suspended.") if action == "suspend" else _("Resumed."), "success")
    return _back(instance_id)


@bp.post("/instances/<id:instance_id>/terminate")
def terminate_instance(instance_id: int):  # noqa: ANN201
    _instance(instance_id)
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for terminating."), {"reason": "required"})
    _run(Terminate(instance_id, reason=reason[:500], expected_revision=_revision()))
    flash(_("Terminated."), "success")
    return _back(instance_id)


@bp.post("/incidents/<int:incident_id>/retry")
def retry_incident(incident_id: int):  # noqa: ANN201
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    instance_id = incident.instance_id
    _instance(instance_id)
    _run(RetryIncident(incident_id, expected_revision=_revision()))
    flash(_("The step ran again."), "success")
    return _back(instance_id)


@bp.post("/instances/<id:instance_id>/variables")
def edit_variables(instance_id: int):  # noqa: ANN201
    """Save the data editor (``webapp.ui.data_editor``): the typed fields, or the whole
    object when ``view=json``. Only the variables whose value changed are set; a value that
    cannot be read answers 422 with the page showing it and why, and changes nothing."""
    instance = _instance(instance_id)
    if instance.status not in ("suspended", "incident"):
        raise Conflict(_("Suspend the instance before you change its data."))
    revision = _revision()
    if revision != instance.revision:  # the command checks again, in its transaction
        raise Conflict(_("The instance changed since you opened the page; reload it."))
    current = instance.variables or {}
    if request.form.get("view") == JSON_VIEW:
        changed, editor = read_json(request.form.get("variables") or "", current)
    else:
        changed, editor = read_fields(request.form, current)
    if editor.refused:
        flash(_("Nothing was saved: correct the marked values."), "error")
        return render_instance(instance, data=editor, status=422)
    if changed:
        _run(SetVariables(instance_id, changed, expected_revision=revision))
        flash(_("Changed %(names)s.", names=", ".join(sorted(changed))), "success")
    else:
        flash(_("Nothing changed."), "info")
    return _back(instance_id)


@bp.post("/instances/<id:instance_id>/move")
def move_token(instance_id: int):  # noqa: ANN201
    _instance(instance_id)
    source = (request.form.get("source") or "").strip()
    target = (request.form.get("target") or "").strip()
    if not source or not target:
        raise InvalidInput(
            _("Choose where the token is and where it goes."), {"target": "required"}
        )
    _run(MoveToken(instance_id, source, target, expected_revision=_revision()))
    flash(
        _("Moved the token from %(source)s to %(target)s.", source=source, target=target), "success"
    )
    return _back(instance_id)


def posted_mapping(args: Any) -> dict[str, str]:
    """``map.OLD=NEW`` arguments: where a migration puts the tokens at OLD."""
    return {
        k[len("map.") :]: v.strip() for k, v in args.items() if k.startswith("map.") and v.strip()
    }


@bp.get("/instances/<id:instance_id>/migrate")
def migration_page(instance_id: int):  # noqa: ANN201
    instance = _instance(instance_id)
    newer = newer_versions(instance)
    if not newer:
        raise Conflict(_("There is no newer version to migrate to."))
    wanted = request.args.get("version") or str(newer[-1])
    if not is_number(wanted) or int(wanted) not in newer:
        raise InvalidInput(_("Choose one of the newer versions."), {"version": "invalid"})
    mapping = posted_mapping(request.args)
    plan = migration.plan(db.session, instance, int(wanted), mapping)
    target = find_definition(db.session, instance.process_key, int(wanted))
    spec, _subs = runtime.definition_spec(db.session, target.id)
    return render_template(
        "instances/migrate.html",
        instance=instance,
        newer=newer,
        version=int(wanted),
        plan=plan,
        mapping=mapping,
        live=instance.current_activities or [],
        targets=modification.activity_ids(spec),
    )


@bp.post("/instances/<id:instance_id>/migrate")
def migrate_instance(instance_id: int):  # noqa: ANN201
    _instance(instance_id)
    version = request.form.get("version") or ""
    if not is_number(version):
        raise InvalidInput(_("Choose one of the newer versions."), {"version": "invalid"})
    mapping = posted_mapping(request.form)
    _run(MigrateInstance(instance_id, int(version), mapping, expected_revision=_revision()))
    flash(_("Migrated to version %(version)s.", version=version), "success")
    return _back(instance_id)
