"""Caller lookup: who is calling, what they own, what they have asked for before."""

from __future__ import annotations

from datetime import date

from flask import jsonify

from aftersales.customers.editing import (
    add_address,
    add_phone,
    change_view,
    history,
    remove_address,
    remove_phone,
    set_primary_address,
    set_primary_phone,
    update_address,
    update_customer,
    update_product,
)
from aftersales.customers.models import MEMBER_LEVELS
from aftersales.customers.service import customer_view, get_customer, lookup, orders_of

from ..extensions import db
from . import bp
from .auth import current_actor
from .declare import operation
from .errors import ApiError
from .schemas import ID, items_of, nullable, one_of, ref, text


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


# --- editing (the call center: agents, team leads, administrators) ---------------------------

CUSTOMER = {"customer_id": ID}
EDIT_ERRORS = frozenset({403, 404, 422})
# Werkzeug checks a rule's method before its converters: an id out of range (0) on a path
# another method declared first answers 405 rather than 404 for the second method
SHARED_PATH_ERRORS = EDIT_ERRORS | {405}
ADDRESS_PARTS = {
    "province": text(20),
    "city": text(30),
    "district": text(30),
    "street": text(200),
}


def _customer_json(customer_id: int) -> dict:
    actor = current_actor()
    customer = get_customer(db.session, actor, customer_id)
    orders = orders_of(db.session, actor, [customer.id])[customer.id]
    return customer_view(customer, orders, date.today())


def _saved(customer_id: int, status: int = 200):  # noqa: ANN202
    db.session.commit()
    return jsonify(_customer_json(customer_id)), status


@bp.get("/customers/<id:customer_id>")
@operation(
    summary="One customer with products and the orders the caller may see",
    answers={200: ref("Customer")},
    path=CUSTOMER,
)
def read_customer(customer_id: int):  # noqa: ANN201
    return jsonify(_customer_json(customer_id))


@bp.get("/customers/<id:customer_id>/changes")
@operation(
    summary="The customer's change history, newest first",
    answers={200: items_of("CustomerChange")},
    path=CUSTOMER,
)
def customer_changes(customer_id: int):  # noqa: ANN201
    customer = get_customer(db.session, current_actor(), customer_id)
    return jsonify({"items": [change_view(c) for c in history(db.session, customer)]})


@bp.patch("/customers/<id:customer_id>")
@operation(
    summary="Change a customer's name or member level (kept in the history)",
    answers={200: ref("Customer")},
    errors=SHARED_PATH_ERRORS,
    path=CUSTOMER,
    body={
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {"name": text(80, 1), "member_level": one_of(*MEMBER_LEVELS)},
    },
)
def patch_customer(customer_id: int, body: dict):  # noqa: ANN201
    update_customer(db.session, current_actor(), customer_id, changes=body)
    return _saved(customer_id)


@bp.post("/customers/<id:customer_id>/phones")
@operation(
    summary="Add a phone (stored in its canonical form)",
    answers={201: ref("Customer")},
    errors=EDIT_ERRORS,
    path=CUSTOMER,
    body={
        "type": "object",
        "required": ["phone"],
        "additionalProperties": False,
        "properties": {"phone": text(40, 1), "primary": {"type": "boolean"}},
    },
)
def add_customer_phone(customer_id: int, body: dict):  # noqa: ANN201
    add_phone(
        db.session,
        current_actor(),
        customer_id,
        phone=body["phone"],
        primary=bool(body.get("primary")),
    )
    return _saved(customer_id, 201)


@bp.delete("/customers/<id:customer_id>/phones/<id:phone_id>")
@operation(
    summary="Remove a phone; the last one stays (422)",
    answers={200: ref("Customer")},
    errors=EDIT_ERRORS,
    path={"customer_id": ID, "phone_id": ID},
)
def remove_customer_phone(customer_id: int, phone_id: int):  # noqa: ANN201
    remove_phone(db.session, current_actor(), customer_id, phone_id=phone_id)
    return _saved(customer_id)


@bp.post("/customers/<id:customer_id>/phones/<id:phone_id>/primary")
@operation(
    summary="Make a phone the primary one",
    answers={200: ref("Customer")},
    errors=EDIT_ERRORS,
    path={"customer_id": ID, "phone_id": ID},
)
def primary_customer_phone(customer_id: int, phone_id: int):  # noqa: ANN201
    set_primary_phone(db.session, current_actor(), customer_id, phone_id=phone_id)
    return _saved(customer_id)


@bp.post("/customers/<id:customer_id>/addresses")
@operation(
    summary="Add an address (province, city and district required)",
    answers={201: ref("Customer")},
    errors=EDIT_ERRORS,
    path=CUSTOMER,
    body={
        "type": "object",
        "required": ["province", "city", "district"],
        "additionalProperties": False,
        "properties": {**ADDRESS_PARTS, "primary": {"type": "boolean"}},
    },
)
def add_customer_address(customer_id: int, body: dict):  # noqa: ANN201
    parts = {k: v for k, v in body.items() if k in ADDRESS_PARTS}
    add_address(
        db.session, current_actor(), customer_id, address=parts, primary=bool(body.get("primary"))
    )
    return _saved(customer_id, 201)


@bp.patch("/customers/<id:customer_id>/addresses/<id:address_id>")
@operation(
    summary="Change an address's fields",
    answers={200: ref("Customer")},
    errors=EDIT_ERRORS,
    path={"customer_id": ID, "address_id": ID},
    body={
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": ADDRESS_PARTS,
    },
)
def patch_customer_address(customer_id: int, address_id: int, body: dict):  # noqa: ANN201
    update_address(db.session, current_actor(), customer_id, address_id=address_id, address=body)
    return _saved(customer_id)


@bp.delete("/customers/<id:customer_id>/addresses/<id:address_id>")
@operation(
    summary="Remove an address (products installed there keep none)",
    answers={200: ref("Customer")},
    errors=SHARED_PATH_ERRORS,
    path={"customer_id": ID, "address_id": ID},
)
def remove_customer_address(customer_id: int, address_id: int):  # noqa: ANN201
    remove_address(db.session, current_actor(), customer_id, address_id=address_id)
    return _saved(customer_id)


@bp.post("/customers/<id:customer_id>/addresses/<id:address_id>/primary")
@operation(
    summary="Make an address the primary one",
    answers={200: ref("Customer")},
    errors=EDIT_ERRORS,
    path={"customer_id": ID, "address_id": ID},
)
def primary_customer_address(customer_id: int, address_id: int):  # noqa: ANN201
    set_primary_address(db.session, current_actor(), customer_id, address_id=address_id)
    return _saved(customer_id)


@bp.patch("/customers/<id:customer_id>/products/<id:product_id>")
@operation(
    summary="Change a product's model, serial or dates; the warranty end is recomputed",
    answers={200: ref("Customer")},
    errors=EDIT_ERRORS,
    path={"customer_id": ID, "product_id": ID},
    body={
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "model": text(40, 1),
            "serial": text(40, 1),
            "purchase_date": nullable(text(10)),
            "install_date": nullable(text(10)),
        },
        "description": "dates as 2024-05-01, not in the future; null clears one",
    },
)
def patch_customer_product(customer_id: int, product_id: int, body: dict):  # noqa: ANN201
    update_product(db.session, current_actor(), customer_id, product_id=product_id, changes=body)
    return _saved(customer_id)
