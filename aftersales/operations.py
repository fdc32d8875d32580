"""The service-task operations the after-sales processes call, registered with the engine.

Each runs in the transaction of the command whose step calls it (``command_session``) and
acts on the order of the instance that calls it (``orders.of_this_instance``): no parameter
names an order, so a process started with variables that name another order, or a form
that smuggles a number in, cannot reach it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from engine.errors import InvalidInput, NotFound
from engine.models import OrgUnit, User
from engine.services import OperationRegistry, command_session
from engine.services import registry as default_registry

from . import geo, orders, settings
from .dispatch import choose_outlet
from .knowledge import mark_solved
from .models import InstalledProduct, Praise, ProductModel
from .products import warranty_end


def choose_outlet_for(region: str, category: str, exclude: list | None = None) -> dict[str, Any]:
    """The outlet for a field job, or ``{"outlet": None}`` when none serves the district.

    The process moves itself (and so its order) to the outlet by setting ``org_unit``."""
    session = command_session()
    order = orders.of_this_instance(session)
    found = choose_outlet(session, region or "", category or "", exclude or [])
    if found is None:
        return {"outlet": None, "outlet_name": None, "center": None}
    center = session.get(OrgUnit, found.unit.parent_id) if found.unit.parent_id else None
    orders.set_status(order, "dispatched")
    return {
        "outlet": found.unit.code,
        "outlet_name": found.unit.name,
        "center": center.code if center is not None else None,
    }


def place_with_outlet(outlet: str) -> dict[str, Any]:
    """A dispatcher's own choice of outlet (when none was found automatically)."""
    session = command_session()
    order = orders.of_this_instance(session)
    unit = session.scalar(
        sa.select(OrgUnit).where(OrgUnit.code == outlet, OrgUnit.kind == "outlet")
    )
    if unit is None:
        raise NotFound(f"no outlet {outlet!r}")
    orders.set_status(order, "dispatched")
    return {"outlet": unit.code, "outlet_name": unit.name}


def set_order_status(status: str) -> str:
    orders.set_status(orders.of_this_instance(command_session()), status)
    return status


def close_order(kb_article_id: Any = None) -> str:
    """Close the order; an article that solved it on the phone is counted as used."""
    session = command_session()
    order = orders.of_this_instance(session)
    orders.set_status(order, "closed")
    if kb_article_id not in (None, ""):
        try:
            mark_solved(session, int(kb_article_id))
        except (NotFound, TypeError, ValueError):
            return "closed"  # a mistyped article number must not keep the order open
        order.kb_article_id = int(kb_article_id)
    return "closed"


def verify_order(confirmed: bool) -> bool:
    """A callback confirmed the visit really happened: settlement counts only such orders."""
    order = orders.of_this_instance(command_session())
    order.verified = bool(confirmed)
    return order.verified


def record_installation(serial: str, model: str, install_date: str) -> dict:
    """The install report creates the installed product, or updates the customer's own one
    with that serial; warranty starts on the installation date."""
    session = command_session()
    order = orders.of_this_instance(session)
    product_model = session.scalar(sa.select(ProductModel).where(ProductModel.code == model))
    if product_model is None:
        raise InvalidInput(f"no product model {model!r}")
    installed = date.fromisoformat(install_date)
    product = session.scalar(sa.select(InstalledProduct).where(InstalledProduct.serial == serial))
    if product is not None and product.customer_id != order.customer_id:
        raise InvalidInput(f"serial {serial} belongs to another customer")
    if product is None:
        address = order.customer.addresses[0].id if order.customer.addresses else None
        product = InstalledProduct(
            customer_id=order.customer_id,
            serial=serial,
            purchase_date=installed,
            address_id=address,
            model=product_model,
            warranty_end=installed,
        )
        session.add(product)
    product.model, product.install_date = product_model, installed
    product.warranty_end = warranty_end(product_model, product.purchase_date, installed)
    session.flush()
    order.installed_product_id = product.id
    return {"serial": product.serial, "warranty_end": product.warranty_end.isoformat()}


def visit_distance(latitude: Any = None, longitude: Any = None) -> Any:
    """The outlet-to-site distance in km for the visit fee's band (None when unknown)."""
    session = command_session()
    order = orders.of_this_instance(session)
    return geo.measure_order(session, order, _number(latitude), _number(longitude))


def _number(value: Any) -> float | None:
    """A coordinate from task data; anything that is not a number counts as unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def setting_value(name: str) -> Any:
    """A setting as it is now (the callback threshold the team lead set)."""
    return settings.value(command_session(), name)


def record_praise(outlet: Any = None, engineer: Any = None) -> dict[str, Any]:
    """Keep the praise against the outlet and the engineer it names (either may be absent;
    an engineer alone credits their outlet too). The process then moves the order to that
    outlet's records by setting ``org_unit`` to the answer's ``outlet``."""
    session = command_session()
    order = orders.of_this_instance(session)
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


def issue_rma(region: str, category: str) -> dict[str, Any]:
    """The return-authorisation number a depot repair travels under, and the service center
    of the district (the parent of the outlet that would serve it), whose depot repairs it;
    the process moves the order there by setting ``org_unit`` to the answer's ``center``."""
    session = command_session()
    order = orders.of_this_instance(session)
    found = choose_outlet(session, region or "", category or "")
    center = session.get(OrgUnit, found.unit.parent_id) if found and found.unit.parent_id else None
    orders.set_status(order, "dispatched")
    return {"number": f"RMA-{order.number}", "center": center.code if center else None}


def register(registry: OperationRegistry = default_registry) -> None:
    registry.register("issue_rma", issue_rma)
    registry.register("setting_value", setting_value)
    registry.register("record_praise", record_praise)
    registry.register("record_installation", record_installation)
    registry.register("choose_outlet", choose_outlet_for)
    registry.register("place_with_outlet", place_with_outlet)
    registry.register("set_order_status", set_order_status)
    registry.register("close_order", close_order)
    registry.register("verify_order", verify_order)
    registry.register("visit_distance", visit_distance)
