"""Commands on process instances: start, suspend, resume, terminate, set variables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState

from .. import projection, runtime, task_forms
from ..deployment import find_definition
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..identity import DIRECT, start_refusal
from ..models import (
    Comment,
    Incident,
    OrgUnit,
    ProcessDefinition,
    ProcessInstance,
    utcnow,
)
from ..org import find_unit, root_unit
from ..state import new_workflow
from .executor import (
    CommandContext,
    advance,
    audit,
    check_org_variable,
    check_variables,
    load_instance,
    operable_instance,
    require_active,
)


@dataclass
class StartInstance:
    """Start a process the actor may start (``engine.identity.start_refusal``).

    ``via`` says what starts it: ``DIRECT`` (the start page, the API) unless a domain command
    starts it as part of its own work and names itself, which the domain's start guards read
    (opening a service order starts the order's process).
    """

    process_key: str
    version: int | None = None
    business_key: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    org_unit: str | None = None
    locale: str = "zh"
    via: str = DIRECT
    on_created: Callable[[ProcessInstance], None] | None = None
    """Called with the new instance before its first steps run: a domain command links its
    record to the instance here, so the operations of those steps find their case."""
    permitted: bool = False
    """Set only by a domain command that has decided itself who may start (a service type's
    ``open``): the lanes and grants are then not asked; what no one may start stays refused."""

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        variables = check_org_variable(context, check_variables(self.variables))
        unit = owning_unit(context, self.org_unit)
        definition = find_definition(session, self.process_key, self.version)
        if definition is None:
            which = f" version {self.version}" if self.version else ""
            raise NotFound(f"process {self.process_key!r}{which} is not deployed")
        require_startable(context, definition, self.via, permitted=self.permitted)
        if definition.start_form_key:
            version = task_forms.current_version(session, definition.start_form_key)
            errors = task_forms.field_errors(
                session, definition.start_form_key, version, variables, self.locale, context.actor
            )
            if errors:
                raise InvalidInput("the start form has errors", {"fields": errors})
        instance, _ = start_instance(
            context,
            definition,
            self.business_key,
            variables,
            unit=unit,
            on_created=self.on_created,
        )
        return instance


def require_startable(
    context: CommandContext, definition: ProcessDefinition, via: str, *, permitted: bool = False
) -> None:
    """Raise Forbidden, with the refusal's reason in its details, unless the actor may start
    ``definition`` this way."""
    refusal = start_refusal(
        context.session, context.actor, definition, via=via, permitted=permitted
    )
    if refusal is not None:
        raise Forbidden(refusal.message, {"reason": refusal.reason})


def owning_unit(context: CommandContext, code: str | None) -> OrgUnit:
    """The unit a new instance belongs to: the one named, if the starter's scope holds it,
    else the starter's own; HQ for the system."""
    session, actor = context.session, context.actor
    if code:
        unit = find_unit(session, code)
        if unit is None or not actor.sees(unit.path):
            raise InvalidInput(
                f"no organisation unit {code!r} in your scope", {"org_unit": "not in scope"}
            )
        return unit
    unit = session.get(OrgUnit, actor.unit_id) if actor.unit_id is not None else None
    return unit if unit is not None else root_unit(session)


def start_instance(
    context: CommandContext,
    definition: ProcessDefinition,
    business_key: str | None,
    variables: dict[str, Any],
    *,
    run: bool = True,
    unit: OrgUnit | None = None,
    on_created: Callable[[ProcessInstance], None] | None = None,
) -> tuple[ProcessInstance, Any]:
    spec, subprocess_specs = runtime.definition_spec(context.session, definition.id)
    workflow = new_workflow(spec, subprocess_specs)
    projection.track(workflow, [])
    unit = unit if unit is not None else owning_unit(context, None)
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
        org_unit_id=unit.id,
        org_path=unit.path,
    )
    context.session.add(instance)
    context.session.flush()
    if on_created is not None:
        on_created(instance)
    if run:
        advance(context, instance, workflow)
    else:
        runtime.save(context.session, instance, workflow)
    audit(context, "start", instance, old={}, details={"version": definition.version})
    return instance, workflow


@dataclass
class Suspend:
    instance_id: int
    expected_revision: int | None = None

    def execute(self, context: CommandContext) -> ProcessInstance:
        instance = operable_instance(context, self.instance_id, self.expected_revision)
        require_active(instance)
        instance.status = "suspended"
        audit(context, "suspend", instance, old=instance.variables)
        return instance


@dataclass
class Resume:
    instance_id: int
    expected_revision: int | None = None

    def execute(self, context: CommandContext) -> ProcessInstance:
        instance = operable_instance(context, self.instance_id, self.expected_revision)
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
    expected_revision: int | None = None

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        instance = operable_instance(context, self.instance_id, self.expected_revision)
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
    """Change an instance's data, which only a halted instance allows: a suspended one, or
    one stopped by an incident, so no step runs on data half changed."""

    instance_id: int
    variables: dict[str, Any] = field(default_factory=dict)
    expected_revision: int | None = None

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        variables = check_variables(self.variables)
        instance = operable_instance(context, self.instance_id, self.expected_revision)
        check_org_variable(context, variables)
        if instance.status not in ("suspended", "incident"):
            raise Conflict(
                f"process instance {instance.id} is {instance.status}: suspend it before"
                " changing its data"
            )
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


MAX_COMMENT_CHARS = 4000


@dataclass
class AddComment:
    """A remark on an instance (optionally on one of its tasks) by someone who may see it."""

    instance_id: int
    body: str
    task_id: str | None = None

    def execute(self, context: CommandContext) -> Comment:
        body = (self.body or "").strip()
        if not body or len(body) > MAX_COMMENT_CHARS:
            raise InvalidInput(
                f"a comment has 1 to {MAX_COMMENT_CHARS} characters", {"body": "length"}
            )
        instance = load_instance(context.session, self.instance_id)
        if not context.actor.sees(instance.org_path):
            raise NotFound(f"process instance {self.instance_id} not found")
        comment = Comment(
            instance_id=instance.id,
            task_id=self.task_id,
            author=context.actor.username,
            body=body,
        )
        context.session.add(comment)
        audit(
            context,
            "comment",
            instance,
            old=instance.variables,
            task_id=self.task_id,
            details={"body": body[:200]},
        )
        return comment
