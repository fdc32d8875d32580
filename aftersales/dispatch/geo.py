"""How far an outlet is from the customer's site: the distance the visit fee's band comes from.

Great-circle distance between coordinates; there is no map service on the network, so this is
the straight line, not the road. A site's coordinates are the address's own when known, else
the engineer's check-in location, which the address then keeps for the next visit.
"""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.customers.models import CustomerAddress
from aftersales.orders.models import ServiceOrder
from aftersales.outlets.models import OutletProfile
from engine.models import OrgUnit, ProcessInstance

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    phi1, phi2 = radians(lat1), radians(lat2)
    dphi, dlam = phi2 - phi1, radians(lon2 - lon1)
    h = sin(dphi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def site_address(session: Session, order: ServiceOrder) -> CustomerAddress | None:
    """Where the job is: the product's address, else the customer's primary one."""
    if order.product is not None and order.product.address_id is not None:
        return session.get(CustomerAddress, order.product.address_id)
    return order.customer.addresses[0] if order.customer.addresses else None


def _outlet_profile(session: Session, order: ServiceOrder) -> OutletProfile | None:
    """The profile of the outlet the order's instance belongs to, if it is an outlet's."""
    if order.process_instance_id is None:
        return None
    return session.scalar(
        sa.select(OutletProfile)
        .join(OrgUnit, OrgUnit.id == OutletProfile.org_unit_id)
        .join(ProcessInstance, ProcessInstance.org_unit_id == OrgUnit.id)
        .where(ProcessInstance.id == order.process_instance_id)
    )


def measure_order(
    session: Session,
    order: ServiceOrder,
    latitude: float | None = None,
    longitude: float | None = None,
) -> float | None:
    """The outlet-to-site distance of ``order`` in km (one decimal), stored on the order;
    None when either end has no coordinates."""
    address = site_address(session, order)
    checked_in = latitude is not None and longitude is not None
    if address is not None and address.latitude is None and checked_in:
        address.latitude, address.longitude = float(latitude), float(longitude)
    if address is not None and address.latitude is not None:
        site = (address.latitude, address.longitude)
    elif checked_in:
        site = (float(latitude), float(longitude))
    else:
        site = None
    outlet = _outlet_profile(session, order)
    if site is None or outlet is None or outlet.latitude is None or outlet.longitude is None:
        order.distance_km = None
        return None
    order.distance_km = round(distance_km(outlet.latitude, outlet.longitude, *site), 1)
    return order.distance_km
