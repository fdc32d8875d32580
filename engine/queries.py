"""Read-only queries for inboxes, instance lists and definitions; none deserializes a workflow."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import scope
from .errors import InvalidInput, NotFound
from .identity import Actor, may_see_task
from .models import (
    AuditEntry,
    HumanTask,
    Incident,
    ProcessDefinition,
    ProcessInstance,
    StartGrant,
    TaskCandidate,
    Timer,
    utcnow,
)
from .runtime import definition_spec

MAX_PAGE_SIZE = 200
MAX_PAGE = 100_000
INSTANCE_STATUSES = ("running", "suspended", "incident", "completed", "terminated")


@dataclass(frozen=True)
class Page:
    number: int = 1
    size: int = 50

    @classmethod
    def parse(cls, page: Any, per_page: Any) -> Page:
        try:
            number = int(page or 1)
            size = int(per_page or 50)
        except (TypeError, ValueError):
            raise InvalidInput("page and per_page must be whole numbers") from None
        if not 1 <= number <= MAX_PAGE or not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidInput(
                f"page must be from 1 to {MAX_PAGE} and per_page from 1 to {MAX_PAGE_SIZE}"
            )
        return cls(number, size)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


TASK_SORTS = {
    "priority": (HumanTask.priority.desc(), HumanTask.created_at, HumanTask.id),
    "due": (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id),
    "created": (HumanTask.created_at.desc(), HumanTask.id),
    "oldest": (HumanTask.created_at, HumanTask.id),
}
DUE_FILTERS = ("overdue", "today", "week", "none")


@dataclass
class TaskFilter:
    assignee: str | None = None
    candidate: bool = False
    process_key: str | None = None
    business_key: str | None = None
    status: str = "open"
    customer_phone: str | None = None
    due: str | None = None
    min_priority: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort: str | None = None

    @property
    def is_plain(self) -> bool:
        """No filter beyond the list itself, so the group inbox can read its index alone."""
        return not any(
            (
                self.process_key,
                self.business_key,
                self.customer_phone,
                self.due,
                self.min_priority is not None,
                self.created_from,
                self.created_to,
                self.sort not in (None, "priority"),
            )
        )


def _candidate_of(groups: frozenset[str]) -> Any:
    return HumanTask.id.in_(
        sa.select(TaskCandidate.task_id).where(TaskCandidate.group_name.in_(sorted(groups)))
    )


def _visible(actor: Actor) -> Any:
    """Tasks a non-admin may see in its scope: theirs, their groups', those without groups."""
    clauses = [HumanTask.assignee == actor.username, HumanTask.candidate_group.is_(None)]
    if actor.groups:
        clauses.append(_candidate_of(actor.groups))
    return sa.and_(scope.visible(actor, HumanTask.org_path), sa.or_(*clauses))


def _due_clause(due: str, now: datetime) -> Any:
    if due == "overdue":
        return HumanTask.due_at < now
    if due == "today":
        return sa.and_(HumanTask.due_at >= now, HumanTask.due_at < now + timedelta(days=1))
    if due == "week":
        return sa.and_(HumanTask.due_at >= now, HumanTask.due_at < now + timedelta(days=7))
    return HumanTask.due_at.is_(None)


def task_query(actor: Actor, flt: TaskFilter) -> Any:
    if flt.status not in ("open", "completed"):
        raise InvalidInput("status must be open or completed")
    if flt.due is not None and flt.due not in DUE_FILTERS:
        raise InvalidInput(f"due must be one of {', '.join(DUE_FILTERS)}")
    if flt.sort is not None and flt.sort not in TASK_SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(TASK_SORTS)}")
    query = sa.select(HumanTask).where(HumanTask.status == flt.status)
    if flt.status == "completed" and not actor.is_admin:
        query = query.where(
            sa.or_(HumanTask.completed_by == actor.username, HumanTask.assignee == actor.username)
        )
    elif not actor.is_admin and not flt.candidate:
        query = query.where(_visible(actor))
    if flt.assignee is not None:
        name = actor.username if flt.assignee == "me" else flt.assignee
        query = query.where(HumanTask.assignee == name)
    if flt.candidate:
        query = query.where(HumanTask.assignee.is_(None))
        query = query.where(_candidate_of(actor.groups) if actor.groups else sa.false())
        query = query.where(scope.visible(actor, HumanTask.org_path))
    if flt.process_key:
        query = query.where(HumanTask.process_key == flt.process_key)
    if flt.business_key:
        query = query.where(HumanTask.business_key == flt.business_key)
    if flt.customer_phone:
        query = query.where(HumanTask.customer_phone == flt.customer_phone.strip())
    if flt.due:
        query = query.where(_due_clause(flt.due, utcnow()))
    if flt.min_priority is not None:
        query = query.where(HumanTask.priority >= flt.min_priority)
    if flt.created_from:
        query = query.where(HumanTask.created_at >= flt.created_from)
    if flt.created_to:
        query = query.where(HumanTask.created_at < flt.created_to)
    return query


COUNT_CAP = 1000


@dataclass
class TaskPage:
    items: list[HumanTask]
    total: int
    total_exact: bool = True


@functools.cache
def _group_inbox_sql(groups: int, scoped: bool) -> sa.TextClause:
    """Each group's first ``:depth`` unclaimed tasks in index order, merged best first.

    Written as SQL text because building the equivalent expression on every request cost
    more than running it; cached per number of groups and whether a scope limits it.
    """
    limit = scope.RANGE_SQL if scoped else ""
    parts = [
        f"SELECT * FROM (SELECT task_id, priority, created_at FROM task_candidate"
        f" WHERE group_name = :g{i} AND claimed = :no{limit}"
        f" ORDER BY priority DESC, created_at, task_id LIMIT :depth) AS g{i}"
        for i in range(groups)
    ]
    return sa.text(
        "SELECT task_id FROM (" + " UNION ALL ".join(parts) + ") AS best"
        " GROUP BY task_id, priority, created_at"
        " ORDER BY priority DESC, created_at, task_id LIMIT :size OFFSET :skip"
    )


@functools.cache
def _group_count_sql(groups: int, scoped: bool) -> sa.TextClause:
    """Rows and distinct tasks among the first COUNT_CAP + 1 candidate rows of the groups."""
    names = ", ".join(f":g{i}" for i in range(groups))
    limit = scope.RANGE_SQL if scoped else ""
    return sa.text(
        "SELECT count(*), count(DISTINCT task_id) FROM (SELECT task_id FROM task_candidate"
        f" WHERE group_name IN ({names}) AND claimed = :no{limit} LIMIT :cap) AS seen"
    )


def group_inbox_ids(actor: Actor, page: Page) -> tuple[sa.TextClause, dict[str, Any]]:
    """The statement and parameters for one page of the actor's group inbox.

    Each group is read in the order of its index (group, claimed, priority DESC, created_at,
    task_id) with its own LIMIT, so the cost follows the page depth and the number of
    groups, not how many tasks wait in those groups.
    """
    groups = sorted(actor.groups)
    params: dict[str, Any] = {f"g{i}": g for i, g in enumerate(groups)}
    params.update(no=False, depth=page.offset + page.size, size=page.size, skip=page.offset)
    limit = scope.range_params(actor)
    params.update(limit)
    return _group_inbox_sql(len(groups), bool(limit)), params


def _group_inbox(session: Session, actor: Actor, page: Page) -> TaskPage:
    if not actor.groups:
        return TaskPage([], 0)
    groups = sorted(actor.groups)
    names = {f"g{i}": g for i, g in enumerate(groups)}
    limit = scope.range_params(actor)
    seen, total = session.execute(
        _group_count_sql(len(groups), bool(limit)),
        {**names, **limit, "no": False, "cap": COUNT_CAP + 1},
    ).one()
    statement, params = group_inbox_ids(actor, page)
    ids = session.scalars(statement, params).all()
    rows = {t.id: t for t in session.scalars(sa.select(HumanTask).where(HumanTask.id.in_(ids)))}
    return TaskPage([rows[i] for i in ids if i in rows], total, seen <= COUNT_CAP)


def list_tasks(session: Session, actor: Actor, flt: TaskFilter, page: Page) -> TaskPage:
    """A page of tasks; the group inbox counts at most COUNT_CAP and says when it stopped."""
    fast = flt.candidate and flt.status == "open" and flt.assignee is None
    if fast and flt.is_plain:
        return _group_inbox(session, actor, page)
    query = task_query(actor, flt)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if flt.sort:
        order = TASK_SORTS[flt.sort]
    elif flt.status == "completed":
        order = (HumanTask.completed_at.desc(), HumanTask.id)
    else:
        order = TASK_SORTS["priority"]
    rows = session.scalars(query.order_by(*order).offset(page.offset).limit(page.size))
    return TaskPage(list(rows), total or 0)


def get_task(session: Session, actor: Actor, task_id: str) -> HumanTask:
    """A task the actor may see; anything else is not found, so ids reveal nothing."""
    task = session.get(HumanTask, task_id)
    if task is None or not (may_see_task(actor, task) or task.completed_by == actor.username):
        raise NotFound(f"task {task_id} not found")
    return task


def completed_view(session: Session, actor: Actor, task: HumanTask) -> dict[str, Any] | None:
    """What a completed task shows someone whose scope no longer holds its instance (the
    completer moved to another unit, or dispatch moved the order away): the snapshot its
    completion took, ``{"data": submitted, "context": {...}}``. None while the instance is
    in the actor's scope, or the task is not completed: then the page reads the instance."""
    if task.status != "completed":
        return None
    path = session.scalar(
        sa.select(ProcessInstance.org_path).where(ProcessInstance.id == task.instance_id)
    )
    if path is not None and scope.sees(actor, path):
        return None
    snapshot = task.snapshot or {}
    return {"data": snapshot.get("data") or {}, "context": snapshot.get("context") or {}}


def history_until(session: Session, task: HumanTask) -> list[AuditEntry]:
    """The instance's history up to and including the completion of ``task``."""
    completed = (
        sa.select(sa.func.max(AuditEntry.id))
        .where(AuditEntry.instance_id == task.instance_id, AuditEntry.task_id == task.id)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.instance_id == task.instance_id, AuditEntry.id <= completed)
            .order_by(AuditEntry.id)
        )
    )


def instance_visible(actor: Actor) -> Any:
    """Instances of the actor's unit and the units below it; HQ and admins see all."""
    return scope.visible(actor, ProcessInstance.org_path)


def get_instance(session: Session, actor: Actor, instance_id: int) -> ProcessInstance:
    """An instance the actor may see; anything else is not found, so ids reveal nothing."""
    instance = session.scalar(
        sa.select(ProcessInstance).where(ProcessInstance.id == instance_id, instance_visible(actor))
    )
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    return instance


@dataclass(frozen=True)
class InstanceFilter:
    """The instance list's filters; every one optional and combined with AND."""

    process_key: str | None = None
    version: int | None = None
    status: str | None = None
    business_key: str | None = None
    org_path: str | None = None  # this unit's subtree
    started_from: datetime | None = None
    started_before: datetime | None = None
    with_incident: bool = False
    with_overdue_task: bool = False

    def clauses(self, now: datetime | None = None) -> list[Any]:
        where: list[Any] = []
        if self.status:
            if self.status not in INSTANCE_STATUSES:
                raise InvalidInput(f"status must be one of {', '.join(INSTANCE_STATUSES)}")
            where.append(ProcessInstance.status == self.status)
        if self.process_key:
            where.append(ProcessInstance.process_key == self.process_key)
        if self.version is not None:
            where.append(ProcessInstance.process_version == self.version)
        if self.business_key:
            where.append(ProcessInstance.business_key == self.business_key)
        if self.org_path:
            where.append(scope.within(ProcessInstance.org_path, self.org_path))
        if self.started_from is not None:
            where.append(ProcessInstance.started_at >= self.started_from)
        if self.started_before is not None:
            where.append(ProcessInstance.started_at < self.started_before)
        if self.with_incident:
            where.append(
                sa.exists().where(
                    Incident.instance_id == ProcessInstance.id, Incident.status == "open"
                )
            )
        if self.with_overdue_task:
            where.append(
                sa.exists().where(
                    HumanTask.instance_id == ProcessInstance.id,
                    HumanTask.status == "open",
                    HumanTask.due_at < (now or utcnow()),
                )
            )
        return where


def list_instances(
    session: Session,
    actor: Actor,
    *,
    process_key: str | None = None,
    status: str | None = None,
    business_key: str | None = None,
    page: Page,
    where: InstanceFilter | None = None,
    light: bool = False,
) -> tuple[list[ProcessInstance], int]:
    """Instances in the actor's scope, newest first; ``where`` adds the monitoring filters.
    ``light`` leaves the workflow state and variables unloaded (lists and exports)."""
    where = where or InstanceFilter()
    if process_key or status or business_key:
        where = replace(
            where,
            process_key=process_key or where.process_key,
            status=status or where.status,
            business_key=business_key or where.business_key,
        )
    query = sa.select(ProcessInstance).where(instance_visible(actor), *where.clauses())
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if light:
        query = query.options(
            sa.orm.defer(ProcessInstance.state), sa.orm.defer(ProcessInstance.variables)
        )
    rows = session.scalars(
        query.order_by(ProcessInstance.id.desc()).offset(page.offset).limit(page.size)
    )
    return list(rows), total or 0


def instance_status_counts(session: Session, actor: Actor, where: InstanceFilter) -> dict[str, int]:
    """How many instances the filter finds per status (its own status filter aside)."""
    unfiltered = replace(where, status=None)
    return dict(
        session.execute(
            sa.select(ProcessInstance.status, sa.func.count())
            .where(instance_visible(actor), *unfiltered.clauses())
            .group_by(ProcessInstance.status)
        ).all()
    )


def open_tasks_of(session: Session, instance_id: int) -> list[HumanTask]:
    return list(
        session.scalars(
            sa.select(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
            .order_by(HumanTask.created_at)
        )
    )


def completed_tasks_of(session: Session, instance_id: int) -> list[HumanTask]:
    """The human tasks an instance has completed, in the order they were completed, each
    with the data it recorded (its snapshot): what a case record shows step by step."""
    return list(
        session.scalars(
            sa.select(HumanTask)
            .where(HumanTask.instance_id == instance_id, HumanTask.status == "completed")
            .order_by(HumanTask.completed_at, HumanTask.created_at)
        )
    )


def incidents_of(session: Session, instance_id: int, *, open_only: bool = True) -> list[Incident]:
    query = sa.select(Incident).where(Incident.instance_id == instance_id)
    if open_only:
        query = query.where(Incident.status == "open")
    return list(session.scalars(query.order_by(Incident.id)))


def timers_of(session: Session, instance_id: int) -> list[Timer]:
    return list(
        session.scalars(
            sa.select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at)
        )
    )


def activity_names(session: Session, definition_id: int) -> dict[str, str]:
    """BPMN id to the name designers gave it, over the process and the ones it calls."""
    spec, subprocess_specs = definition_spec(session, definition_id)
    names: dict[str, str] = {}
    for process in (*subprocess_specs.values(), spec):
        for task_spec in process.task_specs.values():
            bpmn_id, name = (
                getattr(task_spec, "bpmn_id", None),
                getattr(task_spec, "bpmn_name", None),
            )
            if bpmn_id and name:
                names[bpmn_id] = name
    return names


def history_of(session: Session, instance_id: int) -> list[AuditEntry]:
    return list(
        session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.instance_id == instance_id)
            .order_by(AuditEntry.id)
        )
    )


def list_definitions(session: Session) -> list[dict[str, Any]]:
    """Every BPMN key with its versions, newest first, and how many instances each runs."""
    running = dict(
        session.execute(
            sa.select(ProcessInstance.definition_id, sa.func.count())
            .where(ProcessInstance.status.in_(("running", "suspended", "incident")))
            .group_by(ProcessInstance.definition_id)
        ).all()
    )
    rows = session.scalars(
        sa.select(ProcessDefinition)
        .where(ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    )
    granted: dict[str, list[str]] = {}
    for grant in session.scalars(sa.select(StartGrant).order_by(StartGrant.group_name)):
        granted.setdefault(grant.process_key, []).append(grant.group_name)
    by_key: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_key.setdefault(
            row.key,
            {
                "key": row.key,
                "name": row.name,
                "latest_version": row.version,
                "granted_start_groups": granted.get(row.key, []),
                "startable": row.startable,
                "versions": [],
            },
        )
        entry["versions"].append(
            {
                "version": row.version,
                "name": row.name,
                "file_name": row.file_name,
                "deployed_at": row.created_at.isoformat() + "Z",  # UTC, as every API time
                "running_instances": running.get(row.id, 0),
                "start_groups": row.start_groups or [],
            }
        )
    return list(by_key.values())
