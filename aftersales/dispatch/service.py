"""Choosing the outlet for a field job: the nearest active outlet qualified for the product.

"Nearest" is the service district: an outlet that lists the customer's district serves it
before one that covers the whole city. Among equals the least loaded outlet (open orders per
unit of capacity) wins, so work spreads; outlets that refused or let the job time out are
skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.orders.models import ServiceOrder
from aftersales.outlets.models import OutletProfile
from engine.models import OrgUnit, ProcessInstance


@dataclass(frozen=True)
class Candidate:
    unit: OrgUnit
    profile: OutletProfile
    exact: bool
    load: float


def _covers(profile: OutletProfile, region: str) -> bool | None:
    """True for the district itself, False for its whole city, None when not served."""
    province_city = region.rsplit("/", 1)[0]
    districts = set(profile.districts or [])
    if region in districts:
        return True
    if province_city in districts:
        return False
    return None


def candidates(
    session: Session, region: str, category: str, exclude: Iterable[str] = ()
) -> list[Candidate]:
    excluded = set(exclude or ())
    rows = session.execute(
        sa.select(OrgUnit, OutletProfile)
        .join(OutletProfile, OutletProfile.org_unit_id == OrgUnit.id)
        .where(OrgUnit.active.is_(True), OutletProfile.status == "active")
    ).all()
    served = []
    for unit, profile in rows:
        if unit.code in excluded or category not in (profile.categories or []):
            continue
        exact = _covers(profile, region)
        if exact is not None:
            served.append((unit, profile, exact))
    if not served:
        return []
    open_counts = dict(
        session.execute(
            sa.select(ProcessInstance.org_path, sa.func.count())
            .join(ServiceOrder, ServiceOrder.process_instance_id == ProcessInstance.id)
            .where(
                ProcessInstance.org_path.in_([u.path for u, _, _ in served]),
                ServiceOrder.is_open,
            )
            .group_by(ProcessInstance.org_path)
        ).all()
    )
    found = [
        Candidate(unit, profile, exact, open_counts.get(unit.path, 0) / max(profile.capacity, 1))
        for unit, profile, exact in served
    ]
    return sorted(found, key=lambda c: (not c.exact, c.load, c.unit.id))


def choose_outlet(
    session: Session, region: str, category: str, exclude: Iterable[str] = ()
) -> Candidate | None:
    found = candidates(session, region, category, exclude)
    return found[0] if found else None
