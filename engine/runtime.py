"""Running a loaded workflow inside a command: engine steps, incidents, saving and projections.

Only commands call these functions; they change rows in the command's session and never
commit. After each step the instance row, its human tasks, timers and message subscriptions
are brought in line with the workflow, so queries never need to deserialize a workflow.
"""

from __future__ import annotations

import functools
import json
import traceback
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

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
_projected: WeakKeyDictionary[BpmnWorkflow, set[str]] = WeakKeyDictionary()


@dataclass
class StepFailure:
    """A step that raised. ``phase`` says what a retry must repeat: ``run`` the step itself,
    or ``update`` it (its pre-script ran while a predecessor completed, before it was ready).
    """

    task: Any
    error: Exception
    trace: str
    phase: str = "run"


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
    """The parsed spec of a definition, cached per database engine and definition id."""
    key = (session.get_bind(), definition_id)
    return spec_cache.get(
        key,
        lambda: session.scalar(
            sa.select(ProcessDefinition.spec_json).where(ProcessDefinition.id == definition_id)
        ),
    )


def load(session: Session, instance: ProcessInstance) -> BpmnWorkflow:
    spec, subprocess_specs = definition_spec(session, instance.definition_id)
    workflow = load_workflow(instance.state, spec, subprocess_specs)
    if instance.status not in ("completed", "terminated"):
        track(workflow, workflow.get_tasks(state=TaskState.READY, manual=True))
    return workflow


def track(workflow: BpmnWorkflow, ready_tasks: list[Any]) -> None:
    """Remember which human tasks are projected for this workflow as loaded.

    Every save projects exactly the READY user and manual tasks, so those of the loaded
    workflow are the open human_task rows; the projection then needs no query to find them.
    """
    _projected[workflow] = {str(t.id) for t in ready_tasks}


def _needs_snapshot(task: Any) -> bool:
    spec = task.task_spec
    return (
        isinstance(spec, ScriptEngineTask)
        or bool(getattr(spec, "prescript", None))
        or bool(getattr(spec, "postscript", None))
    )


def run_engine_steps(workflow: BpmnWorkflow) -> StepFailure | None:
    """Run automatic steps until only human tasks and waits remain; catch the first failure.

    A step that fails while running is left in ERROR with the data it started with, so a
    retry runs it again from the same point; everything that ran before it stays done.
    """
    snapshots: dict[Any, dict] = {}
    running: list[Any] = []

    def before(task: Any) -> None:
        running[:] = [task]
        if _needs_snapshot(task):
            snapshots[task.id] = deepcopy(task.data)

    try:
        workflow.do_engine_steps(will_complete_task=before)
    except Exception as exc:  # a designer's script, condition or service failed
        failure = step_failure(workflow, exc, running[0] if running else None)
        if failure.phase == "run" and failure.task is not None and failure.task.id in snapshots:
            failure.task.data = snapshots[failure.task.id]
        return failure
    return None


def step_failure(workflow: BpmnWorkflow, exc: Exception, running: Any) -> StepFailure:
    """Which task failed, and whether it failed running or being made ready."""
    task = getattr(exc, "task", None)
    if task is None:
        errored = workflow.get_tasks(state=TaskState.ERROR)
        task = errored[0] if errored else running
    phase = "run" if task is running else "update"
    if task is not None and not task.has_state(TaskState.ERROR | TaskState.COMPLETED):
        task._set_state(TaskState.ERROR)
    return StepFailure(task, exc, traceback.format_exc(), phase)


def retry_step(workflow: BpmnWorkflow, task: Any, phase: str) -> StepFailure | None:
    """Repeat a failed step: run it again, or make it (and its waiting siblings) ready again.

    A user or manual task that failed while running had been submitted by a person, so its
    completion is repeated; one that failed being made ready goes back to the inbox.
    """
    snapshot = deepcopy(task.data)
    try:
        if phase == "run":
            task._set_state(TaskState.READY)
            if task.task_spec.manual:
                task.run()
        else:
            siblings = task.parent.children if task.parent is not None else [task]
            for sibling in siblings:
                if sibling.has_state(TaskState.PREDICTED_MASK | TaskState.ERROR):
                    sibling.task_spec._update(sibling)
    except Exception as exc:
        failure = step_failure(workflow, exc, task if phase == "run" else None)
        if failure.task is task and phase == "run":
            task.data = snapshot
        return failure
    return None


def record_incident(session: Session, instance: ProcessInstance, failure: StepFailure) -> Incident:
    task = failure.task
    incident = Incident(
        instance_id=instance.id,
        task_id=str(task.id) if task is not None else "",
        activity=(task.task_spec.bpmn_id or task.task_spec.name) if task is not None else "",
        message=_error_message(failure.error),
        details=failure.trace[-8000:],
        phase=failure.phase,
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


def live_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """Tasks holding a token (ready, waiting or failed), in one walk of the tree."""
    return workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)


def current_activities(live: list[Any]) -> list[str]:
    names = []
    for task in live:
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
    """Persist the workflow and bring the projections in line with it.

    Runs without autoflush, so the instance row is written once, by the executor's flush;
    rows this command added earlier are found in the session instead of the database.
    """
    with session.no_autoflush:
        prune_history(workflow)
        now = utcnow()
        instance.state = dump_workflow(workflow)
        instance.variables = current_variables(workflow)
        live = live_tasks(workflow)
        instance.current_activities = current_activities(live)
        instance.updated_at = now
        if workflow.is_completed() and instance.status not in ("terminated",):
            instance.status = "completed"
            instance.ended_at = now
        ready = [t for t in live if t.has_state(TaskState.READY) and t.task_spec.manual]
        project_human_tasks(
            session,
            instance,
            workflow,
            ready,
            completed_task_id=completed_task_id,
            completed_by=completed_by,
        )
        project_waits(session, instance, workflow)
        refresh_status(session, instance)


def _rows(session: Session, model: type, query: sa.Select, instance_id: int) -> list[Any]:
    """Rows from the database plus those this session added and has not flushed yet."""
    found = [row for row in session.scalars(query) if row not in session.deleted]
    found.extend(
        obj
        for obj in session.new
        if isinstance(obj, model) and obj.instance_id == instance_id and obj not in found
    )
    return found


def refresh_status(session: Session, instance: ProcessInstance, *, recount: bool = False) -> None:
    """running or incident, counting open incidents only when one may have changed."""
    if instance.status in ("completed", "terminated", "suspended"):
        return
    new_incident = any(
        isinstance(obj, Incident) and obj.instance_id == instance.id for obj in session.new
    )
    if instance.status == "running" and not new_incident and not recount:
        return
    has_incident = new_incident or session.scalar(
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
    ready_tasks: list[Any],
    *,
    completed_task_id: str | None = None,
    completed_by: str | None = None,
) -> None:
    """Make the open human_task rows of the instance equal its READY user and manual tasks.

    Rows are written with Core statements on the session's connection, not ORM objects:
    this runs on every command and the ORM's per-statement cost would dominate it.
    """
    ended = instance.status in ("completed", "terminated")
    ready = {} if ended else {str(t.id): t for t in ready_tasks}
    db = session.connection()
    open_before = _projected.get(workflow)
    if open_before is None:
        open_before = set(
            db.execute(
                sa.select(HumanTask.id).where(
                    HumanTask.instance_id == instance.id, HumanTask.status == "open"
                )
            ).scalars()
        )
    _projected[workflow] = set(ready)
    now = utcnow()
    gone = [task_id for task_id in open_before if task_id not in ready]
    if gone:
        _close_tasks(session, gone, completed_task_id, completed_by, now)
    new = [task for task_id, task in ready.items() if task_id not in open_before]
    if not new:
        return
    rows, candidates = [], []
    for task in new:
        row = _task_row(workflow, instance, task, now)
        rows.append(row)
        candidates.extend(
            {
                "task_id": row["id"],
                "group_name": group,
                "claimed": False,
                "priority": row["priority"],
                "created_at": now,
            }
            for group in candidate_groups(task)
        )
    db.execute(_upsert_tasks(db.dialect.name), rows)
    if candidates:
        db.execute(_INSERT_CANDIDATES, candidates)


@functools.cache
def _upsert_tasks(dialect: str) -> Any:
    """INSERT of task rows where a task READY again (a retried step) replaces its old row.

    Built once per dialect: building it costs several times more than running it.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(HumanTask)
    columns = [c.name for c in HumanTask.__table__.columns if c.name != "id"]
    replace = {name: statement.excluded[name] for name in columns}
    return statement.on_conflict_do_update(index_elements=["id"], set_=replace)


_INSERT_CANDIDATES = sa.insert(TaskCandidate)
_DROP_CANDIDATES = sa.delete(TaskCandidate).where(
    TaskCandidate.task_id.in_(sa.bindparam("ids", expanding=True))
)
_COMPLETE_TASK = (
    sa.update(HumanTask)
    .where(HumanTask.id == sa.bindparam("task"))
    .values(
        status="completed",
        completed_by=sa.bindparam("by"),
        completed_at=sa.bindparam("now"),
        assignee=sa.func.coalesce(HumanTask.assignee, sa.bindparam("by")),
        claimed_at=sa.func.coalesce(HumanTask.claimed_at, sa.bindparam("now")),
    )
)
_CANCEL_TASKS = (
    sa.update(HumanTask)
    .where(HumanTask.id.in_(sa.bindparam("ids", expanding=True)))
    .values(status="cancelled", completed_at=sa.bindparam("now"))
)


def _close_tasks(
    session: Session,
    gone: list[str],
    completed_task_id: str | None,
    completed_by: str | None,
    now: datetime,
) -> None:
    """Mark left tasks completed (the one this command completed) or cancelled."""
    cancelled = [task_id for task_id in gone if task_id != completed_task_id]
    db = session.connection()
    if completed_task_id in gone:
        db.execute(_COMPLETE_TASK, {"task": completed_task_id, "by": completed_by, "now": now})
        task = session.identity_map.get(session.identity_key(HumanTask, completed_task_id))
        if task is not None:
            session.expire(task)
    if cancelled:
        db.execute(_CANCEL_TASKS, {"ids": cancelled, "now": now})
    db.execute(_DROP_CANDIDATES, {"ids": gone})


def _task_row(
    workflow: BpmnWorkflow, instance: ProcessInstance, task: Any, now: datetime
) -> dict[str, Any]:
    props = _properties(task)
    try:
        priority = min(max(int(props.get("priority", 50)), 0), 100)
    except ValueError:
        priority = 50
    groups = candidate_groups(task)
    return {
        "id": str(task.id),
        "instance_id": instance.id,
        "process_key": instance.process_key,
        "business_key": instance.business_key,
        "name": task.task_spec.bpmn_id or task.task_spec.name,
        "title": _title(workflow, task, props.get("title")),
        "lane": getattr(task.task_spec, "lane", None),
        "candidate_group": ",".join(groups) or None,
        "assignee": None,
        "form_key": props.get("formKey"),
        "priority": priority,
        "due_at": _due(workflow, task, props.get("dueIn"), now),
        "status": "open",
        "created_at": now,
        "claimed_at": None,
        "completed_at": None,
        "completed_by": None,
    }


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
    """Keep the timer and message-subscription rows equal to what the workflow waits for.

    ``instance.waiting`` says whether such rows exist, so instances that never wait for an
    event cost no queries here.
    """
    timers, messages = ({}, {})
    if instance.status not in ("completed", "terminated"):
        timers, messages = _wanted_waits(workflow)
    if not (timers or messages or instance.waiting):
        return
    instance.waiting = bool(timers or messages)
    query = sa.select(Timer).where(Timer.instance_id == instance.id)
    for row in _rows(session, Timer, query, instance.id):
        wanted = timers.get(row.task_id)
        if wanted is not None and wanted[2] == row.due_at:
            del timers[row.task_id]
        else:
            _discard(session, row)
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
    query = sa.select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)
    for row in _rows(session, MessageSubscription, query, instance.id):
        if messages.pop((row.task_id, row.message_name), None) is None:
            _discard(session, row)
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


def _discard(session: Session, row: Any) -> None:
    if row in session.new:
        session.expunge(row)
    else:
        session.delete(row)
