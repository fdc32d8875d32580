"""What the monitoring pages lay over a process diagram (流程监控): per activity the tokens
waiting there, the open incidents and how long people take there; per instance the path
it took and where its tokens are now.

Activities of a called process count at the call activity that called it, since that is the
element the calling diagram draws.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.mixins import BoundaryEventMixin
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import runtime
from .identity import Actor
from .models import HumanTask, Incident, ProcessDefinition, ProcessInstance, utcnow
from .queries import instance_visible

ACTIVE = ("running", "suspended", "incident")
HEAT_LEVELS = 5
MIN_HEAT_SECONDS = 60
DURATION_SAMPLE = 5000  # the newest completed tasks per activity that p90 is taken over


@dataclass
class ActivityStats:
    """Per BPMN id of the drawn process: tokens, incidents and task durations."""

    tokens: Counter = field(default_factory=Counter)
    incidents: Counter = field(default_factory=Counter)
    avg_seconds: dict[str, float] = field(default_factory=dict)
    completed: Counter = field(default_factory=Counter)

    def heat(self) -> dict[str, int]:
        """1 (quickest) to HEAT_LEVELS (slowest), relative to the slowest activity."""
        slowest = max(self.avg_seconds.values(), default=0)
        if slowest < MIN_HEAT_SECONDS:
            return {}  # seconds apart is no difference anyone acts on
        return {
            bpmn_id: max(1, min(HEAT_LEVELS, round(HEAT_LEVELS * seconds / slowest)))
            for bpmn_id, seconds in self.avg_seconds.items()
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "tokens": dict(self.tokens),
            "incidents": dict(self.incidents),
            "avg_seconds": {k: round(v) for k, v in self.avg_seconds.items()},
            "completed_tasks": dict(self.completed),
            "heat": self.heat(),
        }


def drawn_activity(session: Session, definition_id: int) -> dict[str, str]:
    """Every BPMN id of the process and the processes it calls, to the id drawn for it."""
    spec, subprocess_specs = runtime.definition_spec(session, definition_id)
    mapping: dict[str, str] = {}

    def walk(process: Any, drawn: str | None, seen: frozenset[str]) -> None:
        for task_spec in process.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if isinstance(task_spec, BoundaryEventMixin):
                mapping.setdefault(bpmn_id, "")  # waits with its activity, not a token
                continue
            shown = drawn or bpmn_id
            mapping.setdefault(bpmn_id, shown)
            called = getattr(task_spec, "spec", None)
            if isinstance(called, str) and called in subprocess_specs and called not in seen:
                walk(subprocess_specs[called], shown, seen | {called})

    walk(spec, None, frozenset({spec.name}))
    return mapping


def seconds_between(session: Session, start: Any, end: Any) -> Any:
    """A SQL expression for ``end - start`` in seconds, on SQLite and PostgreSQL alike."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def _scoped(actor: Actor | None) -> list[Any]:
    return [instance_visible(actor)] if actor is not None else []


def activity_stats(
    session: Session, definition_id: int, actor: Actor | None = None
) -> ActivityStats:
    """The figures of one version, over the instances ``actor`` may see (all without one)."""
    drawn = drawn_activity(session, definition_id)
    stats = ActivityStats()
    for activities in session.scalars(
        sa.select(ProcessInstance.current_activities).where(
            ProcessInstance.definition_id == definition_id,
            ProcessInstance.status.in_(ACTIVE),
            *_scoped(actor),
        )
    ):
        for shown in {drawn.get(bpmn_id, bpmn_id) for bpmn_id in activities or []} - {""}:
            stats.tokens[shown] += 1  # one per instance, however many tokens it has there
    for activity, count in session.execute(
        sa.select(Incident.activity, sa.func.count())
        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
        .where(
            ProcessInstance.definition_id == definition_id,
            Incident.status == "open",
            *_scoped(actor),
        )
        .group_by(Incident.activity)
    ):
        stats.incidents[drawn.get(activity or "", activity or "")] += count
    duration = seconds_between(session, HumanTask.created_at, HumanTask.completed_at)
    for name, count, average in session.execute(
        sa.select(HumanTask.name, sa.func.count(), sa.func.avg(duration))
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            ProcessInstance.definition_id == definition_id,
            HumanTask.status == "completed",
            HumanTask.completed_at.isnot(None),
            *_scoped(actor),
        )
        .group_by(HumanTask.name)
    ):
        shown = drawn.get(name, name)
        stats.completed[shown] += count
        if average is not None:
            stats.avg_seconds[shown] = max(stats.avg_seconds.get(shown, 0.0), float(average))
    return stats


@dataclass(frozen=True)
class InstancePath:
    completed: list[str]
    current: list[str]
    failed: list[str]


def instance_path(session: Session, instance: ProcessInstance) -> InstancePath:
    """The activities the instance passed and where its tokens are, as its diagram draws them."""
    workflow = runtime.load(session, instance)
    top = workflow

    def drawn(task: Any) -> str | None:
        while task is not None and task.workflow is not top:
            task = top.get_task_from_id(task.workflow.parent_task_id)
        return task.task_spec.bpmn_id if task is not None else None

    def ids(state: TaskState) -> list[str]:
        found: list[str] = []
        for task in workflow.get_tasks(state=state):
            bpmn_id = drawn(task)
            if bpmn_id and bpmn_id not in found:
                found.append(bpmn_id)
        return found

    current = ids(TaskState.READY | TaskState.WAITING | TaskState.STARTED)
    failed = ids(TaskState.ERROR)
    passed = [*(instance.passed_activities or []), *ids(TaskState.COMPLETED)]
    completed = list(dict.fromkeys(i for i in passed if i not in current and i not in failed))
    return InstancePath(completed=completed, current=current, failed=failed)


@dataclass(frozen=True)
class Version:
    definition: ProcessDefinition
    active: int
    incidents: int


def versions_of(session: Session, key: str, actor: Actor | None = None) -> list[Version]:
    """Every version of a BPMN key, newest first, with its active instances and incidents
    (those ``actor`` may see; all without one)."""
    definitions = list(
        session.scalars(
            sa.select(ProcessDefinition)
            .where(ProcessDefinition.key == key, ProcessDefinition.kind == "bpmn")
            .order_by(ProcessDefinition.version.desc())
        )
    )
    ids = [d.id for d in definitions]
    active = dict(
        session.execute(
            sa.select(ProcessInstance.definition_id, sa.func.count())
            .where(
                ProcessInstance.definition_id.in_(ids),
                ProcessInstance.status.in_(ACTIVE),
                *_scoped(actor),
            )
            .group_by(ProcessInstance.definition_id)
        ).all()
    )
    incidents = dict(
        session.execute(
            sa.select(ProcessInstance.definition_id, sa.func.count())
            .join(Incident, Incident.instance_id == ProcessInstance.id)
            .where(
                ProcessInstance.definition_id.in_(ids), Incident.status == "open", *_scoped(actor)
            )
            .group_by(ProcessInstance.definition_id)
        ).all()
    )
    return [Version(d, active.get(d.id, 0), incidents.get(d.id, 0)) for d in definitions]


@dataclass(frozen=True)
class Lateness:
    """Open tasks per activity or unit: how many, how many overdue, how many due soon."""

    name: str
    open: int
    overdue: int
    due_soon: int


def lateness(
    session: Session,
    actor: Actor,
    by: str,
    soon: timedelta = timedelta(hours=4),
    now: datetime | None = None,
) -> list[Lateness]:
    """Open human tasks grouped ``by`` "activity" or "unit", in the actor's scope."""
    now = now or utcnow()
    column = HumanTask.name if by == "activity" else HumanTask.org_path
    overdue = sa.func.sum(sa.case((HumanTask.due_at < now, 1), else_=0))
    due_soon = sa.func.sum(
        sa.case(((HumanTask.due_at >= now) & (HumanTask.due_at < now + soon), 1), else_=0)
    )
    rows = session.execute(
        sa.select(column, sa.func.count(), overdue, due_soon)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.status == "open", instance_visible(actor))
        .group_by(column)
        .order_by(overdue.desc(), sa.func.count().desc())
    ).all()
    return [
        Lateness(str(name or ""), n, int(late or 0), int(near or 0)) for name, n, late, near in rows
    ]


@dataclass(frozen=True)
class Durations:
    process_key: str
    activity: str
    completed: int
    avg_seconds: float
    p90_seconds: float


def durations(session: Session, actor: Actor, since: datetime | None = None) -> list[Durations]:
    """Average and 90th-percentile time from a task's creation to its completion, per process
    and activity, over the tasks completed since ``since`` in the actor's scope."""
    duration = seconds_between(session, HumanTask.created_at, HumanTask.completed_at)
    where = [
        HumanTask.status == "completed",
        HumanTask.completed_at.isnot(None),
        instance_visible(actor),
    ]
    if since is not None:
        where.append(HumanTask.completed_at >= since)
    base = (
        sa.select(HumanTask.process_key, HumanTask.name)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(*where)
    )
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL computes the percentile (nearest rank, as below) in the grouped query
        p90 = sa.func.percentile_disc(0.9).within_group(duration)
        rows = session.execute(
            base.add_columns(sa.func.count(), sa.func.avg(duration), p90)
            .group_by(HumanTask.process_key, HumanTask.name)
            .order_by(sa.func.avg(duration).desc())
        ).all()
        return [
            Durations(key, name, count, float(average or 0.0), float(tail or 0.0))
            for key, name, count, average, tail in rows
        ]
    rows = session.execute(
        base.add_columns(sa.func.count(), sa.func.avg(duration))
        .group_by(HumanTask.process_key, HumanTask.name)
        .order_by(sa.func.avg(duration).desc())
    ).all()
    found = []
    for key, name, count, average in rows:
        sample = sorted(
            float(s)
            for s in session.scalars(
                sa.select(duration)
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(*where, HumanTask.process_key == key, HumanTask.name == name)
                .order_by(HumanTask.completed_at.desc())
                .limit(DURATION_SAMPLE)
            )
            if s is not None
        )
        p90 = sample[math.ceil(0.9 * len(sample)) - 1] if sample else 0.0  # nearest rank
        found.append(Durations(key, name, count, float(average or 0.0), p90))
    return found
