"""Incidents: retry the failed step."""

from __future__ import annotations

from flask import jsonify

from engine.commands import RetryIncident

from . import bp
from .common import incident_json, run
from .declare import operation
from .instances import COMMAND_ERRORS, REVISION
from .schemas import ID, ref


@bp.post("/incidents/<id:incident_id>/retry")
@operation(
    summary="Run the failed step again",
    answers={200: ref("Incident")},
    errors=COMMAND_ERRORS,
    path={"id": ID},
    body={
        "type": "object",
        "additionalProperties": False,
        "properties": {"revision": REVISION},
    },
)
def retry(incident_id: int, body: dict):  # noqa: ANN201
    incident = run(RetryIncident(incident_id, expected_revision=body.get("revision")))
    return jsonify(incident_json(incident, with_details=False))
