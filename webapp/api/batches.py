"""Migration batches: every running instance of a version moved to a newer one in the
background, with the progress to poll."""

from __future__ import annotations

from flask import jsonify

from engine.commands import CancelBatch, CommandContext, StartBatchMigration
from engine.commands.batches import visible_batch
from engine.models import MigrationBatch

from ..extensions import db
from . import bp
from .auth import current_actor
from .common import iso, run
from .declare import operation
from .instances import COMMAND_ERRORS
from .schemas import ID, KEY, ref

BATCH = {"id": ID}
MAPPING = {
    "type": "object",
    "maxProperties": 200,
    "additionalProperties": KEY,
    "description": "old activity ids to new ones",
}


def batch_json(batch: MigrationBatch) -> dict:
    return {
        "id": batch.id,
        "process_key": batch.process_key,
        "from": batch.source_version,
        "to": batch.target_version,
        "mapping": batch.mapping or {},
        "status": batch.status,
        "total": batch.total,
        "migrated": batch.migrated,
        "refused": batch.refused,
        "reasons": batch.reasons or {},
        "message": batch.message or None,
        "created_by": batch.created_by,
        "created": iso(batch.created_at),
        "updated": iso(batch.updated_at),
        "finished": iso(batch.finished_at),
    }


@bp.post("/migration-batches")
@operation(
    summary="Migrate every running instance of a version to a newer one, in the background",
    answers={201: ref("MigrationBatch")},
    errors=COMMAND_ERRORS,
    body={
        "type": "object",
        "required": ["process_key", "from", "to"],
        "additionalProperties": False,
        "properties": {"process_key": KEY, "from": ID, "to": ID, "mapping": MAPPING},
    },
)
def start_batch(body: dict):  # noqa: ANN201
    batch = run(
        StartBatchMigration(body["process_key"], body["from"], body["to"], body.get("mapping"))
    )
    return jsonify(batch_json(batch)), 201


@bp.get("/migration-batches/<id:batch_id>")
@operation(
    summary="A migration batch and how far it got",
    answers={200: ref("MigrationBatch")},
    errors=frozenset({403, 404}),
    path=BATCH,
)
def read_batch(batch_id: int):  # noqa: ANN201
    return jsonify(batch_json(visible_batch(CommandContext(db.session, current_actor()), batch_id)))


@bp.post("/migration-batches/<id:batch_id>/cancel")
@operation(
    summary="Stop a running batch; instances already moved stay on the new version",
    answers={200: ref("MigrationBatch")},
    errors=COMMAND_ERRORS,
    path=BATCH,
)
def cancel_batch(batch_id: int):  # noqa: ANN201
    return jsonify(batch_json(run(CancelBatch(batch_id))))
