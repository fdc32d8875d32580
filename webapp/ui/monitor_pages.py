"""Process monitoring (流程监控) for managers, designers and team leads: every definition with
its versions and deployments, a version's diagram with tokens, incidents and time spent per
activity, and the SLA view of open and finished work."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import sqlalchemy as sa
from flask import abort, render_template, request, send_file
from flask_login import current_user

from engine import monitoring, queries
from engine.identity import Actor
from engine.models import Deployment, OrgUnit, utcnow

from ..extensions import db
from . import bp
from .design_pages import decisions, definition_or_404

SLA_WINDOWS = {"7": 7, "30": 30, "90": 90}


@bp.app_template_global("may_monitor")
def may_monitor(actor: Actor) -> bool:
    return actor.may_monitor


@bp.get("/definitions")
def definitions():  # noqa: ANN201
    actor = current_user.actor
    rows = queries.list_definitions(db.session)
    versions = {row["key"]: monitoring.versions_of(db.session, row["key"], actor) for row in rows}
    return render_template(
        "definitions/list.html", rows=rows, versions=versions, decisions=decisions(), problems=[]
    )


def _version(key: str) -> tuple[list[monitoring.Version], monitoring.Version]:
    versions = monitoring.versions_of(db.session, key[:200], current_user.actor)
    if not versions:
        abort(404)
    wanted = request.args.get("version")
    if wanted is None:
        return versions, versions[0]
    chosen = next((v for v in versions if str(v.definition.version) == wanted), None)
    if chosen is None:
        abort(404)
    return versions, chosen


@bp.get("/definitions/<key>")
def definition_page(key: str):  # noqa: ANN201
    versions, chosen = _version(key)
    stats = monitoring.activity_stats(db.session, chosen.definition.id, current_user.actor)
    names = queries.activity_names(db.session, chosen.definition.id)
    activities = sorted(
        set(stats.tokens) | set(stats.incidents) | set(stats.completed),
        key=lambda a: (-stats.tokens.get(a, 0), -stats.incidents.get(a, 0), a),
    )
    deployments = dict(
        db.session.execute(
            sa.select(Deployment.id, Deployment).where(
                Deployment.id.in_([v.definition.deployment_id for v in versions])
            )
        ).all()
    )
    return render_template(
        "definitions/definition.html",
        key=key,
        versions=versions,
        chosen=chosen,
        stats=stats,
        overlay=stats.as_json(),
        names=names,
        activities=activities,
        deployments=deployments,
    )


@bp.get("/definitions/<key>/<int:version>/source")
def definition_source(key: str, version: int):  # noqa: ANN201
    """The deployed file of one version, as it was deployed (the diagram draws from it)."""
    definition = definition_or_404(key, str(version))
    name = definition.file_name.rsplit("/", 1)[-1] or f"{key}.{definition.kind}"
    response = send_file(
        BytesIO(definition.source.encode("utf-8")),
        mimetype="application/xml",
        as_attachment=True,  # never rendered by the browser: a file may carry foreign markup
        download_name=name,
    )
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/monitoring/sla")
def sla():  # noqa: ANN201
    actor = current_user.actor
    window = request.args.get("days", "30")
    days = SLA_WINDOWS.get(window, 30)
    by_activity = monitoring.lateness(db.session, actor, "activity")
    by_unit = monitoring.lateness(db.session, actor, "unit")
    units = dict(
        db.session.execute(
            sa.select(OrgUnit.path, OrgUnit.name).where(
                OrgUnit.path.in_([row.name for row in by_unit])
            )
        ).all()
    )
    return render_template(
        "definitions/sla.html",
        by_activity=by_activity,
        by_unit=by_unit,
        units=units,
        durations=monitoring.durations(db.session, actor, since=utcnow() - timedelta(days=days)),
        days=days,
        windows=SLA_WINDOWS,
    )
