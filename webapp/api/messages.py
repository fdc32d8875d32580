"""Message correlation: deliver a message to the waiting instance, or start one."""

from __future__ import annotations

from flask import jsonify

from engine.commands import CorrelateMessage

from . import bp
from .common import json_body, run
from .errors import ApiError
from .instances import instance_json


@bp.post("/messages")
def correlate():  # noqa: ANN201
    body = json_body()
    name = body.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise ApiError(
            422, "invalid", "name is required (at most 200 characters)", {"name": "required"}
        )
    key = body.get("correlation_key")
    if key is not None and (not isinstance(key, str) or len(key) > 200):
        raise ApiError(422, "invalid", "correlation_key must be a string of at most 200 characters")
    instance = run(CorrelateMessage(name, key, body.get("variables") or {}))
    return jsonify(instance_json(instance.id, scoped=False))
