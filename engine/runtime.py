"""Running a loaded workflow inside a command: engine steps, incidents, saving and projections.

Only commands call these functions; they change rows in the command's session and never
commit. After each step the instance row, its human tasks, timers and message subscriptions
are brought in line with the workflow, so queries never need to deserialize a workflow.
"""

from __future__ import annotations

import json
import traceback
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from .models import (
    HumanTask,
    Incident,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
    TaskCandidate,
    Timer,
    utcnow,
)
from .parsing import ISO_DURATION
from .state import dump_workflow, load_workflow, prune_history, spec_cache

MAX_VALUE_CHARS = 2000


@dataclass
class StepFailure:
    task: Any
    error: Exception
    trace: str


def jsonable(data: Any) -> Any:
    """Task data as plain JSON (dates become ISO strings, callables vanish)."""
    return json.loads(json.dumps(_clean(data), default=_default))


def _clean(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _clean(v) for k, v in data.items() if not callable(v)}
    return data


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def definition_spec(session: Session, definition_id: int) -> tuple[Any, dict[str, Any]]:
    """The parsed spec of a definition, cached per database and definition id."""
    key = (str(session.get_bind().url), definition_id)
    return spec_cache.get(
        key,
        lambda: session.scalar(
            sa.select(ProcessDefinition.spec_json).where(ProcessDefinition.id == definition_id)
        ),
    )


def load(session: Session, instance: ProcessInstance) -> BpmnWorkflow:
    spec, subprocess_specs = definition_spec(session, instance.definition_id)
    return load_workflow(instance.state, spec, subprocess_specs)


def _needs_snapshot(task: Any) -> bool:
    spec = task.task_spec
    return (
        isinstance(spec, ScriptEngineTask)
        or bool(getattr(spec, "prescript", None))
        or bool(getattr(spec, "postscript", None))
    )


def run_engine_steps(workflow: BpmnWorkflow) -> StepFailure | None:
    """Run automatic steps until only human tasks and waits remain; catch the first failure.

    A failing step is left in ERROR with the data it started with, so a retry runs it again
    from the same point; everything that ran before it stays done.
    """
    snapshots: dict[Any, dict] = {}

    def before(task: Any) -> None:
        if _needs_snapshot(task):
            snapshots[task.id] = deepcopy(task.data)

    try:
        workflow.do_engine_steps(will_complete_task=before)
    except Exception as exc:  # a designer's script, condition or service failed
        task = _failed_task(workflow, exc)
        if task is not None and task.id in snapshots:
            task.data = snapshots[task.id]
        return StepFailure(task, exc, traceback.format_exc())
    return None


def _failed_task(workflow: BpmnWorkflow, exc: Exception) -> Any:
    task = getattr(exc, "task", None)
    if task is not None:
        return task
    errored = workflow.get_tasks(state=TaskState.ERROR)
    return errored[0] if errored else None


def record_incident(session: Session, instance: ProcessInstance, failure: StepFailure) -> Incident:
    task = failure.task
    incident = Incident(
        instance_id=instance.id,
        task_id=str(task.id) if task is not None else "",
        activity=(task.task_spec.bpmn_id or task.task_spec.name) if task is not None else "",
        message=_error_message(failure.error),
        details=failure.trace[-8000:],
    )
    session.add(incident)
    return incident


def _error_message(error: Exception) -> str:
    message = str(error) or error.__class__.__name__
    notes = getattr(error, "notes", None) or getattr(error, "__notes__", None) or []
    for note in notes:
        if note not in message:
            message += f" ({note})"
    return message[:2000]


def current_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    if workflow.is_completed():
        return jsonable(workflow.data)
    last = workflow.last_task
    if last is None:
        return {}
    return jsonable(last.data)


def current_activities(workflow: BpmnWorkflow) -> list[str]:
    names = []
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR):
        spec = task.task_spec
        if spec.bpmn_id and spec.bpmn_id not in names:
            names.append(spec.bpmn_id)
    return names


def save(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    completed_task_id: str | None = None,
    completed_by: str | None = None,
) -> None:
    """Persist the workflow and bring the projections in line with it."""
    prune_history(workflow)
    now = utcnow()
    instance.state = dump_workflow(workflow)
    instance.variables = current_variables(workflow)
    instance.current_activities = current_activities(workflow)
    instance.updated_at = now
    if workflow.is_completed() and instance.status not in ("terminated",):
        instance.status = "completed"
        instance.ended_at = now
    project_human_tasks(
        session, instance, workflow, completed_task_id=completed_task_id, completed_by=completed_by
    )
    project_waits(session, instance, workflow)
    refresh_status(session, instance)


def refresh_status(session: Session, instance: ProcessInstance) -> None:
    if instance.status in ("completed", "terminated", "suspended"):
        return
    has_incident = session.scalar(
        sa.select(sa.func.count())
        .select_from(Incident)
        .where(Incident.instance_id == instance.id, Incident.status == "open")
    )
    instance.status = "incident" if has_incident else "running"


def _properties(task: Any) -> dict[str, str]:
    return (getattr(task.task_spec, "extensions", None) or {}).get("properties", {}) or {}


def _evaluate(workflow: BpmnWorkflow, task: Any, expression: str) -> Any:
    return workflow.script_engine.environment.evaluate(expression, task.data)


def _due(workflow: BpmnWorkflow, task: Any, value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    expression = value.strip()
    try:
        if not ISO_DURATION.match(expression):
            expression = str(_evaluate(workflow, task, expression))
        parsed = TimerEventDefinition.parse_iso_duration(expression)
        return now + TimerEventDefinition.get_timedelta_from_start(parsed, now.replace(tzinfo=UTC))
    except Exception:
        return None


def _title(workflow: BpmnWorkflow, task: Any, expression: str | None) -> str:
    default = task.task_spec.bpmn_name or task.task_spec.bpmn_id or ""
    if not expression:
        return default
    try:
        return str(_evaluate(workflow, task, expression))[:500]
    except Exception:
        return default


def candidate_groups(task: Any) -> list[str]:
    raw = _properties(task).get("candidateGroups")
    if raw:
        return [g.strip() for g in raw.split(",") if g.strip()]
    lane = getattr(task.task_spec, "lane", None)
    return [lane] if lane else []


def project_human_tasks(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    completed_task_id: str | None = None,
    completed_by: str | None = None,
) -> None:
    ready = {}
    if instance.status not in ("completed", "terminated"):
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    existing = {
        row.id: row
        for row in session.scalars(
            sa.select(HumanTask).where(
                HumanTask.instance_id == instance.id, HumanTask.status == "open"
            )
        )
    }
    now = utcnow()
    for task_id, row in existing.items():
        if task_id in ready:
            continue
        if task_id == completed_task_id:
            row.status, row.completed_by = "completed", completed_by
        else:
            row.status = "cancelled"
        row.completed_at = now
        session.execute(sa.delete(TaskCandidate).where(TaskCandidate.task_id == task_id))
    for task_id, task in ready.items():
        if task_id in existing:
            continue
        props = _properties(task)
        groups = candidate_groups(task)
        try:
            priority = int(props.get("priority", 50))
        except ValueError:
            priority = 50
        row = session.get(HumanTask, task_id)
        if row is None:
            row = HumanTask(id=task_id, instance_id=instance.id, created_at=now)
            session.add(row)
        row.process_key = instance.process_key
        row.business_key = instance.business_key
        row.name = task.task_spec.bpmn_id or task.task_spec.name
        row.title = _title(workflow, task, props.get("title"))
        row.lane = getattr(task.task_spec, "lane", None)
        row.candidate_group = ",".join(groups) or None
        row.form_key = props.get("formKey")
        row.priority = priority
        row.due_at = _due(workflow, task, props.get("dueIn"), now)
        row.status = "open"
        row.completed_at = row.completed_by = None
        for group in groups:
            session.add(
                TaskCandidate(task_id=task_id, group_name=group, priority=priority, created_at=now)
            )


def set_assignee(session: Session, task: HumanTask, username: str | None) -> None:
    """Claim, unclaim or assign: the task row and its candidate rows change together."""
    task.assignee = username
    task.claimed_at = utcnow() if username else None
    session.execute(
        sa.update(TaskCandidate)
        .where(TaskCandidate.task_id == task.id)
        .values(claimed=username is not None)
    )


def _wanted_waits(workflow: BpmnWorkflow) -> tuple[dict, dict]:
    timers, messages = {}, {}
    for task in list(workflow.event_manager.tasks.values()):
        if not task.has_state(TaskState.WAITING):
            continue
        definition = task.task_spec.event_definition
        details = definition.details(task)
        if isinstance(definition, TimerEventDefinition) and details.value:
            due = TimerEventDefinition.get_datetime(details.value).astimezone(UTC)
            timers[str(task.id)] = (task, definition.__class__.__name__, due.replace(tzinfo=None))
        elif isinstance(definition, MessageEventDefinition):
            messages[(str(task.id), definition.name)] = task
    return timers, messages


def project_waits(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Keep the timer and message-subscription rows equal to what the workflow waits for."""
    timers, messages = ({}, {})
    if instance.status not in ("completed", "terminated"):
        timers, messages = _wanted_waits(workflow)
    for row in session.scalars(sa.select(Timer).where(Timer.instance_id == instance.id)):
        wanted = timers.get(row.task_id)
        if wanted is not None and wanted[2] == row.due_at:
            del timers[row.task_id]
        else:
            session.delete(row)
    for task_id, (task, kind, due) in timers.items():
        session.add(
            Timer(
                instance_id=instance.id,
                task_id=task_id,
                activity=task.task_spec.bpmn_id or task.task_spec.name,
                kind=kind,
                due_at=due,
            )
        )
    subscriptions = session.scalars(
        sa.select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)
    )
    for row in subscriptions:
        if messages.pop((row.task_id, row.message_name), None) is None:
            session.delete(row)
        else:
            row.business_key = instance.business_key
    for (task_id, name), task in messages.items():
        session.add(
            MessageSubscription(
                instance_id=instance.id,
                task_id=task_id,
                activity=task.task_spec.bpmn_id or task.task_spec.name,
                message_name=name,
                business_key=instance.business_key,
            )
        )
