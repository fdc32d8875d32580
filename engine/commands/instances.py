"""Commands on process instances: start, suspend, resume, terminate, set variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState

from .. import projection, runtime
from ..deployment import find_definition
from ..errors import Conflict, Forbidden, NotFound
from ..identity import may_start
from ..models import (
    Incident,
    ProcessDefinition,
    ProcessInstance,
    utcnow,
)
from ..state import new_workflow
from .executor import (
    CommandContext,
    advance,
    audit,
    check_variables,
    load_instance,
    require_active,
    require_admin,
)


@dataclass
class StartInstance:
    process_key: str
    version: int | None = None
    business_key: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    check_permission: bool = True

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        variables = check_variables(self.variables)
        definition = find_definition(session, self.process_key, self.version)
        if definition is None:
            which = f" version {self.version}" if self.version else ""
            raise NotFound(f"process {self.process_key!r}{which} is not deployed")
        if self.check_permission and not may_start(session, context.actor, definition):
            raise Forbidden(f"you may not start process {self.process_key!r}")
        instance, _ = start_instance(context, definition, self.business_key, variables)
        return instance


def start_instance(
    context: CommandContext,
    definition: ProcessDefinition,
    business_key: str | None,
    variables: dict[str, Any],
    *,
    run: bool = True,
) -> tuple[ProcessInstance, Any]:
    spec, subprocess_specs = runtime.definition_spec(context.session, definition.id)
    workflow = new_workflow(spec, subprocess_specs)
    projection.track(workflow, [])
    workflow.task_tree.data.update(variables)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(variables)
    instance = ProcessInstance(
        definition_id=definition.id,
        process_key=definition.key,
        process_version=definition.version,
        business_key=business_key,
        started_by=context.actor.username,
        status="running",
        state="",
        variables={},
    )
    context.session.add(instance)
    context.session.flush()
    if run:
        advance(context, instance, workflow)
    else:
        runtime.save(context.session, instance, workflow)
    audit(context, "start", instance, old={}, details={"version": definition.version})
    return instance, workflow


@dataclass
class Suspend:
    instance_id: int

    def execute(self, context: CommandContext) -> ProcessInstance:
        require_admin(context.actor)
        instance = load_instance(context.session, self.instance_id)
        require_active(instance)
        instance.status = "suspended"
        audit(context, "suspend", instance, old=instance.variables)
        return instance


@dataclass
class Resume:
    instance_id: int

    def execute(self, context: CommandContext) -> ProcessInstance:
        require_admin(context.actor)
        instance = load_instance(context.session, self.instance_id)
        if instance.status != "suspended":
            raise Conflict(f"process instance {instance.id} is not suspended")
        instance.status = "running"
        runtime.refresh_status(context.session, instance, recount=True)
        audit(context, "resume", instance, old=instance.variables)
        return instance


@dataclass
class Terminate:
    instance_id: int
    reason: str = ""

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        require_admin(context.actor)
        instance = load_instance(session, self.instance_id)
        if instance.status in ("completed", "terminated"):
            raise Conflict(f"process instance {instance.id} has already {instance.status}")
        workflow = runtime.load(session, instance)
        workflow.cancel()
        instance.status, instance.ended_at = "terminated", utcnow()
        for incident in session.scalars(
            sa.select(Incident).where(
                Incident.instance_id == instance.id, Incident.status == "open"
            )
        ):
            incident.status, incident.resolved_at = "cancelled", utcnow()
        runtime.save(session, instance, workflow)
        audit(
            context, "terminate", instance, old=instance.variables, details={"reason": self.reason}
        )
        return instance


@dataclass
class SetVariables:
    instance_id: int
    variables: dict[str, Any] = field(default_factory=dict)

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        require_admin(context.actor)
        variables = check_variables(self.variables)
        instance = load_instance(session, self.instance_id)
        if instance.status in ("completed", "terminated"):
            raise Conflict(f"process instance {instance.id} has {instance.status}")
        workflow = runtime.load(session, instance)
        old = dict(instance.variables or {})
        live = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
        for task in workflow.get_tasks(state=live):
            task.data.update(variables)
            if task.has_state(TaskState.ERROR) and task.parent is not None:
                task.parent.data.update(variables)
        if workflow.last_task is not None:
            workflow.last_task.data.update(variables)
        runtime.save(session, instance, workflow)
        audit(context, "set_variables", instance, old=old, details={"keys": sorted(variables)})
        return instance
