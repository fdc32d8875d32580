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

from ..extensions import db
from ..tasking import pick_locale
from . import bp
from .auth import current_actor
from .common import incident_json, instance_summary, page_of, run, task_json, timer_json
from .declare import operation
from .schemas import (
    ID,
    INSTANCE_STATUS,
    KEY,
    PAGING,
    VARIABLES,
    items_of,
    nullable,
    ref,
    text,
)


def instance_json(instance_id: int) -> dict:
    """The instance as the API shows it to the caller; outside their scope it is not found."""
    actor = current_actor()
    instance = queries.get_instance(db.session, actor, instance_id)
    body = instance_summary(instance)
    body["variables"] = instance.variables or {}
    body["tasks"] = [task_json(t) for t in queries.open_tasks_of(db.session, instance.id)]
    body["incidents"] = [
        incident_json(i, with_details=actor.is_admin)
        for i in queries.incidents_of(db.session, instance.id)
    ]
    body["timers"] = [timer_json(t) for t in queries.timers_of(db.session, instance.id)]
    return body


COMMAND_ERRORS = frozenset({403, 404, 409, 422})  # what an engine command may refuse with
INSTANCE = {"id": ID}


REVISION = {
    **ID,
    "description": "the instance's revision the action was decided on; 409 when it has changed",
}


def _action(summary: str, body: dict | None = None) -> dict:
    """The declaration of a command on one instance, which answers the instance; every one
    takes the revision its caller read, as the pages send it."""
    body = body or {"type": "object", "additionalProperties": False, "properties": {}}
    body = {**body, "properties": {**body["properties"], "revision": REVISION}}
    return {
        "summary": summary,
        "answers": {200: ref("Instance")},
        "errors": COMMAND_ERRORS,
        "path": INSTANCE,
        "body": body,
    }


@bp.post("/process-instances")
@operation(
    summary="Start a process instance",
    description=(
        "Starts a process the caller may start: one whose start lane holds one of their "
        "groups, or that an administrator granted to one of their groups or roles; a "
        "process with neither is for administrators. Answers 403 (``details.reason``) "
        "for a process only other processes call (``called_only``, for everyone) and for "
        "the process of a service order type (``service_order``: open the order with "
        "``POST /orders``, which starts it), and for a process the caller may not start "
        "(``not_granted``)."
    ),
    answers={201: ref("Instance")},
    errors=COMMAND_ERRORS,
    body={
        "type": "object",
        "required": ["process_key"],
        "additionalProperties": False,
        "properties": {
            "process_key": KEY,
            "version": nullable(ID),
            "business_key": nullable(text(200)),
            "variables": VARIABLES,
            "org_unit": nullable(
                text(40, description="code of the owning unit, in the caller's scope")
            ),
        },
    },
)
def start_instance(body: dict):  # noqa: ANN201
    instance = run(
        StartInstance(
            process_key=body["process_key"],
            version=body.get("version"),
            business_key=body.get("business_key"),
            variables=body.get("variables") or {},
            org_unit=body.get("org_unit"),
            locale=pick_locale(request.headers.get("Accept-Language")),
        )
    )
    return jsonify(instance_json(instance.id)), 201


@bp.get("/process-instances")
@operation(
    summary="List process instances in the caller's scope, newest first",
    answers={200: items_of("InstanceSummary", paged=True)},
    query={
        "process_key": KEY,
        "status": INSTANCE_STATUS,
        "business_key": text(200),
        **PAGING,
    },
)
def list_instances(query: dict):  # noqa: ANN201
    rows, total = queries.list_instances(
        db.session,
        current_actor(),
        process_key=query.get("process_key"),
        status=query.get("status"),
        business_key=query.get("business_key"),
        page=page_of(query),
    )
    return jsonify({"items": [instance_summary(r) for r in rows], "total": total})


@bp.get("/process-instances/<id:instance_id>")
@operation(summary="One process instance", answers={200: ref("Instance")}, path=INSTANCE)
def get_instance(instance_id: int):  # noqa: ANN201
    return jsonify(instance_json(instance_id))


@bp.get("/process-instances/<id:instance_id>/history")
@operation(
    summary="The audit trail of an instance",
    answers={200: items_of("AuditEntry")},
    path=INSTANCE,
)
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
@operation(**_action("Suspend an instance"))
def suspend(instance_id: int, body: dict):  # noqa: ANN201
    run(Suspend(instance_id, expected_revision=body.get("revision")))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/resume")
@operation(**_action("Resume a suspended instance"))
def resume(instance_id: int, body: dict):  # noqa: ANN201
    run(Resume(instance_id, expected_revision=body.get("revision")))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/terminate")
@operation(
    **_action(
        "Terminate an instance",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"reason": nullable(text(500))},
        },
    )
)
def terminate(instance_id: int, body: dict):  # noqa: ANN201
    run(
        Terminate(
            instance_id, reason=body.get("reason") or "", expected_revision=body.get("revision")
        )
    )
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/variables")
@operation(
    **_action(
        "Set variables of a suspended or failed instance",
        {
            "type": "object",
            "required": ["variables"],
            "additionalProperties": False,
            "properties": {"variables": VARIABLES},
        },
    )
)
def set_variables(instance_id: int, body: dict):  # noqa: ANN201
    run(SetVariables(instance_id, body["variables"], expected_revision=body.get("revision")))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/move")
@operation(
    **_action(
        "Move the token from one activity to another (refused when not safe: 409)",
        {
            "type": "object",
            "required": ["from", "to"],
            "additionalProperties": False,
            "properties": {"from": KEY, "to": KEY},
        },
    )
)
def move(instance_id: int, body: dict):  # noqa: ANN201
    """Cancel the activity ``from`` and start the instance again before ``to``."""
    run(MoveToken(instance_id, body["from"], body["to"], expected_revision=body.get("revision")))
    return jsonify(instance_json(instance_id))


@bp.post("/process-instances/<id:instance_id>/migrate")
@operation(
    **_action(
        "Migrate the instance to a newer version (refused when not safe: 409)",
        {
            "type": "object",
            "required": ["version"],
            "additionalProperties": False,
            "properties": {
                "version": ID,
                "mapping": {
                    "type": "object",
                    "maxProperties": 200,
                    "additionalProperties": KEY,
                    "description": "old activity ids to new ones",
                },
            },
        },
    )
)
def migrate(instance_id: int, body: dict):  # noqa: ANN201
    """Put the instance on a newer version; ``mapping`` maps old activity ids to new ones."""
    mapping = body.get("mapping") or {}
    run(MigrateInstance(instance_id, body["version"], mapping, body.get("revision")))
    return jsonify(instance_json(instance_id))
