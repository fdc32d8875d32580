"""Service orders: creating one starts its process; its status follows the process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.commands import CommandContext, StartInstance, execute
from engine.errors import InvalidInput, NotFound
from engine.identity import Actor, StartRefusal
from engine.models import ProcessDefinition, ProcessInstance, utcnow
from engine.queries import history_of, instance_visible
from engine.services import invocation

from .customers import customer_summary, order_body_customer
from .models import Customer, InstalledProduct, ProductModel, ServiceOrder

PREFIX = {"repair": "R", "installation": "I", "consultation": "C", "praise": "P", "complaint": "T"}
STARTABLE = ("repair", "installation", "consultation", "praise")
# what OpenOrder names itself when it starts the order's process (``StartInstance.via``)
OPENING_ORDER = "service_order"
STATES = (
    "received",
    "dispatched",
    "accepted",
    "on_site",
    "reported",
    "reviewing",
    "closed",
    "cancelled",
)


def opened_with_an_order(definition: ProcessDefinition, via: str) -> StartRefusal | None:
    """The engine's start guard for order types: their processes start only by opening an
    order, so no instance exists without its customer and order."""
    if definition.kind == "bpmn" and definition.key in PREFIX and via != OPENING_ORDER:
        return StartRefusal(
            "service_order",
            f"process {definition.key!r} starts by opening a service order "
            "(POST /api/v1/orders), not on its own",
        )
    return None


def _number(order: ServiceOrder) -> str:
    return f"{PREFIX[order.type]}{order.created_at:%Y%m%d}{order.id:06d}"


def _product(
    session: Session, customer: Customer, body: dict[str, Any]
) -> tuple[InstalledProduct | None, ProductModel | None]:
    serial = str(body.get("serial") or "").strip()
    if serial:
        product = session.scalar(
            sa.select(InstalledProduct).where(InstalledProduct.serial == serial)
        )
        if product is None or product.customer_id != customer.id:
            raise InvalidInput(
                "no product with that serial for this customer", {"serial": "unknown"}
            )
        return product, product.model
    code = str(body.get("model") or "").strip()
    if code:
        model = session.scalar(sa.select(ProductModel).where(ProductModel.code == code))
        if model is None:
            raise InvalidInput("no such product model", {"model": "unknown"})
        return None, model
    return None, None


@dataclass
class OpenOrder:
    """Create the order (and a new caller) and start its process: one command, one
    transaction, so bad input or a refused start leaves nothing behind."""

    body: dict[str, Any]
    today: date | None = None

    def execute(self, context: CommandContext) -> ServiceOrder:
        session, body = context.session, self.body
        kind = body.get("type")
        if kind not in STARTABLE:
            raise InvalidInput(f"type must be one of {', '.join(STARTABLE)}", {"type": "invalid"})
        description = str(body.get("description") or "").strip()
        if len(description) > 4000:
            raise InvalidInput(
                "the description has at most 4000 characters", {"description": "too long"}
            )
        customer = order_body_customer(session, context.actor, body)
        product, model = _product(session, customer, body)
        address = customer.addresses[0] if customer.addresses else None
        in_warranty = product.in_warranty(self.today or date.today()) if product else None
        order = ServiceOrder(
            type=kind,
            number="",
            customer=customer,
            installed_product_id=product.id if product is not None else None,
            description=description,
            in_warranty=in_warranty,
            created_by=context.actor.username,
            created_at=utcnow(),
        )
        session.add(order)
        session.flush()
        order.number = _number(order)
        variables = {
            "order_number": order.number,
            "order_type": kind,
            "customer_id": customer.id,
            "customer_name": customer.name,
            "phone": customer.phones[0].phone if customer.phones else "",
            "address": address.text if address is not None else "",
            "region": address.region if address is not None else "",
            "product_model": model.code if model is not None else "",
            "category": model.category.code if model is not None else "",
            "serial": product.serial if product is not None else "",
            "in_warranty": bool(in_warranty),
            "fault_description": description,
        }
        start = StartInstance(
            kind,
            business_key=order.number,
            variables=variables,
            via=OPENING_ORDER,
            on_created=order.link,
        )
        start.execute(context)
        return order


def create_order(
    session: Session, actor: Actor, body: dict[str, Any], today: date | None = None
) -> ServiceOrder:
    return execute(session, OpenOrder(body, today), actor)


def get_order(session: Session, actor: Actor, number: str) -> ServiceOrder:
    """An order whose process the actor may see; anything else is not found."""
    order = session.scalar(
        sa.select(ServiceOrder)
        .join(ProcessInstance, ProcessInstance.id == ServiceOrder.process_instance_id)
        .where(ServiceOrder.number == number, instance_visible(actor))
    )
    if order is None:
        raise NotFound(f"order {number} not found")
    return order


def order_json(session: Session, order: ServiceOrder) -> dict[str, Any]:
    instance = (
        session.get(ProcessInstance, order.process_instance_id)
        if order.process_instance_id
        else None
    )
    return {
        "number": order.number,
        "type": order.type,
        "status": order.status,
        "in_warranty": order.in_warranty,
        "verified": order.verified,
        "description": order.description,
        "created_at": order.created_at.isoformat() + "Z",
        "closed_at": order.closed_at.isoformat() + "Z" if order.closed_at else None,
        "process_instance_id": order.process_instance_id,
        "process_status": instance.status if instance is not None else None,
        "current_activities": instance.current_activities if instance is not None else [],
        "customer": customer_summary(order.customer),
        "timeline": [
            {
                "at": e.at.isoformat() + "Z",
                "actor": e.actor,
                "command": e.command,
                "activity": e.activity,
            }
            for e in (
                history_of(session, order.process_instance_id) if order.process_instance_id else []
            )
        ],
    }


def of_this_instance(session: Session) -> ServiceOrder:
    """The order of the instance whose step is running: the only order an operation may
    change, whatever its parameters say."""
    instance_id = invocation().root_instance_id
    order = session.scalar(
        sa.select(ServiceOrder).where(ServiceOrder.process_instance_id == instance_id)
    )
    if order is None:
        raise NotFound(f"process instance {instance_id} belongs to no service order")
    return order


def set_status(order: ServiceOrder, status: str) -> None:
    if status not in STATES:
        raise InvalidInput(f"unknown order status {status!r}")
    order.status = status
    if status == "closed":
        order.closed_at = utcnow()
