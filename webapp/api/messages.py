"""Message correlation: deliver a message to the waiting instance, or start one."""

from __future__ import annotations

from flask import jsonify

from engine.commands import CorrelateMessage

from . import bp
from .common import run
from .declare import operation
from .instances import COMMAND_ERRORS, instance_json
from .schemas import VARIABLES, nullable, ref, text


@bp.post("/messages")
@operation(
    summary="Correlate a message: the instance it reached, as the caller sees it",
    description=(
        "Delivers the message to the instance in the caller's scope that waits for it "
        "(``correlation_key`` names its business key); an instance outside the scope is "
        "not found (404), as if it did not exist. The waiting event names who may send "
        "it (its ``messageSenders`` property: groups or roles); anyone else gets 403, and "
        "without that property only administrators may send it. A message that starts a "
        "process follows the process's start rules."
    ),
    answers={200: ref("Instance")},
    errors=COMMAND_ERRORS,
    body={
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": text(200, 1),
            "correlation_key": nullable(text(200)),
            "variables": VARIABLES,
        },
    },
)
def correlate(body: dict):  # noqa: ANN201
    instance = run(
        CorrelateMessage(body["name"], body.get("correlation_key"), body.get("variables") or {})
    )
    return jsonify(instance_json(instance.id))
