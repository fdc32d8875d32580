"""Commands driven by events: messages, timers, and retrying failed steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from .. import runtime, scope
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..identity import DIRECT, SENDERS_PROPERTY, Actor, may_send_message
from ..models import (
    Incident,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    Timer,
    utcnow,
)
from ..services import invoking
from .executor import (
    CommandContext,
    advance,
    audit,
    check_revision,
    check_variables,
    invocation_of,
    load_instance,
    require_active,
    require_operator,
)
from .instances import require_startable, start_instance


@dataclass
class CorrelateMessage:
    """Deliver a message to the instance waiting for it, or start the process it starts.

    Only instances in the caller's scope are considered: one outside it is not found, as if
    it did not exist. The waiting event must name one of the caller's groups or roles in its
    ``messageSenders`` property (admins and the system send anything); a message that starts
    a process follows the process's start rules instead.
    """

    name: str
    correlation_key: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    def execute(self, context: CommandContext) -> ProcessInstance:
        session = context.session
        variables = check_variables(self.variables)
        query = (
            sa.select(MessageSubscription.instance_id)
            .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
            .where(
                MessageSubscription.message_name == self.name,
                scope.visible(context.actor, ProcessInstance.org_path),
            )
        )
        if self.correlation_key is not None:
            query = query.where(MessageSubscription.business_key == self.correlation_key)
        instance_ids = sorted(set(session.scalars(query)))
        if len(instance_ids) > 1:
            raise Conflict(
                f"{len(instance_ids)} process instances wait for message {self.name!r}; "
                "give a correlation key that names one",
                {"instances": instance_ids},
            )
        if instance_ids:
            instance = load_instance(session, instance_ids[0])
            require_active(instance)
            workflow = runtime.load(session, instance)
            sender = context.actor
        else:
            instance, workflow = self._start_by_message(context, variables)
            sender = None  # the start rules admitted it
        old = dict(instance.variables or {})
        delivered = self._deliver(workflow, variables, sender)
        if not delivered:
            raise NotFound(f"no process waits for message {self.name!r}")
        advance(context, instance, workflow)
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
        require_startable(context, definition, DIRECT)
        return start_instance(context, definition, self.correlation_key, variables, run=True)

    def _deliver(self, workflow: Any, variables: dict, sender: Actor | None) -> bool:
        """Catch the message at a waiting event; ``sender`` must be one it accepts."""
        waiting = [
            task
            for task in list(workflow.event_manager.tasks.values())
            if task.has_state(TaskState.WAITING)
            and getattr(task.task_spec.event_definition, "name", None) == self.name
            and hasattr(task.task_spec.event_definition, "correlation_properties")
        ]
        if sender is not None and waiting:
            waiting = [t for t in waiting if may_send_message(sender, _senders(t))]
            if not waiting:
                raise Forbidden(
                    f"you may not send message {self.name!r}", {"reason": "not_a_sender"}
                )
        for task in waiting:
            definition = task.task_spec.event_definition
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


def _senders(task: Any) -> set[str]:
    """The groups and roles a waiting event accepts its message from (``messageSenders``)."""
    properties = (getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}
    raw = properties.get(SENDERS_PROPERTY) or ""
    return {name.strip() for name in raw.split(",") if name.strip()}


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
        instance = load_instance(session, timer.instance_id)
        if instance.status in ("suspended", "completed", "terminated"):
            return False
        claimed = session.execute(sa.delete(Timer).where(Timer.id == timer.id))
        if claimed.rowcount != 1:
            return False
        workflow = runtime.load(session, instance)
        old = dict(instance.variables or {})
        workflow.refresh_timers()
        advance(context, instance, workflow)
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
    expected_revision: int | None = None

    def execute(self, context: CommandContext) -> Incident:
        session = context.session
        require_operator(context.actor)
        row = session.execute(
            sa.select(Incident, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .where(Incident.id == self.incident_id)
        ).first()
        if row is None:
            raise NotFound(f"incident {self.incident_id} not found")
        incident, instance = row
        if not context.actor.sees(instance.org_path):
            raise NotFound(f"incident {self.incident_id} not found")
        check_revision(instance, self.expected_revision)
        if incident.status != "open":
            raise Conflict(f"incident {incident.id} is already {incident.status}")
        if instance.status in ("completed", "terminated", "suspended"):
            raise Conflict(f"process instance {instance.id} is {instance.status}")
        workflow = runtime.load(session, instance)
        old = dict(instance.variables or {})
        incident.status, incident.resolved_at = "resolved", utcnow()
        session.flush()
        task = workflow.tasks.get(UUID(incident.task_id)) if incident.task_id else None
        failure = None
        if task is not None and task.has_state(TaskState.ERROR):
            with invoking(invocation_of(context, instance)):
                failure = runtime.retry_step(workflow, task, incident.phase)
        if failure is not None:
            runtime.record_incident(session, instance, failure)
            runtime.save(session, instance, workflow)
        else:
            advance(context, instance, workflow, handover=False)
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
