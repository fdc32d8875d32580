"""The operations an order's process calls on its own order (``of_this_instance``).

Its status is not among them: ``orderStatus`` properties on the BPMN move it.
"""

from __future__ import annotations

from typing import Any

from aftersales.knowledge.service import mark_solved
from aftersales.orders.service import of_this_instance
from engine.errors import NotFound
from engine.services import command_session


def credit_article(kb_article_id: Any = None) -> Any:
    """An article that solved the call on the phone is counted as used and kept on the order.

    A mistyped article number must not keep the order open, so it is ignored."""
    session = command_session()
    order = of_this_instance(session)
    if kb_article_id in (None, ""):
        return None
    try:
        mark_solved(session, int(kb_article_id))
    except (NotFound, TypeError, ValueError):
        return None
    order.kb_article_id = int(kb_article_id)
    return order.kb_article_id


def verify_order(confirmed: bool) -> bool:
    """A callback confirmed the visit really happened: settlement counts only such orders."""
    order = of_this_instance(command_session())
    order.verified = bool(confirmed)
    return order.verified


OPERATIONS = {"credit_article": credit_article, "verify_order": verify_order}
