"""An outlet's record (网点档案) as the outlet pages read it: the outlets in a viewer's scope,
their profiles, engineers, callback scores and the praise kept against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.orders.models import ServiceOrder
from aftersales.outlets.models import Engineer, OutletProfile, Praise
from aftersales.products.models import ProductCategory
from engine import scope
from engine.identity import Actor
from engine.models import OrgUnit, ProcessInstance, User
from engine.queries import instance_visible

PER_PAGE = 50  # outlets per list page
PRAISE_PER_PAGE = 20
RECENT_CLOSED = 20  # closed orders whose callback scores are averaged


def _outlets_in_scope(actor: Actor) -> sa.Select:
    return sa.select(OrgUnit).where(OrgUnit.kind == "outlet", scope.visible(actor, OrgUnit.path))


def find_outlet(session: Session, actor: Actor, code: str) -> OrgUnit | None:
    """The outlet with ``code`` if the actor's scope holds it."""
    if len(code) > 40:  # longer than any unit code
        return None
    return session.scalar(_outlets_in_scope(actor).where(OrgUnit.code == code))


def outlet_page_of(session: Session, actor: Actor, *, page: int) -> tuple[list[OrgUnit], int]:
    total = session.scalar(
        sa.select(sa.func.count()).select_from(_outlets_in_scope(actor).subquery())
    )
    units = session.scalars(
        _outlets_in_scope(actor)
        .order_by(OrgUnit.path)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    )
    return list(units), int(total or 0)


@dataclass(frozen=True)
class OutletRow:
    unit: OrgUnit
    center: OrgUnit | None
    profile: OutletProfile | None
    engineers: int
    open_orders: int
    praises: int


def outlet_rows(session: Session, actor: Actor, units: list[OrgUnit]) -> list[OutletRow]:
    """The list's columns for ``units``: one grouped query per count, none per outlet."""
    if not units:
        return []
    ids = [u.id for u in units]
    centers = {
        c.id: c
        for c in session.scalars(
            sa.select(OrgUnit).where(OrgUnit.id.in_({u.parent_id for u in units if u.parent_id}))
        )
    }
    profiles = {
        p.org_unit_id: p
        for p in session.scalars(sa.select(OutletProfile).where(OutletProfile.org_unit_id.in_(ids)))
    }
    engineers = dict(
        session.execute(
            sa.select(Engineer.outlet_id, sa.func.count())
            .where(Engineer.outlet_id.in_(ids))
            .group_by(Engineer.outlet_id)
        ).all()
    )
    open_orders = dict(
        session.execute(
            sa.select(ProcessInstance.org_path, sa.func.count())
            .select_from(ServiceOrder)
            .join(ProcessInstance, ProcessInstance.id == ServiceOrder.process_instance_id)
            .where(
                ProcessInstance.org_path.in_([u.path for u in units]),
                ServiceOrder.is_open,
                instance_visible(actor),
            )
            .group_by(ProcessInstance.org_path)
        ).all()
    )
    praises = dict(
        session.execute(
            sa.select(Praise.outlet_id, sa.func.count())
            .where(Praise.outlet_id.in_(ids))
            .group_by(Praise.outlet_id)
        ).all()
    )
    return [
        OutletRow(
            unit=u,
            center=centers.get(u.parent_id),
            profile=profiles.get(u.id),
            engineers=int(engineers.get(u.id, 0)),
            open_orders=int(open_orders.get(u.path, 0)),
            praises=int(praises.get(u.id, 0)),
        )
        for u in units
    ]


def category_names(session: Session, locale: str) -> dict[str, str]:
    """Product category code -> its name in ``locale``."""
    return {
        c.code: (c.name_en if locale == "en" else c.name_zh)
        for c in session.scalars(sa.select(ProductCategory))
    }


@dataclass(frozen=True)
class EngineerRow:
    name: str
    username: str
    phone: str
    skills: list[str]


def engineers_of(session: Session, unit: OrgUnit) -> list[EngineerRow]:
    query = (
        sa.select(Engineer, User)
        .join(User, User.id == Engineer.user_id)
        .where(Engineer.outlet_id == unit.id)
        .order_by(User.display_name, User.username)
    )
    return [
        EngineerRow(user.display_name or user.username, user.username, e.phone, list(e.skills))
        for e, user in session.execute(query)
    ]


@dataclass(frozen=True)
class CallbackScores:
    average: float | None
    scored: int  # closed orders with a callback score
    closed: int  # the recent closed orders looked at


def callback_scores(session: Session, unit: OrgUnit) -> CallbackScores:
    """The average callback score of the outlet's latest closed orders; only the score
    variable leaves the database, not the instances' variables."""
    score = ProcessInstance.variables["survey_score"].as_float()
    rows = session.scalars(
        sa.select(score)
        .select_from(ServiceOrder)
        .join(ProcessInstance, ProcessInstance.id == ServiceOrder.process_instance_id)
        .where(ProcessInstance.org_path == unit.path, ServiceOrder.status == "closed")
        .order_by(ServiceOrder.closed_at.desc(), ServiceOrder.id.desc())
        .limit(RECENT_CLOSED)
    ).all()
    scores = [float(s) for s in rows if s is not None]
    average = round(sum(scores) / len(scores), 1) if scores else None
    return CallbackScores(average, len(scores), len(rows))


@dataclass(frozen=True)
class PraiseRow:
    text: str
    created_at: datetime
    engineer: str | None
    order_number: str
    order_visible: bool  # whether the viewer may open the order's page


def praise_count(session: Session, unit: OrgUnit) -> int:
    return int(
        session.scalar(
            sa.select(sa.func.count()).select_from(Praise).where(Praise.outlet_id == unit.id)
        )
        or 0
    )


def praises_of_outlet(
    session: Session, actor: Actor, unit: OrgUnit, *, offset: int, limit: int
) -> list[PraiseRow]:
    """The outlet's praise, newest first, with the engineer named and the order it came by."""
    query = (
        sa.select(
            Praise, User.display_name, User.username, ServiceOrder.number, ProcessInstance.org_path
        )
        .join(ServiceOrder, ServiceOrder.id == Praise.order_id)
        .outerjoin(User, User.id == Praise.engineer_id)
        .outerjoin(ProcessInstance, ProcessInstance.id == ServiceOrder.process_instance_id)
        .where(Praise.outlet_id == unit.id)
        .order_by(Praise.created_at.desc(), Praise.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [
        PraiseRow(
            praise.text,
            praise.created_at,
            (name or username) if username else None,
            number,
            path is not None and actor.sees(path),
        )
        for praise, name, username, number, path in session.execute(query)
    ]


def outlet_choices(session: Session, actor: Actor, text: str, limit: int) -> list[OrgUnit]:
    """Outlets in the actor's scope whose code or name holds ``text`` (the outlet picker)."""
    query = _outlets_in_scope(actor)
    if text:
        query = query.where(
            sa.or_(
                OrgUnit.code.icontains(text, autoescape=True),
                OrgUnit.name.icontains(text, autoescape=True),
            )
        )
    return list(session.scalars(query.order_by(OrgUnit.code).limit(limit)))


def unknown_outlets(session: Session, actor: Actor | None, codes: list) -> set:
    """Those of ``codes`` that name no outlet the actor may pick (any outlet for the system)."""
    wanted = {c for c in codes if isinstance(c, str) and len(c) <= 40}
    query = sa.select(OrgUnit.code).where(OrgUnit.kind == "outlet", OrgUnit.code.in_(wanted))
    if actor is not None:
        query = query.where(scope.visible(actor, OrgUnit.path))
    found = set(session.scalars(query)) if wanted else set()
    return {c for c in codes if c not in found}
