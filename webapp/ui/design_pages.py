"""Process design in the browser (for designers and admins): upload and deploy BPMN, DMN and
form files with the same checks and messages as ``csm deploy``, and compare two versions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from SpiffWorkflow.bpmn.util.diff import SpecDiff

from engine import monitoring, queries, runtime
from engine.commands import Deploy, execute
from engine.errors import DeploymentError, InvalidInput
from engine.models import ProcessDefinition
from engine.state import serializer

from ..extensions import db
from . import bp
from .helpers import is_number

MAX_FILES = 20


def definition_or_404(key: str, version: str | None, kind: str | None = None) -> ProcessDefinition:
    """Version ``version`` of ``key`` (the latest when None), of ``kind`` when given."""
    if version is not None and not is_number(version):
        abort(404)
    query = sa.select(ProcessDefinition).where(ProcessDefinition.key == key[:200])
    if kind is not None:
        query = query.where(ProcessDefinition.kind == kind)
    if version is not None:
        query = query.where(ProcessDefinition.version == int(version))
    found = db.session.scalar(query.order_by(ProcessDefinition.version.desc()).limit(1))
    if found is None:
        abort(404)
    return found


def deploy_checked(files: list[tuple[str, bytes]], source: str) -> tuple[list, list[dict]]:
    """Deploy as ``csm deploy`` does: the results, or nothing and the problems by file,
    line and element."""
    try:
        return execute(db.session, Deploy(files, source=source), current_user.actor), []
    except DeploymentError as exc:
        db.session.rollback()
        return [], exc.details or [{"file": files[0][0], "message": exc.message}]


def flash_results(results: list) -> None:
    for result in results:
        if result.created:
            flash(
                _("Deployed %(key)s version %(version)s.", key=result.key, version=result.version),
                "success",
            )
        else:
            flash(
                _(
                    "%(key)s is unchanged (version %(version)s).",
                    key=result.key,
                    version=result.version,
                ),
                "info",
            )


@bp.post("/definitions/deploy")
def deploy_files():  # noqa: ANN201
    uploads = [u for u in request.files.getlist("files") if u and u.filename]
    if not uploads:
        raise InvalidInput(
            _("Choose one or more .bpmn, .dmn or .form.json files."), {"files": "required"}
        )
    if len(uploads) > MAX_FILES:
        raise InvalidInput(_("At most %(n)s files at once.", n=MAX_FILES), {"files": "too many"})
    results, problems = deploy_checked([(u.filename, u.read()) for u in uploads], "web")
    if problems:
        rows = queries.list_definitions(db.session)
        versions = {row["key"]: monitoring.versions_of(db.session, row["key"]) for row in rows}
        page = render_template(
            "definitions/list.html",
            rows=rows,
            versions=versions,
            decisions=decisions(),
            problems=problems,
        )
        return page, 422
    flash_results(results)
    return redirect(url_for("ui.definitions"))


def decisions() -> list[ProcessDefinition]:
    """The newest version of each decision table (DMN)."""
    newest = (
        sa.select(ProcessDefinition.key, sa.func.max(ProcessDefinition.version).label("v"))
        .where(ProcessDefinition.kind == "dmn")
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    return list(
        db.session.scalars(
            sa.select(ProcessDefinition)
            .join(
                newest,
                (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.v),
            )
            .where(ProcessDefinition.kind == "dmn")
            .order_by(ProcessDefinition.key)
        )
    )


@dataclass(frozen=True)
class ActivityChanges:
    added: list[str]
    removed: list[str]
    changed: dict[str, list[str]]


def activity_changes(old: ProcessDefinition, new: ProcessDefinition) -> ActivityChanges | None:
    """What SpiffWorkflow's spec diff sees between two BPMN versions (None for DMN)."""
    if old.kind != "bpmn" or new.kind != "bpmn":
        return None
    old_spec, _subs = runtime.definition_spec(db.session, old.id)
    new_spec, _subs = runtime.definition_spec(db.session, new.id)
    diff = SpecDiff(serializer.registry, old_spec, new_spec)

    def label(spec: object) -> str | None:
        bpmn_id = getattr(spec, "bpmn_id", None)
        return f"{getattr(spec, 'bpmn_name', None) or bpmn_id} ({bpmn_id})" if bpmn_id else None

    return ActivityChanges(
        added=sorted(filter(None, (label(s) for s in diff.added))),
        removed=sorted(filter(None, (label(s) for s in diff.removed))),
        changed={
            label(spec): sorted(fields) for spec, fields in diff.changed.items() if label(spec)
        },
    )


def source_diff(old: str, new: str, label: str, old_version: int, new_version: int) -> list[str]:
    return list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            fromfile=f"{label} v{old_version}",
            tofile=f"{label} v{new_version}",
            lineterm="",
            n=3,
        )
    )


@bp.get("/definitions/<key>/diff")
def definition_diff(key: str):  # noqa: ANN201
    old = definition_or_404(key, request.args.get("from") or "")
    new = definition_or_404(key, request.args.get("to") or "")
    lines = source_diff(old.source, new.source, key, old.version, new.version)
    all_versions = db.session.scalars(
        sa.select(ProcessDefinition.version)
        .where(ProcessDefinition.key == key[:200])
        .order_by(ProcessDefinition.version)
    ).all()
    return render_template(
        "definitions/diff.html",
        key=key,
        old=old,
        new=new,
        lines=lines,
        changes=activity_changes(old, new),
        all_versions=all_versions,
    )
