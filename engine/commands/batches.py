"""Commands on migration batches: start one, cancel one. ``engine.batches`` runs them."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import scope
from ..errors import Conflict, InvalidInput, NotFound
from ..models import MigrationBatch, ProcessDefinition, ProcessInstance, utcnow
from ..org import root_unit
from .executor import CommandContext, audit, require_operator

MIGRATABLE = ("running", "incident")


def _definition(context: CommandContext, key: str, version: int) -> ProcessDefinition:
    found = context.session.scalar(
        sa.select(ProcessDefinition).where(
            ProcessDefinition.kind == "bpmn",
            ProcessDefinition.key == key,
            ProcessDefinition.version == version,
        )
    )
    if found is None:
        raise NotFound(f"process {key!r} version {version} is not deployed")
    return found


def waiting_instances(definition_id: int, path: str, after: int = 0) -> sa.Select:
    """The running instances of a version inside a scope path, oldest first, from the cursor
    ``after`` on."""
    return (
        sa.select(ProcessInstance.id)
        .where(
            ProcessInstance.definition_id == definition_id,
            ProcessInstance.status.in_(MIGRATABLE),
            ProcessInstance.id > after,
            scope.within(ProcessInstance.org_path, path),
        )
        .order_by(ProcessInstance.id)
    )


def _scope_path(context: CommandContext) -> str:
    """The path the batch works in: the operator's scope, or the whole tree."""
    own = scope.scope_of(context.actor)
    if own is not None:
        return own
    return root_unit(context.session).path


@dataclass
class StartBatchMigration:
    """Plan the migration of every running instance of ``source_version`` that the operator
    sees to ``target_version``; workers carry it out (``engine.batches.advance_batches``)."""

    process_key: str
    source_version: int
    target_version: int
    mapping: dict[str, str] = field(default_factory=dict)

    def execute(self, context: CommandContext) -> MigrationBatch:
        require_operator(context.actor)
        mapping = self.mapping or {}
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise InvalidInput(
                "the mapping maps activity ids to activity ids", {"mapping": "invalid"}
            )
        source = _definition(context, self.process_key, self.source_version)
        target = _definition(context, self.process_key, self.target_version)
        if target.version <= source.version:
            raise InvalidInput("migrate to a newer version", {"to": "not newer"})
        running = context.session.scalar(
            sa.select(MigrationBatch.id).where(
                MigrationBatch.source_definition_id == source.id,
                MigrationBatch.status == "running",
            )
        )
        if running is not None:
            raise Conflict(f"batch {running} is already migrating version {source.version}")
        path = _scope_path(context)
        total = context.session.scalar(
            sa.select(sa.func.count()).select_from(waiting_instances(source.id, path).subquery())
        )
        batch = MigrationBatch(
            process_key=source.key,
            source_definition_id=source.id,
            source_version=source.version,
            target_version=target.version,
            mapping=dict(mapping),
            created_by=context.actor.username,
            org_path=path,
            status="running" if total else "completed",
            total=total,
            finished_at=None if total else utcnow(),
        )
        context.session.add(batch)
        context.session.flush()
        audit(
            context,
            "start_batch_migration",
            None,
            details={
                "batch": batch.id,
                "process": source.key,
                "from": source.version,
                "to": target.version,
                "instances": total,
            },
        )
        return batch


def visible_batch(context: CommandContext, batch_id: int) -> MigrationBatch:
    """A batch in the operator's scope; any other does not exist for them."""
    require_operator(context.actor)
    batch = context.session.get(MigrationBatch, batch_id)
    if batch is None or not scope.sees(context.actor, batch.org_path):
        raise NotFound(f"migration batch {batch_id} not found")
    return batch


@dataclass
class CancelBatch:
    """Stop a batch: instances already moved stay on the new version, the rest stay put."""

    batch_id: int

    def execute(self, context: CommandContext) -> MigrationBatch:
        batch = visible_batch(context, self.batch_id)
        if batch.status != "running":
            raise Conflict(f"migration batch {batch.id} has {batch.status}")
        batch.status, batch.finished_at = "cancelled", utcnow()
        batch.updated_at = batch.finished_at
        audit(context, "cancel_batch_migration", None, details={"batch": batch.id})
        return batch
