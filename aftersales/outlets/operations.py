"""The praise process's operation: it keeps the praise against an outlet and engineer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from aftersales.orders.service import of_this_instance
from aftersales.outlets.models import Praise
from engine.errors import InvalidInput
from engine.models import OrgUnit, User
from engine.services import command_session


def record_praise(outlet: Any = None, engineer: Any = None) -> dict[str, Any]:
    """Keep the praise against the outlet and the engineer it names (either may be absent;
    an engineer alone credits their outlet too). The process then moves the order to that
    outlet's records by setting ``org_unit`` to the answer's ``outlet``."""
    session = command_session()
    order = of_this_instance(session)
    unit = None
    if outlet:
        unit = session.scalar(
            sa.select(OrgUnit).where(OrgUnit.code == str(outlet), OrgUnit.kind == "outlet")
        )
        if unit is None:
            raise InvalidInput(f"no outlet {outlet!r}")
    user = None
    if engineer:
        user = session.scalar(sa.select(User).where(User.username == str(engineer)))
        if user is None:
            raise InvalidInput(f"no user {engineer!r}")
        if unit is None and user.org_unit_id is not None:
            own = session.get(OrgUnit, user.org_unit_id)
            unit = own if own is not None and own.kind == "outlet" else None
    praise = Praise(
        order_id=order.id,
        outlet_id=unit.id if unit else None,
        engineer_id=user.id if user else None,
        text=order.description,
    )
    session.add(praise)
    session.flush()
    return {"id": praise.id, "outlet": unit.code if unit else None}


OPERATIONS = {"record_praise": record_praise}
