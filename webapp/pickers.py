"""Suggestions for the picker widgets of forms: users, customers, products and outlets in
scope; parts and active knowledge-base articles (the same for everyone).

Each picker applies the scope in SQL before its limit, so a long list of people or
customers outside the scope can neither crowd out nor reveal the ones inside it. What a
picker offers is what the completion accepts (``aftersales.widgets``, ``forms.widgets``).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.customers import service as customers
from aftersales.knowledge import service as knowledge
from aftersales.outlets import service as outlets
from aftersales.products import service as products
from engine import scope
from engine.identity import Actor
from engine.models import OrgUnit, User

Suggestion = tuple[str, str]
LIMIT = 20


def users(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    """Active users of the units in the actor's scope (assign, delegate)."""
    query = (
        sa.select(User.username, User.display_name)
        .outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.active.is_(True), scope.visible(actor, OrgUnit.path))
    )
    if text:
        query = query.where(
            sa.or_(
                User.username.icontains(text, autoescape=True),
                User.display_name.icontains(text, autoescape=True),
            )
        )
    rows = session.execute(query.order_by(User.username).limit(LIMIT))
    return [(username, name or username) for username, name in rows]


def customer_list(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    out = []
    for c in customers.search(session, actor, text, LIMIT):
        phone = c.phones[0].phone if c.phones else ""
        out.append((str(c.id), f"{c.name} {phone}".strip()))
    return out


def product_list(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    return [
        (p.serial, f"{p.serial} · {p.model.code} {p.model.name}")
        for p in products.search(session, text, limit=LIMIT, actor=actor)
    ]


def outlet_list(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    return [
        (u.code, f"{u.code} · {u.name}")
        for u in outlets.outlet_choices(session, actor, text, LIMIT)
    ]


def part_list(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    return [(p.code, f"{p.code} · {p.name}") for p in products.part_choices(session, text, LIMIT)]


def article_list(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    return [
        (str(a.id), f"{a.id} · {a.title}") for a in knowledge.article_choices(session, text, LIMIT)
    ]


PICKERS: dict[str, Callable[[Session, Actor, str], list[Suggestion]]] = {
    "user": users,
    "customer": customer_list,
    "product": product_list,
    "outlet": outlet_list,
    "part": part_list,
    "kb_article": article_list,
}
