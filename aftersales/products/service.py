"""Product models and installed products: search for pickers and the warranty rule."""

from __future__ import annotations

import calendar
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.customers.service import customer_visible
from aftersales.products.models import InstalledProduct, Part, ProductModel
from engine.identity import Actor


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def warranty_end(model: ProductModel, purchase: date | None, install: date | None) -> date | None:
    """Warranty runs from installation when there is one, else from purchase; with neither
    date it is unknown (None)."""
    start = install or purchase
    return add_months(start, model.warranty) if start is not None else None


def search(
    session: Session,
    text: str,
    customer_id: int | None = None,
    limit: int = 20,
    *,
    actor: Actor,
) -> list[InstalledProduct]:
    """Installed products by serial prefix or model code, optionally of one customer, among
    the products of the customers the actor reads (in SQL, before the limit)."""
    text = (text or "").strip()
    query = (
        sa.select(InstalledProduct)
        .join(ProductModel)
        .where(customer_visible(actor, InstalledProduct.customer_id))
    )
    if customer_id is not None:
        query = query.where(InstalledProduct.customer_id == customer_id)
    if text:
        query = query.where(
            sa.or_(
                InstalledProduct.serial.startswith(text, autoescape=True),
                ProductModel.code.startswith(text, autoescape=True),
            )
        )
    elif customer_id is None:
        return []
    return list(session.scalars(query.order_by(InstalledProduct.id).limit(limit)))


def part_choices(session: Session, text: str, limit: int = 20) -> list[Part]:
    """Parts whose code starts with ``text`` or whose name holds it (the part picker)."""
    query = sa.select(Part)
    if text:
        query = query.where(
            sa.or_(
                Part.code.istartswith(text, autoescape=True),
                Part.name.icontains(text, autoescape=True),
            )
        )
    return list(session.scalars(query.order_by(Part.code).limit(limit)))


def unknown_parts(session: Session, actor: Actor | None, codes: list) -> set:
    """Those of ``codes`` that are no part's code (parts are the same for everyone)."""
    wanted = {c for c in codes if isinstance(c, str) and len(c) <= 40}
    found = set(session.scalars(sa.select(Part.code).where(Part.code.in_(wanted))))
    return {c for c in codes if c not in found}
