"""Read-only queries of the dispatch board and the engineer's phone view.

The board counts the orders per status in one grouped query and reads one page of them in
another; both join the order's process instance and keep only those the actor may see
(``engine.queries.instance_visible``), so the scope is applied in SQL. The engineer's view
reads the ``human_task`` projection and the instance's variables column, never a workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from aftersales.customers.models import Customer
from aftersales.orders.models import ServiceOrder
from engine import scope
from engine.identity import Actor
from engine.models import HumanTask, OrgUnit, ProcessInstance
from engine.org import subtree
from engine.queries import instance_visible

# the tasks an engineer does on site, in any process; the BPMN assigns them to the engineer
FIELD_TASKS = ("check_in", "work_report", "rework", "install_report")


@dataclass(frozen=True)
class BoardFilter:
    """What the board is narrowed to; unit paths come from units in the actor's scope."""

    center_path: str | None = None
    outlet_path: str | None = None
    status: str | None = None
    type: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive


@dataclass(frozen=True)
class BoardRow:
    number: str
    type: str
    status: str
    created_at: datetime
    customer_name: str
    outlet_name: str | None
    overdue: bool


def scope_units(session: Session, actor: Actor) -> tuple[list[OrgUnit], list[OrgUnit]]:
    """The centers and outlets within the actor's scope (all of them for HQ and admins)."""
    units = subtree(session, scope.scope_of(actor))
    return (
        [u for u in units if u.kind == "center"],
        [u for u in units if u.kind == "outlet"],
    )


def _filtered(actor: Actor, flt: BoardFilter, *, with_status: bool) -> sa.Select:
    query = (
        sa.select(ServiceOrder.id)
        .join(ProcessInstance, ProcessInstance.id == ServiceOrder.process_instance_id)
        .where(instance_visible(actor))
    )
    if flt.center_path:
        query = query.where(scope.within(ProcessInstance.org_path, flt.center_path))
    if flt.outlet_path:
        query = query.where(scope.within(ProcessInstance.org_path, flt.outlet_path))
    if flt.type:
        query = query.where(ServiceOrder.type == flt.type)
    if flt.created_from:
        query = query.where(ServiceOrder.created_at >= flt.created_from)
    if flt.created_to:
        query = query.where(ServiceOrder.created_at < flt.created_to)
    if with_status and flt.status:
        query = query.where(ServiceOrder.status == flt.status)
    return query


def status_counts(session: Session, actor: Actor, flt: BoardFilter) -> dict[str, int]:
    """Orders per status under every filter but the status itself: one grouped COUNT."""
    query = (
        _filtered(actor, flt, with_status=False)
        .with_only_columns(ServiceOrder.status, sa.func.count())
        .group_by(ServiceOrder.status)
    )
    return {status: int(n) for status, n in session.execute(query)}


def board_rows(
    session: Session, actor: Actor, flt: BoardFilter, *, offset: int, limit: int, now: datetime
) -> list[BoardRow]:
    """One page of orders, newest first, with the customer, the outlet and whether an open
    task of the order is past its due time."""
    outlet = aliased(OrgUnit)
    overdue = (
        sa.select(HumanTask.id)
        .where(
            HumanTask.instance_id == ServiceOrder.process_instance_id,
            HumanTask.status == "open",
            HumanTask.due_at < now,
        )
        .exists()
    )
    query = (
        _filtered(actor, flt, with_status=True)
        .with_only_columns(
            ServiceOrder.number,
            ServiceOrder.type,
            ServiceOrder.status,
            ServiceOrder.created_at,
            Customer.name,
            outlet.name,
            overdue,
        )
        .outerjoin(Customer, Customer.id == ServiceOrder.customer_id)
        .outerjoin(
            outlet, sa.and_(outlet.path == ProcessInstance.org_path, outlet.kind == "outlet")
        )
        .order_by(ServiceOrder.id.desc())  # ids grow with created_at; the primary key sorts
        .offset(offset)
        .limit(limit)
    )
    return [BoardRow(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class Job:
    task: HumanTask
    variables: dict[str, Any]
    today: bool

    def var(self, key: str) -> str:
        value = self.variables.get(key)
        return "" if value is None else str(value)


def my_jobs(session: Session, actor: Actor, today_end: datetime) -> list[Job]:
    """The actor's open field tasks: those due by the end of today first, then by due time."""
    due_today = sa.and_(HumanTask.due_at.is_not(None), HumanTask.due_at < today_end)
    query = (
        sa.select(HumanTask, ProcessInstance.variables)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.assignee == actor.username,
            HumanTask.status == "open",
            HumanTask.name.in_(FIELD_TASKS),
        )
        .order_by(
            sa.case((due_today, 0), else_=1),
            HumanTask.due_at.is_(None),
            HumanTask.due_at,
            HumanTask.created_at,
            HumanTask.id,
        )
    )
    query = query.where(scope.visible(actor, HumanTask.org_path))
    return [
        Job(task, variables or {}, task.due_at is not None and task.due_at < today_end)
        for task, variables in session.execute(query)
    ]


def completed_since(session: Session, actor: Actor, since: datetime) -> int:
    """How many field tasks the actor completed since ``since``."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(HumanTask)
            .where(
                HumanTask.completed_by == actor.username,
                HumanTask.completed_at >= since,
                HumanTask.name.in_(FIELD_TASKS),
            )
        )
        or 0
    )
