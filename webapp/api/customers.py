"""Caller lookup: who is calling, what they own, what they have asked for before."""

from __future__ import annotations

from flask import jsonify

from aftersales.customers.service import lookup

from ..extensions import db
from . import bp
from .auth import current_actor
from .declare import operation
from .errors import ApiError
from .schemas import items_of, text


@bp.get("/customers")
@operation(
    summary="Caller lookup by phone or product serial: customers with products and orders",
    answers={200: items_of("Customer")},
    query={"phone": text(40), "serial": text(40)},
    description="Give phone or serial; an unknown one, or one outside the caller's scope, "
    "gives no items.",
)
def find_customers(query: dict):  # noqa: ANN201
    """``?phone=P`` or ``?serial=S`` (a product barcode); an unknown one, or one outside the
    caller's scope (``aftersales.customers``), gives no items."""
    phone = query.get("phone", "").strip()
    serial = query.get("serial", "").strip()
    if not phone and not serial:
        raise ApiError(422, "invalid", "give phone or serial", {"phone": "required"})
    actor = current_actor()
    return jsonify({"items": lookup(db.session, actor, phone=phone or None, serial=serial or None)})
