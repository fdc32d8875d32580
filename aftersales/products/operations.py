"""The install report's operation: it creates (or completes) the installed product."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from aftersales.orders.service import of_this_instance
from aftersales.products.models import InstalledProduct, ProductModel
from aftersales.products.service import warranty_end
from engine.errors import InvalidInput
from engine.services import command_session


def record_installation(serial: str, model: str, install_date: str) -> dict:
    """The install report creates the installed product, or updates the customer's own one
    with that serial; warranty starts on the installation date."""
    session = command_session()
    order = of_this_instance(session)
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
    end = product.warranty_end
    return {"serial": product.serial, "warranty_end": end.isoformat() if end else None}


def record_warranty_decision(decision: str) -> bool:
    """Someone decided the warranty of an order whose product's warranty was unknown (the
    center's ``decide_warranty`` step or the agent's phone support): the order keeps it, and
    the fee standards read it from then on."""
    if decision not in WARRANTY_DECISIONS:
        raise InvalidInput(f"a warranty decision is one of {sorted(WARRANTY_DECISIONS)}")
    order = of_this_instance(command_session())
    order.in_warranty = WARRANTY_DECISIONS[decision]
    return order.in_warranty


WARRANTY_DECISIONS = {"in_warranty": True, "out_of_warranty": False}
OPERATIONS = {
    "record_installation": record_installation,
    "record_warranty_decision": record_warranty_decision,
}
