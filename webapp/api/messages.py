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
    summary="Correlate a message: the instance it reached",
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
    return jsonify(instance_json(instance.id, scoped=False))
