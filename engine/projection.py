"""Projections: the rows that mirror a workflow so queries never deserialize it.

Every READY user or manual task is an open ``human_task`` row (with a ``task_candidate`` row
per candidate group); every waiting timer a ``timer`` row; every waiting message catch a
``message_subscription`` row. Only commands call these functions, through ``runtime.save``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import task_forms
from .identity import Actor
from .models import HumanTask, MessageSubscription, ProcessInstance, TaskCandidate, Timer, utcnow
from .parsing import ISO_DURATION

_projected: WeakKeyDictionary[BpmnWorkflow, set[str]] = WeakKeyDictionary()
# the snapshot of the task a command is completing, kept until the projection writes it
_completing: WeakKeyDictionary[BpmnWorkflow, tuple[str, dict[str, Any]]] = WeakKeyDictionary()
_context_keys: tuple[str, ...] = ()


def show_on_completion(keys: Iterable[str]) -> None:
    """Name the task-data variables a task page shows beside the form (the domain's case
    summary), so a completion snapshots them with the submitted data."""
    global _context_keys
    _context_keys = tuple(keys)


def completing(workflow: BpmnWorkflow, task: Any, submitted: dict[str, Any]) -> None:
    """Remember what the task shows as it is completed: the submitted data and the context
    variables of its data. The UPDATE that completes the row writes it, so the snapshot
    costs no statement of its own."""
    data = task.data
    context = {k: data[k] for k in _context_keys if data.get(k) not in (None, "")}
    snapshot = json.loads(json.dumps({"data": submitted, "context": context}, default=str))
    _completing[workflow] = (str(task.id), snapshot)


def track(workflow: BpmnWorkflow, ready_tasks: list[Any]) -> None:
    """Remember which human tasks are projected for this workflow as loaded.

    Every save projects exactly the READY user and manual tasks, so those of the loaded
    workflow are the open human_task rows; the projection then needs no query to find them.
    """
    _projected[workflow] = {str(t.id) for t in ready_tasks}


def _rows(session: Session, model: type, query: sa.Select, instance_id: int) -> list[Any]:
    """Rows from the database plus those this session added and has not flushed yet."""
    found = [row for row in session.scalars(query) if row not in session.deleted]
    found.extend(
        obj
        for obj in session.new
        if isinstance(obj, model) and obj.instance_id == instance_id and obj not in found
    )
    return found


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


def _assignee(workflow: BpmnWorkflow, task: Any, expression: str | None) -> str | None:
    """``assignee``: an expression on task data naming the user the task goes to directly
    (the engineer an outlet manager chose). Empty, or an error, leaves it to the groups."""
    if not expression:
        return None
    try:
        value = _evaluate(workflow, task, expression)
    except Exception:
        return None
    return str(value)[:80] if isinstance(value, str) and value.strip() else None


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
    worker: Actor | None = None,
) -> None:
    """Make the open human_task rows of the instance equal its READY user and manual tasks.

    A new task goes to ``worker`` (who finished the step before it) when it names candidate
    groups but no ``assignee``, ``worker`` is in one of them and sees the instance: the agent
    who opens an order keeps its phone support, the engineer who checks in writes the report.

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
    noted = _completing.pop(workflow, None)
    snapshot = noted[1] if noted is not None and noted[0] == completed_task_id else None
    if gone:
        _close_tasks(session, gone, completed_task_id, completed_by, now, snapshot)
    new = [task for task_id, task in ready.items() if task_id not in open_before]
    if not new:
        return
    rows, candidates = [], []
    for task in new:
        row = _task_row(workflow, instance, task, now, worker)
        row["form_version"] = task_forms.current_version(session, row["form_key"])
        rows.append(row)
        candidates.extend(
            {
                "task_id": row["id"],
                "group_name": group,
                "claimed": row["assignee"] is not None,
                "priority": row["priority"],
                "created_at": now,
                "org_path": instance.org_path,
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
        snapshot=sa.bindparam("snapshot", type_=sa.JSON(none_as_null=True)),
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
    snapshot: dict[str, Any] | None = None,
) -> None:
    """Mark left tasks completed (the one this command completed) or cancelled."""
    cancelled = [task_id for task_id in gone if task_id != completed_task_id]
    db = session.connection()
    if completed_task_id in gone:
        db.execute(
            _COMPLETE_TASK,
            {"task": completed_task_id, "by": completed_by, "now": now, "snapshot": snapshot},
        )
        task = session.identity_map.get(session.identity_key(HumanTask, completed_task_id))
        if task is not None:
            _mirror_completion(task, completed_by, now, snapshot)
    if cancelled:
        db.execute(_CANCEL_TASKS, {"ids": cancelled, "now": now})
    db.execute(_DROP_CANDIDATES, {"ids": gone})


def _mirror_completion(
    task: HumanTask, completed_by: str | None, now: datetime, snapshot: dict[str, Any] | None
) -> None:
    """Give the loaded object the values the UPDATE wrote, as already-committed state.

    Expiring it instead would cost a SELECT when the caller reads the task afterwards,
    which on every completion was a third of the engine's own overhead.
    """
    values = {
        "status": "completed",
        "completed_by": completed_by,
        "completed_at": now,
        "assignee": task.assignee or completed_by,
        "claimed_at": task.claimed_at or now,
        "snapshot": snapshot,
    }
    for name, value in values.items():
        set_committed_value(task, name, value)


def _handed_to(worker: Actor | None, groups: list[str], org_path: str | None) -> str | None:
    """The worker, when the new task is for one of their groups, in their scope."""
    if worker is None or not groups or worker.groups.isdisjoint(groups):
        return None
    return worker.username if worker.sees(org_path) else None


def _task_row(
    workflow: BpmnWorkflow,
    instance: ProcessInstance,
    task: Any,
    now: datetime,
    worker: Actor | None = None,
) -> dict[str, Any]:
    props = _properties(task)
    try:
        priority = min(max(int(props.get("priority", 50)), 0), 100)
    except ValueError:
        priority = 50
    groups = candidate_groups(task)
    if props.get("assignee"):  # an explicit assignee wins, even when it names no one
        assignee = _assignee(workflow, task, props["assignee"])
    else:
        assignee = _handed_to(worker, groups, instance.org_path)
    return {
        "id": str(task.id),
        "instance_id": instance.id,
        "process_key": instance.process_key,
        "business_key": instance.business_key,
        "name": task.task_spec.bpmn_id or task.task_spec.name,
        "title": _title(workflow, task, props.get("title")),
        "lane": getattr(task.task_spec, "lane", None),
        "candidate_group": ",".join(groups) or None,
        "assignee": assignee,
        "form_key": props.get("formKey"),
        "priority": priority,
        "due_at": _due(workflow, task, props.get("dueIn"), now),
        "status": "open",
        "created_at": now,
        "claimed_at": now if assignee else None,
        "completed_at": None,
        "completed_by": None,
        "org_path": instance.org_path,
        "customer_phone": _customer_phone(task.data),
        "snapshot": None,
    }


def _customer_phone(data: dict[str, Any]) -> str | None:
    """The caller's number, for the inbox's phone filter, from the conventional variables."""
    for name in ("customer_phone", "phone"):
        value = data.get(name)
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()[:40]
    return None


def move_instance(
    session: Session, instance: ProcessInstance, unit_id: int, path: str, keep: str | None = None
) -> None:
    """Give the instance and its open tasks a new organisation unit. ``keep``: the task this
    command completes, still open in the table; it stays where it was done, so the unit that
    did it (and only that unit) reads it afterwards."""
    instance.org_unit_id, instance.org_path = unit_id, path
    moving = [HumanTask.instance_id == instance.id, HumanTask.status == "open"]
    if keep is not None:
        moving.append(HumanTask.id != keep)
    open_ids = sa.select(HumanTask.id).where(*moving)
    db = session.connection()
    db.execute(sa.update(HumanTask).where(*moving).values(org_path=path))
    db.execute(
        sa.update(TaskCandidate).where(TaskCandidate.task_id.in_(open_ids)).values(org_path=path)
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
