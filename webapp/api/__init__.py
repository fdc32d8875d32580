"""The JSON API under /api/v1, as CONTRACT.md lists it."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import (  # noqa: E402,F401  (routes register themselves on bp)
    batches,
    customers,
    definitions,
    incidents,
    instances,
    kb,
    messages,
    openapi,
    orders,
    service_types,
    tasks,
)
