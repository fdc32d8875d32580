"""Commands that change where a running instance stands: move its token, migrate it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import modification, runtime
from ..deployment import find_definition
from ..errors import Conflict, InvalidInput, NotFound
from ..models import HumanTask, Incident, ProcessDefinition, ProcessInstance, utcnow
from .executor import CommandContext, advance, audit, operable_instance


def _movable(instance: ProcessInstance) -> None:
    if instance.status in ("completed", "terminated"):
        raise Conflict(f"process instance {instance.id} has {instance.status}")
    if instance.status == "suspended":
        raise Conflict(f"process instance {instance.id} is suspended; resume it first")


@dataclass
class MoveToken:
    """Cancel the activity ``source`` and start the instance again before ``target``."""

    instance_id: int
    source: str
    target: str
    expected_revision: int | None = None

    def execute(self, context: CommandContext) -> ProcessInstance:
        instance = operable_instance(context, self.instance_id, self.expected_revision)
        _movable(instance)
        workflow = runtime.load(context.session, instance)
        modification.move_token(workflow, str(self.source), str(self.target))
        old = dict(instance.variables or {})
        _cancel_orphan_incidents(context.session, instance, workflow)
        advance(context, instance, workflow, handover=False)
        audit(
            context,
            "move_token",
            instance,
            old=old,
            activity=self.target,
            details={"from": self.source, "to": self.target},
        )
        return instance


def _cancel_orphan_incidents(session: Session, instance: ProcessInstance, workflow: Any) -> None:
    """Incidents of steps the move cancelled are over: nothing is left to retry."""
    for incident in session.scalars(
        sa.select(Incident).where(Incident.instance_id == instance.id, Incident.status == "open")
    ):
        if not incident.task_id or UUID(incident.task_id) not in workflow.tasks:
            incident.status, incident.resolved_at = "cancelled", utcnow()
    session.flush()
    runtime.refresh_status(session, instance, recount=True)


def migration_target(
    session: Session, instance: ProcessInstance, version: int
) -> ProcessDefinition:
    target = find_definition(session, instance.process_key, version)
    if target is None:
        raise NotFound(f"{instance.process_key} has no version {version}")
    if target.version <= instance.process_version:
        raise InvalidInput(
            f"migrate to a newer version than {instance.process_version}", {"version": "not newer"}
        )
    return target


def plan(
    session: Session, instance: ProcessInstance, version: int, mapping: dict[str, str]
) -> modification.MigrationPlan:
    """What migrating would do, checked without changing anything."""
    target = migration_target(session, instance, version)
    spec, subprocesses = runtime.definition_spec(session, target.id)
    workflow = runtime.load(session, instance)
    return modification.plan_migration(workflow, spec, subprocesses, mapping)


def _rename_open_tasks(session: Session, instance: ProcessInstance, workflow: Any) -> None:
    """Open human tasks and incidents kept their task ids through the migration; their
    activity may have a new id."""
    for task in session.scalars(
        sa.select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "open")
    ):
        live = workflow.get_task_from_id(UUID(task.id)) if task.id else None
        bpmn_id = getattr(live.task_spec, "bpmn_id", None) if live is not None else None
        if bpmn_id and bpmn_id != task.name:
            task.name = bpmn_id
    for incident in session.scalars(
        sa.select(Incident).where(Incident.instance_id == instance.id, Incident.status == "open")
    ):
        failed = workflow.tasks.get(UUID(incident.task_id)) if incident.task_id else None
        bpmn_id = getattr(failed.task_spec, "bpmn_id", None) if failed is not None else None
        if bpmn_id:
            incident.activity = bpmn_id


@dataclass
class MigrateInstance:
    """Move a running instance onto a newer version of its process; activities whose id
    changed are mapped old id to new id."""

    instance_id: int
    version: int
    mapping: dict[str, str] = field(default_factory=dict)
    expected_revision: int | None = None

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        instance = operable_instance(context, self.instance_id, self.expected_revision)
        _movable(instance)
        mapping = self.mapping or {}
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise InvalidInput(
                "the mapping maps activity ids to activity ids", {"mapping": "invalid"}
            )
        target = migration_target(session, instance, self.version)
        spec, subprocesses = runtime.definition_spec(session, target.id)
        workflow = runtime.load(session, instance)
        done = modification.migrate(workflow, spec, subprocesses, mapping)
        before = instance.process_version
        instance.definition_id = target.id
        instance.process_version = target.version
        advance(context, instance, workflow, handover=False)
        _rename_open_tasks(session, instance, workflow)
        audit(
            context,
            "migrate",
            instance,
            details={"from": before, "to": target.version, "moves": done.moves},
        )
        return instance
