"""Process instances: start, list, inspect, suspend, resume, terminate, set variables."""

from __future__ import annotations

from flask import jsonify, request

from engine import queries
from engine.commands import (
    MigrateInstance,
    MoveToken,
    Resume,
    SetVariables,
    StartInstance,
    Suspend,
    Terminate,
)
from engine.models import ProcessInstance

from ..extensions import db
from ..tasking import pick_locale
from . import bp
from .auth import current_actor
from .common import (
    incident_json,
    instance_summary,
    json_body,
    page_args,
    run,
    task_json,
    timer_json,
)
from .errors import ApiError
from .ids import MAX_ID


def instance_json(instance_id: int, *, scoped: bool = True) -> dict:
    """The instance as the API shows it; ``scoped=False`` for an instance the caller's own
    command just reached (a message), which it may not otherwise see."""
    actor = current_actor()
    if scoped:
        instance = queries.get_instance(db.session, actor, instance_id)
    else:
        instance = db.session.get(ProcessInstance, instance_id)
    body = instance_summary(instance)
    body["variables"] = instance.variables or {}
    body["tasks"] = [task_json(t) for t in queries.open_tasks_of(db.session, instance.id)]
    body["incidents"] = [
        incident_json(i, with_details=actor.is_admin)
        for i in queries.incidents_of(db.session, instance.id)
    ]
    body["timers"] = [timer_json(t) for t in queries.timers_of(db.session, instance.id)]
    return body


def _optional_int(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ApiError(422, "invalid", f"{name} must be a whole number from 1", {name: "invalid"})
    return value


def _optional_str(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise ApiError(422, "invalid", f"{name} must be a string of at most 200 characters")
    return value


@bp.post("/process-instances")
def start_instance():  # noqa: ANN201
    body = json_body()
    key = body.get("process_key")
    if not isinstance(key, str) or not key:
        raise ApiError(422, "invalid", "process_key is required", {"process_key": "required"})
    instance = run(
        StartInstance(
            process_key=key,
            version=_optional_int(body.get("version"), "version"),
            business_key=_optional_str(body.get("business_key"), "business_key"),
            variables=body.get("variables") or {},
            org_unit=_optional_str(body.get("org_unit"), "org_unit"),
            locale=pick_locale(request.headers.get("Accept-Language")),
        )
    )
    return jsonify(instance_json(instance.id)), 201


@bp.get("/process-instances")
def list_instances():  # noqa: ANN201
    rows, total = queries.list_instances(
        db.session,
        current_actor(),
        process_key=request.args.get("process_key"),
        status=request.args.get("status"),
        business_key=request.args.get("business_key"),
        page=page_args(),
    )
    return jsonify({"items": [instance_summary(r) for r in rows], "total": total})


@bp.get("/process-instances/<id:instance_id>")
def get_instance(instance_id: int):  # noqa: ANN201
    return jsonify(instance_json(instance_id))


@bp.get("/process-instances/<id:instance_id>/history")
def get_history(instance_id: int):  # noqa: ANN201
    queries.get_instance(db.session, current_actor(), instance_id)
    return jsonify(
        {
            "items": [
                {
                    "id": e.id,
                    "command": e.command,
                    "actor": e.actor,
                    "task_id": e.task_id,
                    "activity": e.activity,
                    "at": e.at.isoformat() + "Z",
                    "changes": e.changes,
                    "details": e.details,
                }
                for e in queries.history_of(db.session, instance_id)
            ]
        }
    )


@bp.post("/process-instances/<id:instance_id>/suspend")
def suspend(instance_id: int):  # noqa: ANN201
    run(Suspend(instance_id))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/resume")
def resume(instance_id: int):  # noqa: ANN201
    run(Resume(instance_id))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/terminate")
def terminate(instance_id: int):  # noqa: ANN201
    reason = json_body().get("reason") or ""
    run(Terminate(instance_id, reason=str(reason)[:500]))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/variables")
def set_variables(instance_id: int):  # noqa: ANN201
    run(SetVariables(instance_id, json_body().get("variables")))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/move")
def move(instance_id: int):  # noqa: ANN201
    """Cancel the activity ``from`` and start the instance again before ``to``."""
    body = json_body()
    source, target = body.get("from"), body.get("to")
    if not isinstance(source, str) or not isinstance(target, str):
        raise ApiError(422, "invalid", "give 'from' and 'to' as activity ids", {"to": "required"})
    run(MoveToken(instance_id, source, target))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/migrate")
def migrate(instance_id: int):  # noqa: ANN201
    """Put the instance on a newer version; ``mapping`` maps old activity ids to new ones."""
    body = json_body()
    version, mapping = body.get("version"), body.get("mapping") or {}
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(422, "invalid", "'version' is the version number", {"version": "integer"})
    run(MigrateInstance(instance_id, version, mapping))
    return jsonify(instance_json(instance_id))
