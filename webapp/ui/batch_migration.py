"""Migrating the running instances of one version to a newer one, in batches (Camunda's
batch migration): checked on a sample first, then started as a batch that workers carry out
in the background (``engine.batches``), instance by instance, each in its own transaction, so
one that cannot move is reported and the others go on. The batch's page shows its progress."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine import modification, runtime, scope
from engine.commands import CancelBatch, CommandContext, StartBatchMigration, execute
from engine.commands import modification as migration
from engine.commands.batches import visible_batch
from engine.errors import InvalidInput
from engine.models import MigrationBatch, ProcessDefinition, ProcessInstance
from engine.monitoring import ACTIVE
from engine.queries import instance_visible

from ..extensions import db
from . import bp
from .instance_actions import posted_mapping

SAMPLE = 50  # instances the check runs on before anything moves


def _version(key: str, value: Any) -> ProcessDefinition:
    text = str(value or "")
    found = None
    if re.fullmatch(r"[0-9]{1,9}", text):
        found = db.session.scalar(
            sa.select(ProcessDefinition).where(
                ProcessDefinition.kind == "bpmn",
                ProcessDefinition.key == key[:200],
                ProcessDefinition.version == int(text),
            )
        )
    if found is None:
        raise InvalidInput(_("Choose versions of this process."), {"version": "unknown"})
    return found


def _waiting(source: ProcessDefinition, limit: int) -> list[ProcessInstance]:
    """The first running instances of ``source`` the operator may see, oldest first."""
    return list(
        db.session.scalars(
            sa.select(ProcessInstance)
            .where(
                ProcessInstance.definition_id == source.id,
                ProcessInstance.status.in_(("running", "incident")),
                instance_visible(current_user.actor),
            )
            .order_by(ProcessInstance.id)
            .limit(limit)
        )
    )


def _count(source: ProcessDefinition) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            ProcessInstance.definition_id == source.id,
            ProcessInstance.status.in_(ACTIVE),
            instance_visible(current_user.actor),
        )
    )


def _page(key: str, values: Any):  # noqa: ANN202
    source = _version(key, values.get("from"))
    target = _version(key, values.get("to"))
    if target.version <= source.version:
        raise InvalidInput(_("Migrate to a newer version."), {"to": "not newer"})
    mapping = posted_mapping(values)
    sample = _waiting(source, SAMPLE)
    problems: Counter = Counter()
    fine = 0
    for instance in sample:
        plan = migration.plan(db.session, instance, target.version, mapping)
        fine += plan.possible
        problems.update(plan.problems)
    live = sorted({a for i in sample for a in (i.current_activities or [])})
    spec, _subprocesses = runtime.definition_spec(db.session, target.id)
    versions = db.session.scalars(
        sa.select(ProcessDefinition.version)
        .where(ProcessDefinition.key == key[:200], ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.version)
    ).all()
    page = render_template(
        "definitions/batch_migration.html",
        key=key,
        source=source,
        target=target,
        versions=versions,
        waiting=_count(source),
        sample=len(sample),
        fine=fine,
        problems=problems.most_common(),
        live=live,
        targets=modification.activity_ids(spec),
        mapping=mapping,
        batches=recent_batches(key),
    )
    return page


@bp.get("/definitions/<key>/migrate")
def batch_migration_page(key: str):  # noqa: ANN201
    return _page(key, request.args)


@bp.post("/definitions/<key>/migrate")
def run_batch_migration(key: str):  # noqa: ANN201
    source = _version(key, request.form.get("from"))
    target = _version(key, request.form.get("to"))
    batch = execute(
        db.session,
        StartBatchMigration(key, source.version, target.version, posted_mapping(request.form)),
        current_user.actor,
    )
    return redirect(url_for("ui.migration_batch_page", batch_id=batch.id), code=303)


def _batch(batch_id: int) -> MigrationBatch:
    return visible_batch(CommandContext(db.session, current_user.actor), batch_id)


@bp.get("/batches/<id:batch_id>")
def migration_batch_page(batch_id: int):  # noqa: ANN201
    batch = _batch(batch_id)
    template = (
        "definitions/batch_progress.html"
        if request.headers.get("HX-Request")
        else "definitions/batch.html"
    )
    return render_template(template, batch=batch, reasons=_reasons(batch))


@bp.post("/batches/<id:batch_id>/cancel")
def cancel_migration_batch(batch_id: int):  # noqa: ANN201
    _batch(batch_id)
    execute(db.session, CancelBatch(batch_id), current_user.actor)
    return redirect(url_for("ui.migration_batch_page", batch_id=batch_id), code=303)


def _reasons(batch: MigrationBatch) -> list[tuple[str, int]]:
    return sorted((batch.reasons or {}).items(), key=lambda item: (-item[1], item[0]))


def recent_batches(key: str) -> list[MigrationBatch]:
    """The batches of a process the operator may watch, newest first."""
    return list(
        db.session.scalars(
            sa.select(MigrationBatch)
            .where(
                MigrationBatch.process_key == key[:200],
                scope.visible(current_user.actor, MigrationBatch.org_path),
            )
            .order_by(MigrationBatch.id.desc())
            .limit(10)
        )
    )
