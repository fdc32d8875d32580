"""Service orders: created from a call (with a new caller if needed), read with a timeline."""

from __future__ import annotations

from flask import jsonify

from aftersales.orders.case import case_json, case_of
from aftersales.orders.service import create_order, get_order, order_json
from aftersales.orders.types import KEY

from ..extensions import db
from . import bp
from .auth import current_actor
from .declare import operation
from .instances import COMMAND_ERRORS
from .schemas import ID, ORDER_NUMBER, nullable, ref, text

ADDRESS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "province": text(20),
        "city": text(30),
        "district": text(30),
        "street": text(200),
    },
}
NEW_CUSTOMER = {
    "type": "object",
    "required": ["name", "phone"],
    "additionalProperties": False,
    "properties": {"name": text(80, 1), "phone": text(40, 1), "address": nullable(ADDRESS)},
    "description": "a new caller; an address needs province, city and district",
}


@bp.post("/orders")
@operation(
    summary="Create a service order (and a new caller) and start its process",
    answers={201: ref("Order")},
    errors=COMMAND_ERRORS,
    body={
        "type": "object",
        "required": ["type"],
        "additionalProperties": False,
        "properties": {
            "type": {
                "type": "string",
                "pattern": KEY.pattern,
                "maxLength": 40,
                "description": "a deployed service type's key (GET /api/v1/service-types)",
            },
            "customer_id": nullable(ID),
            "caller_phone": nullable(text(40)),
            "customer": NEW_CUSTOMER,
            "serial": nullable(text(40)),
            "model": nullable(text(40)),
            "purchase_date": nullable(text(10, format="date")),
            "invoice_number": nullable(text(40)),
            "description": nullable(text(4000)),
            "data": {
                "type": ["object", "null"],
                "maxProperties": 200,
                "description": "the type's start form's fields (422 with field errors)",
            },
        },
        "description": "give customer_id or customer; an outlet opening an order for a "
        "caller outside its scope gives the phone it found them by as caller_phone. A serial "
        "no product has yet registers the product for the customer: model is then required, "
        "purchase_date and invoice_number prove its warranty (without both it is unknown and "
        "a person decides it before any fee)",
    },
)
def post_order(body: dict):  # noqa: ANN201
    order = create_order(db.session, current_actor(), body)
    return jsonify(order_json(db.session, order)), 201


@bp.get("/orders/<number>")
@operation(
    summary="An order with its state, timeline and case record",
    answers={200: ref("Order")},
    path={"number": ORDER_NUMBER},
)
def read_order(number: str):  # noqa: ANN201
    actor = current_actor()
    order = get_order(db.session, actor, number)
    return jsonify(
        {**order_json(db.session, order), "case": case_json(case_of(db.session, actor, order))}
    )
