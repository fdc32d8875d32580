"""Suggestions for the picker widgets of forms: users in scope, customers, products."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales import customers, products
from engine.identity import Actor
from engine.models import User

Suggestion = tuple[str, str]
LIMIT = 20


def users(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    query = sa.select(User).where(User.active.is_(True)).order_by(User.username).limit(100)
    if text:
        like = f"%{text}%"
        query = query.where(sa.or_(User.username.ilike(like), User.display_name.ilike(like)))
    found = [
        u
        for u in session.scalars(query)
        if actor.sees(u.org_unit.path if u.org_unit is not None else "")
    ]
    return [(u.username, u.display_name or u.username) for u in found[:LIMIT]]


def customer_list(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    out = []
    for c in customers.search(session, text, LIMIT):
        phone = c.phones[0].phone if c.phones else ""
        out.append((str(c.id), f"{c.name} {phone}".strip()))
    return out


def product_list(session: Session, actor: Actor, text: str) -> list[Suggestion]:
    return [
        (p.serial, f"{p.serial} · {p.model.code} {p.model.name}")
        for p in products.search(session, text, limit=LIMIT)
    ]


PICKERS: dict[str, Callable[[Session, Actor, str], list[Suggestion]]] = {
    "user": users,
    "customer": customer_list,
    "product": product_list,
}
