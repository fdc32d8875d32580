"""Incidents: retry the failed step."""

from __future__ import annotations

from flask import jsonify

from engine.commands import RetryIncident

from . import bp
from .common import incident_json, run


@bp.post("/incidents/<id:incident_id>/retry")
def retry(incident_id: int):  # noqa: ANN201
    incident = run(RetryIncident(incident_id))
    return jsonify(incident_json(incident, with_details=False))
