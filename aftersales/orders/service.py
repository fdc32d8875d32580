"""Service orders: creating one starts its process; its status follows the process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, object_session

from aftersales.customers.models import Customer
from aftersales.customers.service import customer_summary, order_body_customer
from aftersales.orders import types
from aftersales.orders.models import ServiceOrder
from aftersales.products.models import InstalledProduct, ProductModel
from aftersales.products.registration import register_for_request
from engine.commands import CommandContext, StartInstance, execute
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity import Actor, StartRefusal
from engine.models import ProcessDefinition, ProcessInstance, utcnow
from engine.queries import history_of, instance_visible
from engine.services import invocation
from forms.store import latest_form
from forms.validation import validate_data

# what OpenOrder names itself when it starts the order's process (``StartInstance.via``)
OPENING_ORDER = "service_order"
# variables every order's process starts with; a start form may not declare them
CASE_VARIABLES = (
    "order_number",
    "order_type",
    "customer_id",
    "customer_name",
    "phone",
    "address",
    "region",
    "product_model",
    "category",
    "serial",
    "in_warranty",
    "fault_description",
)
# what a start form may not set: the case's own variables and those the processes route by
RESERVED_VARIABLES = (*CASE_VARIABLES, "org_unit", "engineer", "dispatch", "service_mode")


def opened_with_an_order(definition: ProcessDefinition, via: str) -> StartRefusal | None:
    """The engine's start guard for order types: their processes start only by opening an
    order, so no instance exists without its order."""
    if definition.kind != "bpmn" or via == OPENING_ORDER:
        return None
    session = object_session(definition)
    if session is not None and types.is_order_process(session, definition.key):
        return StartRefusal(
            "service_order",
            f"process {definition.key!r} starts by opening a service order "
            "(POST /api/v1/orders), not on its own",
        )
    return None


def _number(prefix: str, order: ServiceOrder) -> str:
    """PREFIX + YYYYMMDD + the order's row id: unique under any concurrency, on every
    database, without a counter to lock."""
    return f"{prefix}{order.created_at:%Y%m%d}{order.id:06d}"


def _product(
    session: Session, customer: Customer | None, body: dict[str, Any]
) -> tuple[InstalledProduct | None, ProductModel | None]:
    serial = str(body.get("serial") or "").strip()
    if serial:
        product = session.scalar(
            sa.select(InstalledProduct).where(InstalledProduct.serial == serial)
        )
        if product is None:  # a request for a product not yet registered registers it
            return register_for_request(session, customer, serial, body)
        if customer is None or product.customer_id != customer.id:
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


def _start_data(session: Session, spec: types.TypeSpec, data: Any) -> dict[str, Any]:
    """The start form's data, checked against its latest version like any completion."""
    if data in (None, {}):
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("data is an object of the start form's fields", {"data": "invalid"})
    if spec.start_form is None:
        if data:
            raise InvalidInput("this type has no start form", {"data": "not allowed"})
        return {}
    form = latest_form(session, spec.start_form)
    errors = validate_data(form, data)
    if errors:
        raise InvalidInput("the start form's data are invalid", errors)
    reserved = sorted(set(data) & set(RESERVED_VARIABLES))
    if reserved:
        raise InvalidInput(
            "the start form sets case variables", dict.fromkeys(reserved, "reserved")
        )
    return data


@dataclass
class OpenOrder:
    """Create the order (and a new caller) and start its type's process: one command, one
    transaction, so bad input or a refused start leaves nothing behind."""

    body: dict[str, Any]
    today: date | None = None

    def execute(self, context: CommandContext) -> ServiceOrder:
        session, body = context.session, self.body
        kind = body.get("type")
        try:
            spec = types.get_type(session, kind if isinstance(kind, str) else "")
        except NotFound:
            raise InvalidInput("no such service type", {"type": "unknown"}) from None
        if not spec.may_open(context.actor):
            raise Forbidden(f"you may not open {spec.name_en.lower()} orders")
        description = str(body.get("description") or "").strip()
        if len(description) > 4000:
            raise InvalidInput(
                "the description has at most 4000 characters", {"description": "too long"}
            )
        data = _start_data(session, spec, body.get("data"))
        customer = _customer(session, context.actor, spec, body)
        product, model = (
            _product(session, customer, body) if spec.product != "none" else (None, None)
        )
        if spec.product == "required" and model is None:
            raise InvalidInput("this type needs the product", {"serial": "required"})
        address = customer.addresses[0] if customer is not None and customer.addresses else None
        in_warranty = product.in_warranty(self.today or date.today()) if product else None
        order = ServiceOrder(
            type=spec.key,
            type_version=spec.version,
            status=spec.first_status,
            is_open=True,
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
        order.number = _number(spec.prefix, order)
        variables = {
            **data,
            "order_number": order.number,
            "order_type": spec.key,
            "customer_id": customer.id if customer is not None else None,
            "customer_name": customer.name if customer is not None else "",
            "phone": customer.phones[0].phone if customer is not None and customer.phones else "",
            "address": address.text if address is not None else "",
            "region": address.region if address is not None else "",
            "product_model": model.code if model is not None else "",
            "category": model.category.code if model is not None else "",
            "serial": product.serial if product is not None else "",
            "in_warranty": in_warranty,  # None: unknown, a person decides
            "fault_description": description,
        }
        start = StartInstance(
            spec.process,
            business_key=order.number,
            variables=variables,
            via=OPENING_ORDER,
            on_created=order.link,
            permitted=True,  # the type's ``open`` decided above
        )
        start.execute(context)
        return order


def _customer(
    session: Session, actor: Actor, spec: types.TypeSpec, body: dict[str, Any]
) -> Customer | None:
    named = body.get("customer_id") is not None or body.get("customer") is not None
    if spec.customer == "none" or (spec.customer == "optional" and not named):
        return None
    return order_body_customer(session, actor, body)


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
        "customer": customer_summary(order.customer) if order.customer else None,
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


def order_of_instance(session: Session, instance_id: int) -> ServiceOrder | None:
    """The order an instance works on, if it is an order's (the caller checked its scope)."""
    return session.scalar(
        sa.select(ServiceOrder).where(ServiceOrder.process_instance_id == instance_id)
    )


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


def mirror_status(session: Session, instance: ProcessInstance, status: str) -> None:
    """The engine's business status of an order's instance is the order's status (a final
    one of its type closes it). Other processes' statuses are theirs alone."""
    order = next(
        (
            o
            for o in (*session.new, *session.dirty)
            if isinstance(o, ServiceOrder) and o.process_instance_id == instance.id
        ),
        None,
    ) or session.scalar(
        sa.select(ServiceOrder).where(ServiceOrder.process_instance_id == instance.id)
    )
    if order is None or order.status == status:
        return
    spec = types.get_type(session, order.type, order.type_version)
    order.status = status
    order.is_open = not spec.is_final(status)
    order.closed_at = None if order.is_open else utcnow()
