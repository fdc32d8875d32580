"""The service types an outside system may open orders of (``POST /api/v1/orders``)."""

from __future__ import annotations

from flask import jsonify

from aftersales.orders import types as service_types

from ..extensions import db
from . import bp
from .auth import current_actor
from .declare import operation
from .schemas import ref


@bp.get("/service-types")
@operation(
    summary="The service types deployed now, and whether the caller may open each",
    answers={200: ref("ServiceTypes")},
)
def list_service_types():  # noqa: ANN201
    actor = current_actor()
    return jsonify(
        {
            "items": [
                {
                    "key": t.key,
                    "version": t.version,
                    "name": {"zh": t.name_zh, "en": t.name_en},
                    "prefix": t.prefix,
                    "process": t.process,
                    "start_form": t.start_form,
                    "customer": t.customer,
                    "product": t.product,
                    "callback": t.callback,
                    "may_open": t.may_open(actor),
                    "statuses": [
                        {"key": s.key, "name": {"zh": s.name_zh, "en": s.name_en}, "final": s.final}
                        for s in t.statuses
                    ],
                }
                for t in service_types.latest_types(db.session)
            ]
        }
    )
