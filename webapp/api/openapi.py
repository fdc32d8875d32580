"""The OpenAPI 3.1 document, generated from the operations' declarations (``declare.py``).

Every route of the API blueprint appears with what its declaration says: parameters, the
request body, and every status it can answer, errors included. A route without a declaration
has no place in the document, and ``tests/security/test_api_schemas.py`` fails on it.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from flask import Flask, current_app, jsonify

from . import bp
from .declare import JSON, MULTIPART, OPERATIONS, Operation, operation
from .schemas import COMPONENTS

PREFIX = "/api/v1"
ERROR = {"$ref": "#/components/responses/Error"}
_VARIABLE = re.compile(r"<[^<>]+>")


def _path_template(rule: str, op: Operation) -> str:
    """``/tasks/<task_id>/claim`` as ``/tasks/{id}/claim``: the documented names, in order."""
    names = iter(op.path)
    return _VARIABLE.sub(lambda _m: "{" + next(names) + "}", rule[len(PREFIX) :])


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in op.path.items()
    ]
    params += [
        {"name": name, "in": "query", "required": name in op.required_query, "schema": schema}
        for name, schema in op.query.items()
    ]
    return params


def _answers(op: Operation) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status in sorted(op.statuses):
        if status in op.answers:
            answers[str(status)] = {
                "description": HTTPStatus(status).phrase,
                "content": {JSON: {"schema": op.answers[status]}},
            }
        else:
            answers[str(status)] = ERROR
    return answers


def _operation(op: Operation, endpoint: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"operationId": endpoint, "summary": op.summary}
    if op.description:
        entry["description"] = op.description
    params = _parameters(op)
    if params:
        entry["parameters"] = params
    if op.body is not None:
        entry["requestBody"] = {
            "required": op.body_type == MULTIPART,
            "content": {op.body_type: {"schema": op.body}},
        }
    if not op.auth:
        entry["security"] = []
    entry["responses"] = _answers(op)
    return entry


def build_document(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        endpoint = rule.endpoint.removeprefix(f"{bp.name}.")
        op = OPERATIONS.get(endpoint)
        if not rule.endpoint.startswith(f"{bp.name}.") or op is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = paths.setdefault(_path_template(rule.rule, op), {})
            path[method.lower()] = _operation(op, endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CSM after-sales service platform API",
            "version": "1",
            "description": (
                "Every error answers {error, message, details}; a request outside the "
                "caller's organisation scope answers 404 and changes nothing."
            ),
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": COMPONENTS,
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
        "paths": paths,
    }


@bp.get("/openapi.json")
@operation(
    summary="This document",
    answers={200: {"type": "object", "required": ["openapi", "paths"]}},
    auth=False,
)
def openapi_document():  # noqa: ANN201
    return jsonify(build_document(current_app))
