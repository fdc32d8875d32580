"""The case record: an order with what every step recorded, for whoever may see the order.

It reads the order, its instance's variables and the snapshots of the completed human tasks
(the data each step submitted, kept by the engine at completion), never a workflow. The facts
the people downstream look for first (engineer, outlet, appointment, check-in, fees, survey
score) are gathered here once, so the order page, every task page and the API say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.orders.models import ServiceOrder
from aftersales.orders.types import TypeSpec, get_type
from engine import queries
from engine.errors import NotFound
from engine.identity import Actor
from engine.models import AuditEntry, HumanTask, OrgUnit, ProcessInstance, User
from forms.store import latest_form


@dataclass(frozen=True)
class Step:
    """A completed human task: who did it, when, and what its form recorded."""

    task_id: str
    activity: str
    name: str
    form_key: str | None
    form_version: int | None
    completed_by: str | None
    completed_at: Any
    data: dict[str, Any]


@dataclass(frozen=True)
class Fees:
    parts: Decimal
    visit: Decimal
    service: Decimal

    @property
    def total(self) -> Decimal:
        return self.parts + self.visit + self.service


@dataclass
class Case:
    order: ServiceOrder
    spec: TypeSpec
    instance: ProcessInstance | None
    steps: list[Step]
    open_tasks: list[HumanTask]
    timeline: list[AuditEntry]
    names: dict[str, str]  # BPMN id -> the step's name
    people: dict[str, str]  # username -> display name
    outlet: OrgUnit | None
    facts: dict[str, Any] = field(default_factory=dict)
    fees: Fees | None = None

    def person(self, username: str | None) -> str:
        return self.people.get(username or "", username or "")


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or value in (None, ""):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def fees_of(variables: dict[str, Any]) -> Fees | None:
    """Parts (each row's quantity times unit price), the visit fee and the service fee, as
    the work report and the fee standards set them; None before anything was charged."""
    parts = variables.get("parts_used") or []
    if not any(k in variables for k in ("visit_fee", "service_fee")) and not parts:
        return None
    parts_total = sum(
        (
            _money(row.get("qty")) * _money(row.get("unit_price"))
            for row in parts
            if isinstance(row, dict)
        ),
        Decimal(0),
    )
    return Fees(
        parts_total, _money(variables.get("visit_fee")), _money(variables.get("service_fee"))
    )


FACTS = (
    "engineer",
    "appointment",
    "checked_in_at",
    "check_in_at",
    "latitude",
    "longitude",
    "distance_km",
    "distance_band",
    "fault_class",
    "solution",
    "survey_score",
    "VISITED",
    "review_comment",
    "rma_number",
    "urgency",
    "visit_period",
)


def _people(session: Session, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = session.execute(
        sa.select(User.username, User.display_name).where(User.username.in_(usernames))
    )
    return {username: name or username for username, name in rows}


def _opening_step(
    session: Session, order: ServiceOrder, spec: TypeSpec, variables: dict[str, Any]
) -> Step | None:
    """What the agent entered on the type's start form when opening the order."""
    if not spec.start_form:
        return None
    try:
        form = latest_form(session, spec.start_form)
    except NotFound:
        return None
    fields = (form.schema or {}).get("properties") or {}
    data = {k: variables[k] for k in fields if variables.get(k) not in (None, "", [])}
    if not data:
        return None
    return Step(
        task_id="",
        activity="",
        name=form.title_zh or spec.name_zh,
        form_key=form.key,
        form_version=form.version,
        completed_by=order.created_by,
        completed_at=order.created_at,
        data=data,
    )


def case_of(session: Session, actor: Actor, order: ServiceOrder) -> Case:
    """Everything the case record shows; the caller has checked the order is in scope. Open
    tasks of units the actor does not see (a call activity elsewhere) are left out."""
    spec = get_type(session, order.type, order.type_version)
    instance = (
        session.get(ProcessInstance, order.process_instance_id)
        if order.process_instance_id
        else None
    )
    variables = dict(instance.variables or {}) if instance is not None else {}
    completed = queries.completed_tasks_of(session, instance.id) if instance else []
    steps = [
        Step(
            task_id=t.id,
            activity=t.name,
            name=t.title or t.name,
            form_key=t.form_key,
            form_version=t.form_version,
            completed_by=t.completed_by,
            completed_at=t.completed_at,
            data=dict((t.snapshot or {}).get("data") or {}),
        )
        for t in completed
    ]
    opening = _opening_step(session, order, spec, variables)
    if opening is not None:
        steps.insert(0, opening)
    for step in steps:  # what the steps recorded, where the variables no longer say it
        for key, value in step.data.items():
            variables.setdefault(key, value)
    open_tasks = [
        t
        for t in (queries.open_tasks_of(session, instance.id) if instance else [])
        if actor.sees(t.org_path)
    ]
    timeline = queries.history_of(session, instance.id) if instance else []
    names = queries.activity_names(session, instance.definition_id) if instance else {}
    usernames = {s.completed_by for s in steps if s.completed_by} | {order.created_by or ""}
    usernames |= {t.assignee for t in open_tasks if t.assignee}
    usernames |= {e.actor for e in timeline if e.actor}
    if isinstance(variables.get("engineer"), str):
        usernames.add(variables["engineer"])
    outlet = None
    dispatched = variables.get("dispatch")
    code = dispatched.get("outlet") if isinstance(dispatched, dict) else None
    if code:
        outlet = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == str(code)))
    facts = {k: variables[k] for k in FACTS if variables.get(k) not in (None, "", [])}
    return Case(
        order=order,
        spec=spec,
        instance=instance,
        steps=steps,
        open_tasks=open_tasks,
        timeline=timeline,
        names=names,
        people=_people(session, usernames),
        outlet=outlet,
        facts=facts,
        fees=fees_of(variables),
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def case_json(case: Case) -> dict[str, Any]:
    """The case as ``GET /api/v1/orders/{number}`` adds it to the order."""
    fees = case.fees
    return {
        "type_name": {"zh": case.spec.name_zh, "en": case.spec.name_en},
        "status_name": (
            {"zh": s.name_zh, "en": s.name_en}
            if (s := case.spec.status(case.order.status))
            else None
        ),
        "engineer": case.facts.get("engineer"),
        "outlet": ({"code": case.outlet.code, "name": case.outlet.name} if case.outlet else None),
        "facts": case.facts,
        "fees": (
            {
                "parts": float(fees.parts),
                "visit": float(fees.visit),
                "service": float(fees.service),
                "total": float(fees.total),
            }
            if fees
            else None
        ),
        "steps": [
            {
                "activity": s.activity,
                "name": case.names.get(s.activity, s.name),
                "form": s.form_key,
                "completed_by": s.completed_by,
                "completed_at": _iso(s.completed_at),
                "data": s.data,
            }
            for s in case.steps
        ],
        "open_tasks": [
            {
                "id": t.id,
                "activity": t.name,
                "name": case.names.get(t.name, t.title or t.name),
                "assignee": t.assignee,
                "group": t.candidate_group,
                "due_at": _iso(t.due_at),
            }
            for t in case.open_tasks
        ],
    }
