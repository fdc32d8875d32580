"""Caller lookup: who is calling, what they own, what they have asked for before."""

from __future__ import annotations

from flask import jsonify, request

from aftersales.customers import lookup

from ..extensions import db
from . import bp
from .auth import current_actor
from .errors import ApiError


@bp.get("/customers")
def find_customers():  # noqa: ANN201
    """``?phone=P`` or ``?serial=S`` (a product barcode); an unknown one, or one outside the
    caller's scope (``aftersales.customers``), gives no items."""
    actor = current_actor()
    phone = (request.args.get("phone") or "").strip()
    serial = (request.args.get("serial") or "").strip()
    if not phone and not serial:
        raise ApiError(422, "invalid", "give phone or serial", {"phone": "required"})
    if len(phone) > 40 or len(serial) > 40:
        raise ApiError(422, "invalid", "phone and serial have at most 40 characters")
    return jsonify({"items": lookup(db.session, actor, phone=phone or None, serial=serial or None)})
