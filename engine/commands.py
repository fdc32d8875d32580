"""Every change of engine state is a command run by ``execute`` in one transaction.

A command loads what it needs, checks permissions and state, acts, runs engine steps, saves
the workflow and its projections and writes an audit row. Only ``execute`` commits; a command
that calls another runs it inside the same transaction. The instance row carries a revision:
a concurrent command that changed it first makes this one fail with ``Conflict``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import projection, runtime
from .deployment import DeployedDefinition, deploy, find_definition
from .errors import Conflict, EngineError, Forbidden, InvalidInput, NotFound
from .identity import Actor, find_user, may_start, may_work_task, task_groups
from .models import (
    AuditEntry,
    HumanTask,
    Incident,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    StartGrant,
    Timer,
    utcnow,
)
from .state import new_workflow

_IDENTIFIER = re.compile(r"^[A-Za-z\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*$")
_RESERVED = {"True", "False", "None", "and", "or", "not", "if", "else", "for", "in", "is", "lambda"}


@dataclass
class CommandContext:
    session: Session
    actor: Actor


def execute(session: Session, command: Any, actor: Actor) -> Any:
    """Run one command in one transaction; map a lost race to ``Conflict``."""
    context = CommandContext(session, actor)
    try:
        result = command.execute(context)
        session.flush()
        session.commit()
        return result
    except StaleDataError:
        session.rollback()
        raise Conflict("the process instance was changed by someone else meanwhile") from None
    except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
        session.rollback()
        if _is_race(exc):
            raise Conflict("the process instance was changed by someone else meanwhile") from None
        raise
    except BaseException:
        session.rollback()
        raise


def _is_race(exc: Exception) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return any(s in text for s in ("database is locked", "could not serialize", "deadlock"))


def check_variables(variables: Any, what: str = "variables") -> dict[str, Any]:
    """Data keys become names in scripts and conditions, so they must be identifiers."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    bad = {k: "not a valid name" for k in variables if not _valid_name(k)}
    if bad:
        raise InvalidInput(f"{what} has invalid names", bad)
    return variables


def _valid_name(key: Any) -> bool:
    return isinstance(key, str) and bool(_IDENTIFIER.match(key)) and key not in _RESERVED


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before != after:
            changes[key] = {"old": _short(before), "new": _short(after)}
    return changes


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= runtime.MAX_VALUE_CHARS else text[: runtime.MAX_VALUE_CHARS] + "…"


_INSERT_AUDIT = sa.insert(AuditEntry)
_TASK_WITH_INSTANCE = (
    sa.select(HumanTask, ProcessInstance)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .where(HumanTask.id == sa.bindparam("task_id"))
    .execution_options(populate_existing=True)
)


def audit(
    context: CommandContext,
    command: str,
    instance: ProcessInstance | None,
    *,
    old: dict[str, Any] | None = None,
    task_id: str | None = None,
    activity: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    changes = _diff(old or {}, instance.variables or {}) if instance is not None else {}
    context.session.connection().execute(
        _INSERT_AUDIT,
        [
            {
                "instance_id": instance.id if instance is not None else None,
                "command": command,
                "actor": context.actor.username,
                "task_id": task_id,
                "activity": activity,
                "at": utcnow(),
                "changes": changes,
                "details": details or {},
            }
        ],
    )


def _instance(session: Session, instance_id: int) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    return instance


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only administrators may do this")


def _require_active(instance: ProcessInstance) -> None:
    if instance.status in ("completed", "terminated"):
        raise Conflict(f"process instance {instance.id} has {instance.status}")
    if instance.status == "suspended":
        raise Conflict(f"process instance {instance.id} is suspended")


def _advance(
    context: CommandContext,
    instance: ProcessInstance,
    workflow: Any,
    *,
    completed_task_id: str | None = None,
) -> Incident | None:
    failure = runtime.run_engine_steps(workflow)
    incident = None
    if failure is not None:
        incident = runtime.record_incident(context.session, instance, failure)
    runtime.save(
        context.session,
        instance,
        workflow,
        completed_task_id=completed_task_id,
        completed_by=context.actor.username,
    )
    return incident


@dataclass
class Deploy:
    files: list[tuple[str, bytes]]
    source: str = "api"

    def execute(self, context: CommandContext) -> list[DeployedDefinition]:
        if not context.actor.may_deploy:
            raise Forbidden("only administrators and process designers may deploy")
        results = deploy(
            context.session, self.files, deployed_by=context.actor.username, source=self.source
        )
        audit(
            context,
            "deploy",
            None,
            details={
                "files": [n for n, _ in self.files],
                "definitions": [r.as_dict() for r in results],
            },
        )
        return results


@dataclass
class GrantStart:
    """Let groups start a process beyond the lane of its start event (replaces earlier grants)."""

    process_key: str
    groups: list[str] = field(default_factory=list)

    def execute(self, context: CommandContext) -> list[str]:
        session = context.session
        _require_admin(context.actor)
        if find_definition(session, self.process_key) is None:
            raise NotFound(f"process {self.process_key!r} is not deployed")
        groups = sorted({g.strip() for g in self.groups if isinstance(g, str) and g.strip()})
        too_long = [g for g in groups if len(g) > 80]
        if too_long:
            raise InvalidInput("group names have at most 80 characters", {"groups": too_long})
        session.execute(sa.delete(StartGrant).where(StartGrant.process_key == self.process_key))
        session.add_all(StartGrant(process_key=self.process_key, group_name=g) for g in groups)
        audit(
            context,
            "grant_start",
            None,
            details={"process_key": self.process_key, "groups": groups},
        )
        return groups


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
        _advance(context, instance, workflow)
    else:
        runtime.save(context.session, instance, workflow)
    audit(context, "start", instance, old={}, details={"version": definition.version})
    return instance, workflow


@dataclass
class _TaskCommand:
    task_id: str

    def _open_task(self, context: CommandContext) -> tuple[HumanTask, ProcessInstance]:
        """The task and its instance, read in one statement.

        One statement gives one consistent snapshot, so the instance revision that the
        optimistic check compares against is the one the task row was read with.
        """
        try:
            UUID(self.task_id)
        except (ValueError, TypeError):
            raise NotFound(f"task {self.task_id} not found") from None
        row = context.session.execute(_TASK_WITH_INSTANCE, {"task_id": self.task_id}).first()
        if row is None:
            raise NotFound(f"task {self.task_id} not found")
        task, instance = row
        if task.status != "open":
            raise Conflict(f"task {task.id} is already {task.status}")
        _require_active(instance)
        return task, instance


@dataclass
class Claim(_TaskCommand):
    def execute(self, context: CommandContext) -> HumanTask:
        task, instance = self._open_task(context)
        actor = context.actor
        if task.assignee == actor.username:
            return task
        if task.assignee:
            raise Conflict(f"task {task.id} is already claimed by {task.assignee}")
        if not may_work_task(actor, task):
            raise Forbidden("you are not a candidate for this task")
        projection.set_assignee(context.session, task, actor.username)
        instance.updated_at = utcnow()
        audit(
            context, "claim", instance, old=instance.variables, task_id=task.id, activity=task.name
        )
        return task


@dataclass
class Unclaim(_TaskCommand):
    def execute(self, context: CommandContext) -> HumanTask:
        task, instance = self._open_task(context)
        if task.assignee is None:
            return task
        if task.assignee != context.actor.username and not context.actor.is_admin:
            raise Forbidden("only the assignee or an administrator may unclaim this task")
        previous = task.assignee
        projection.set_assignee(context.session, task, None)
        instance.updated_at = utcnow()
        audit(
            context,
            "unclaim",
            instance,
            old=instance.variables,
            task_id=task.id,
            activity=task.name,
            details={"previous_assignee": previous},
        )
        return task


@dataclass
class Assign(_TaskCommand):
    user: str = ""

    def execute(self, context: CommandContext) -> HumanTask:
        task, instance = self._open_task(context)
        actor = context.actor
        allowed = (
            actor.is_admin
            or task.assignee == actor.username
            or (task.assignee is None and bool(task_groups(task) & actor.groups))
        )
        if not allowed:
            raise Forbidden("you may not assign this task")
        target = find_user(context.session, self.user) if self.user else None
        if target is None:
            raise InvalidInput(f"unknown user {self.user!r}", {"user": "unknown user"})
        groups = task_groups(task)
        if groups and not actor.is_admin and not (set(target.group_names) & groups):
            raise InvalidInput(
                f"{target.username} is in none of the task's groups", {"user": "not a candidate"}
            )
        previous = task.assignee
        projection.set_assignee(context.session, task, target.username)
        instance.updated_at = utcnow()
        audit(
            context,
            "assign",
            instance,
            old=instance.variables,
            task_id=task.id,
            activity=task.name,
            details={"assignee": target.username, "previous_assignee": previous},
        )
        return task


@dataclass
class Complete(_TaskCommand):
    data: dict[str, Any] = field(default_factory=dict)

    def execute(self, context: CommandContext) -> HumanTask:
        session = context.session
        task, instance = self._open_task(context)
        if not may_work_task(context.actor, task):
            raise Forbidden("this task is not yours to complete")
        data = check_variables(self.data, "data")
        workflow = runtime.load(session, instance)
        spiff_task = workflow.get_task_from_id(UUID(task.id))
        if spiff_task is None or not spiff_task.has_state(TaskState.READY):
            raise Conflict(f"task {task.id} is no longer ready")
        old = dict(instance.variables or {})
        spiff_task.data.update(data)
        try:
            spiff_task.run()
        except Exception as exc:  # its post-script, or a successor's pre-script, failed
            failure = runtime.step_failure(workflow, exc, spiff_task)
            runtime.record_incident(session, instance, failure)
            runtime.save(
                session,
                instance,
                workflow,
                completed_task_id=task.id,
                completed_by=context.actor.username,
            )
        else:
            _advance(context, instance, workflow, completed_task_id=task.id)
        audit(
            context,
            "complete",
            instance,
            old=old,
            task_id=task.id,
            activity=task.name,
            details={"submitted": sorted(data)},
        )
        return task


@dataclass
class CorrelateMessage:
    name: str
    correlation_key: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        variables = check_variables(self.variables)
        query = sa.select(MessageSubscription).where(MessageSubscription.message_name == self.name)
        if self.correlation_key is not None:
            query = query.where(MessageSubscription.business_key == self.correlation_key)
        subscriptions = list(session.scalars(query))
        instance_ids = sorted({s.instance_id for s in subscriptions})
        if len(instance_ids) > 1:
            raise Conflict(
                f"{len(instance_ids)} process instances wait for message {self.name!r}; "
                "give a correlation key that names one",
                {"instances": instance_ids},
            )
        if instance_ids:
            instance = _instance(session, instance_ids[0])
            _require_active(instance)
            workflow = runtime.load(session, instance)
        else:
            instance, workflow = self._start_by_message(context, variables)
        old = dict(instance.variables or {})
        delivered = self._deliver(workflow, variables)
        if not delivered:
            raise NotFound(f"no process waits for message {self.name!r}")
        _advance(context, instance, workflow)
        audit(context, "correlate_message", instance, old=old, details={"message": self.name})
        return instance

    def _start_by_message(
        self, context: CommandContext, variables: dict
    ) -> tuple[ProcessInstance, Any]:
        session = context.session
        latest = (
            sa.select(ProcessDefinition.key, sa.func.max(ProcessDefinition.version).label("v"))
            .where(ProcessDefinition.kind == "bpmn")
            .group_by(ProcessDefinition.key)
            .subquery()
        )
        candidates = [
            d
            for d in session.scalars(
                sa.select(ProcessDefinition).join(
                    latest,
                    sa.and_(
                        ProcessDefinition.key == latest.c.key,
                        ProcessDefinition.version == latest.c.v,
                    ),
                )
            )
            if self.name in (d.message_starts or [])
        ]
        if not candidates:
            raise NotFound(f"no process waits for message {self.name!r}")
        if len(candidates) > 1:
            keys = sorted(d.key for d in candidates)
            raise Conflict(f"message {self.name!r} starts several processes: {', '.join(keys)}")
        definition = candidates[0]
        if not may_start(session, context.actor, definition):
            raise Forbidden(f"you may not start process {definition.key!r}")
        return start_instance(context, definition, self.correlation_key, variables, run=True)

    def _deliver(self, workflow: Any, variables: dict) -> bool:
        for task in list(workflow.event_manager.tasks.values()):
            definition = task.task_spec.event_definition
            if (
                not task.has_state(TaskState.WAITING)
                or getattr(definition, "name", None) != self.name
            ):
                continue
            if not hasattr(definition, "correlation_properties"):
                continue
            try:
                correlations = definition.calculate_correlations(
                    workflow.script_engine, definition.correlation_properties, variables
                )
            except Exception as exc:
                raise InvalidInput(
                    f"the message lacks what the process correlates on: {exc}"
                ) from None
            task.data.update(variables)
            event = BpmnEvent(definition, payload=dict(variables), correlations=correlations)
            if workflow.event_manager.catch(event, internal=False):
                return True
        return False


@dataclass
class FireTimer:
    """Fire one due timer row; returns False when another worker already fired it."""

    timer_id: int

    def execute(self, context: CommandContext) -> bool:
        session = context.session
        timer = session.get(Timer, self.timer_id)
        if timer is None:
            return False
        if timer.due_at >= utcnow():
            # SpiffWorkflow fires a timer only once its time has strictly passed; firing
            # earlier would change nothing but re-create the row under a new id.
            return False
        instance = _instance(session, timer.instance_id)
        if instance.status in ("suspended", "completed", "terminated"):
            return False
        claimed = session.execute(sa.delete(Timer).where(Timer.id == timer.id))
        if claimed.rowcount != 1:
            return False
        workflow = runtime.load(session, instance)
        old = dict(instance.variables or {})
        workflow.refresh_timers()
        _advance(context, instance, workflow)
        audit(
            context,
            "fire_timer",
            instance,
            old=old,
            task_id=timer.task_id,
            activity=timer.activity,
            details={"due_at": timer.due_at.isoformat()},
        )
        return True


@dataclass
class RetryIncident:
    incident_id: int

    def execute(self, context: CommandContext) -> Incident:
        session = context.session
        _require_admin(context.actor)
        row = session.execute(
            sa.select(Incident, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .where(Incident.id == self.incident_id)
        ).first()
        if row is None:
            raise NotFound(f"incident {self.incident_id} not found")
        incident, instance = row
        if incident.status != "open":
            raise Conflict(f"incident {incident.id} is already {incident.status}")
        if instance.status in ("completed", "terminated", "suspended"):
            raise Conflict(f"process instance {instance.id} is {instance.status}")
        workflow = runtime.load(session, instance)
        old = dict(instance.variables or {})
        incident.status, incident.resolved_at = "resolved", utcnow()
        session.flush()
        task = workflow.get_task_from_id(UUID(incident.task_id)) if incident.task_id else None
        failure = None
        if task is not None and task.has_state(TaskState.ERROR):
            failure = runtime.retry_step(workflow, task, incident.phase)
        if failure is not None:
            runtime.record_incident(session, instance, failure)
            runtime.save(session, instance, workflow)
        else:
            _advance(context, instance, workflow)
        audit(
            context,
            "retry",
            instance,
            old=old,
            task_id=incident.task_id,
            activity=incident.activity,
            details={"incident": incident.id},
        )
        return incident


@dataclass
class Suspend:
    instance_id: int

    def execute(self, context: CommandContext) -> ProcessInstance:
        _require_admin(context.actor)
        instance = _instance(context.session, self.instance_id)
        _require_active(instance)
        instance.status = "suspended"
        audit(context, "suspend", instance, old=instance.variables)
        return instance


@dataclass
class Resume:
    instance_id: int

    def execute(self, context: CommandContext) -> ProcessInstance:
        _require_admin(context.actor)
        instance = _instance(context.session, self.instance_id)
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
        _require_admin(context.actor)
        instance = _instance(session, self.instance_id)
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
        _require_admin(context.actor)
        variables = check_variables(self.variables)
        instance = _instance(session, self.instance_id)
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


__all__ = [
    "Assign",
    "Claim",
    "CommandContext",
    "Complete",
    "CorrelateMessage",
    "Deploy",
    "EngineError",
    "FireTimer",
    "RetryIncident",
    "SetVariables",
    "StartInstance",
    "Suspend",
    "Terminate",
    "Unclaim",
    "execute",
]
