"""Deployments and process definitions."""

from __future__ import annotations

from flask import jsonify

from engine.commands import Deploy, GrantStart
from engine.errors import DeploymentError
from engine.queries import list_definitions

from ..extensions import db
from . import bp
from .common import run
from .declare import MULTIPART, operation
from .errors import error_response
from .instances import COMMAND_ERRORS
from .schemas import GROUP, KEY, items_of

FILES_MAX = 50
UPLOAD_MAX = 20 * 1024 * 1024


@bp.post("/deployments")
@operation(
    summary="Deploy BPMN, DMN and form files (422 with details per file)",
    answers={
        201: {
            "type": "object",
            "required": ["definitions"],
            "properties": {
                "definitions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "version", "created"],
                        "properties": {
                            "key": {"type": "string"},
                            "version": {"type": "integer"},
                            "created": {"type": "boolean"},
                            "kind": {"type": "string"},
                        },
                    },
                }
            },
        }
    },
    errors=COMMAND_ERRORS,
    body={
        "type": "object",
        "required": ["files"],
        "additionalProperties": False,
        "properties": {
            "files": {
                "type": "array",
                "minItems": 1,
                "maxItems": FILES_MAX,
                "items": {"type": "string", "format": "binary"},
            }
        },
    },
    body_type=MULTIPART,
    body_max=UPLOAD_MAX,
)
def create_deployment(body: dict):  # noqa: ANN201
    files = [(u.filename or "upload.bpmn", u.read()) for u in body["files"]]
    try:
        results = run(Deploy(files, source="api"))
    except DeploymentError as exc:
        return error_response(422, exc.code, exc.message, exc.details)
    return jsonify({"definitions": [r.as_dict() for r in results]}), 201


@bp.get("/process-definitions")
@operation(
    summary="Latest version of each process key, with all versions",
    answers={200: items_of("Definition")},
)
def get_definitions():  # noqa: ANN201
    return jsonify({"items": list_definitions(db.session)})


@bp.post("/process-definitions/<key>/start-groups")
@operation(
    summary="Let groups start a process beyond its start lane (administrators)",
    answers={
        200: {
            "type": "object",
            "required": ["process_key", "groups"],
            "properties": {
                "process_key": {"type": "string"},
                "groups": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
    errors=COMMAND_ERRORS,
    path={"key": KEY},
    body={
        "type": "object",
        "required": ["groups"],
        "additionalProperties": False,
        "properties": {"groups": {"type": "array", "maxItems": 50, "items": GROUP}},
    },
)
def grant_start(key: str, body: dict):  # noqa: ANN201
    return jsonify({"process_key": key, "groups": run(GrantStart(key, body["groups"]))})
