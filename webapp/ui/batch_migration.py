"""Migrating the running instances of one version to a newer one, in batches (Camunda's
batch migration): checked on a sample first, then run instance by instance, each in its own
transaction, so one that cannot move is reported and the others go on."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from engine import modification, runtime
from engine.commands import MigrateInstance, execute
from engine.commands import modification as migration
from engine.errors import EngineError, InvalidInput
from engine.models import ProcessDefinition, ProcessInstance
from engine.monitoring import ACTIVE
from engine.queries import instance_visible

from ..extensions import db
from . import bp
from .instance_actions import posted_mapping

BATCH = 200  # instances migrated by one request
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


def _waiting(source: ProcessDefinition, limit: int, after: int = 0) -> list[ProcessInstance]:
    """The running instances of ``source`` the operator may see, oldest first, from the
    cursor ``after`` on: a batch goes past the ones an earlier batch could not move."""
    return list(
        db.session.scalars(
            sa.select(ProcessInstance)
            .where(
                ProcessInstance.definition_id == source.id,
                ProcessInstance.status.in_(("running", "incident")),
                ProcessInstance.id > after,
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


def _cursor(values: Any) -> int:
    text = str(values.get("after") or "0")
    return int(text) if re.fullmatch(r"[0-9]{1,12}", text) else 0


def _page(key: str, values: Any, results: dict | None = None, status: int = 200):  # noqa: ANN202
    source = _version(key, values.get("from"))
    target = _version(key, values.get("to"))
    if target.version <= source.version:
        raise InvalidInput(_("Migrate to a newer version."), {"to": "not newer"})
    mapping = posted_mapping(values)
    after = results["after"] if results else _cursor(values)
    sample = _waiting(source, SAMPLE, after)
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
        results=results,
        batch=BATCH,
        after=after,
    )
    return page, status


@bp.get("/definitions/<key>/migrate")
def batch_migration_page(key: str):  # noqa: ANN201
    return _page(key, request.args)


@bp.post("/definitions/<key>/migrate")
def run_batch_migration(key: str):  # noqa: ANN201
    source = _version(key, request.form.get("from"))
    target = _version(key, request.form.get("to"))
    mapping = posted_mapping(request.form)
    ids = [i.id for i in _waiting(source, BATCH, _cursor(request.form))]
    migrated, refused = 0, Counter()
    for instance_id in ids:
        try:
            execute(
                db.session,
                MigrateInstance(instance_id, target.version, mapping),
                current_user.actor,
            )
            migrated += 1
        except EngineError as exc:
            refused[exc.message] += 1
    results = {
        "migrated": migrated,
        "refused": refused.most_common(),
        # the refused ones stay behind the cursor; the next batch starts after this one
        "after": ids[-1] if ids else _cursor(request.form),
    }
    return _page(key, request.form, results)
