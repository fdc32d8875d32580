"""The operations dispatch's BPMN calls: which outlet (or depot) takes a job, how far it is.

Each acts on the order of the instance that calls it (``of_this_instance``); the process
moves itself (and so its order) to the unit by setting ``org_unit`` to the answer's code.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from aftersales.dispatch import geo
from aftersales.dispatch.service import choose_outlet
from aftersales.orders.service import of_this_instance
from engine.errors import NotFound
from engine.models import OrgUnit
from engine.services import command_session


def choose_outlet_for(region: str, category: str, exclude: list | None = None) -> dict[str, Any]:
    """The outlet for a field job, or ``{"outlet": None}`` when none serves the district.

    The process moves itself (and so its order) to the outlet by setting ``org_unit``."""
    session = command_session()
    found = choose_outlet(session, region or "", category or "", exclude or [])
    if found is None:
        return {"outlet": None, "outlet_name": None, "center": None}
    center = session.get(OrgUnit, found.unit.parent_id) if found.unit.parent_id else None
    return {
        "outlet": found.unit.code,
        "outlet_name": found.unit.name,
        "center": center.code if center is not None else None,
    }


def place_with_outlet(outlet: str) -> dict[str, Any]:
    """A dispatcher's own choice of outlet (when none was found automatically)."""
    session = command_session()
    unit = session.scalar(
        sa.select(OrgUnit).where(OrgUnit.code == outlet, OrgUnit.kind == "outlet")
    )
    if unit is None:
        raise NotFound(f"no outlet {outlet!r}")
    return {"outlet": unit.code, "outlet_name": unit.name}


def visit_distance(latitude: Any = None, longitude: Any = None) -> Any:
    """The outlet-to-site distance in km for the visit fee's band (None when unknown)."""
    session = command_session()
    order = of_this_instance(session)
    return geo.measure_order(session, order, _number(latitude), _number(longitude))


def _number(value: Any) -> float | None:
    """A coordinate from task data; anything that is not a number counts as unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def issue_rma(region: str, category: str) -> dict[str, Any]:
    """The return-authorisation number a depot repair travels under, and the service center
    of the district (the parent of the outlet that would serve it), whose depot repairs it;
    the process moves the order there by setting ``org_unit`` to the answer's ``center``."""
    session = command_session()
    order = of_this_instance(session)
    found = choose_outlet(session, region or "", category or "")
    center = session.get(OrgUnit, found.unit.parent_id) if found and found.unit.parent_id else None
    return {"number": f"RMA-{order.number}", "center": center.code if center else None}


OPERATIONS = {
    "choose_outlet": choose_outlet_for,
    "place_with_outlet": place_with_outlet,
    "visit_distance": visit_distance,
    "issue_rma": issue_rma,
}
