"""Service orders: created from a call (with a new caller if needed), read with a timeline."""

from __future__ import annotations

from flask import jsonify

from aftersales.orders import create_order, get_order, order_json

from ..extensions import db
from . import bp
from .auth import current_actor
from .common import json_body


@bp.post("/orders")
def post_order():  # noqa: ANN201
    order = create_order(db.session, current_actor(), json_body())
    return jsonify(order_json(db.session, order)), 201


@bp.get("/orders/<number>")
def read_order(number: str):  # noqa: ANN201
    order = get_order(db.session, current_actor(), number[:24])
    return jsonify(order_json(db.session, order))
