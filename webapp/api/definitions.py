"""Deployments and process definitions."""

from __future__ import annotations

from flask import jsonify, request

from engine.commands import Deploy, GrantStart
from engine.errors import DeploymentError
from engine.queries import list_definitions

from ..extensions import db
from . import bp
from .auth import current_actor
from .common import json_body, run
from .errors import ApiError, error_response


@bp.post("/deployments")
def create_deployment():  # noqa: ANN201
    current_actor()
    uploads = request.files.getlist("files")
    if not uploads:
        return error_response(400, "bad_request", "send one or more files in the field 'files'")
    files = [(u.filename or "upload.bpmn", u.read()) for u in uploads]
    try:
        results = run(Deploy(files, source="api"))
    except DeploymentError as exc:
        return error_response(422, exc.code, exc.message, exc.details)
    return jsonify({"definitions": [r.as_dict() for r in results]}), 201


@bp.get("/process-definitions")
def get_definitions():  # noqa: ANN201
    current_actor()
    return jsonify({"items": list_definitions(db.session)})


@bp.post("/process-definitions/<key>/start-groups")
def grant_start(key: str):  # noqa: ANN201
    groups = json_body().get("groups")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise ApiError(422, "invalid", "groups must be a list of group names", {"groups": "list"})
    return jsonify({"process_key": key, "groups": run(GrantStart(key, groups))})
