"""Customers: the caller lookup an incoming call starts with, search, and new callers.

Who reads a customer (the rule of ``engine.scope`` applied to customers, in SQL): actors
who see the whole organisation (HQ with its call center and departments, administrators)
read every customer; a center or an outlet reads a customer only while one of the
customer's orders is in its scope, the order's unit being its process instance's
(``customer_visible``: an EXISTS over ``service_order.customer_id`` and
``process_instance.org_path``, both indexed).

One exception, the outlet's own hotline (brochure, 派工任务处理: "如果该客户拨打维修网点的
维修热线, 那么维修网点服务人员, 通过客户服务管理系统, 录入该客户的服务需求, 同时生成派工单"):
an outlet's service staff (``HOTLINE_ROLES``) find a caller by the exact phone number,
digits only, and see their contact and products, never other units' orders; no partial
number, name or serial search reaches past their scope.

Who registers a customer (``may_register``): the call center (``CALL_CENTER_ROLES``) and
administrators, at any time; an outlet's hotline staff only together with the order they
open for the caller, in the same command, so the new customer is in their scope from the
first moment. Everyone else is refused (403).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from aftersales.customers import phones
from aftersales.customers.models import Customer, CustomerAddress, CustomerPhone
from aftersales.orders.models import ServiceOrder
from aftersales.products.models import InstalledProduct
from engine import scope
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity import Actor
from engine.models import ProcessInstance

CALL_CENTER_ROLES = frozenset({"agent", "team_lead"})
HOTLINE_ROLES = frozenset({"outlet_manager"})
RECENT_ORDERS = 50


def normalize_phone(raw: str | None) -> str:
    """What a phone is looked up by: its stored (canonical) form (``customers.phones``)."""
    return phones.lookup_form(raw)


def check_phone(raw: str | None) -> str:
    """The canonical form of a new customer's phone, or InvalidInput on ``phone``."""
    try:
        return phones.normalize(raw)
    except phones.InvalidPhone as exc:
        raise InvalidInput(
            f"a phone is a mobile number (11 digits) or an area code and number ({exc.reason})",
            {"phone": "invalid"},
        ) from None


def reads_all(actor: Actor) -> bool:
    """HQ, its departments (the call center among them) and administrators."""
    return scope.sees_everything(actor)


def takes_hotline_calls(actor: Actor) -> bool:
    return bool(HOTLINE_ROLES & actor.roles)


def may_register(actor: Actor, *, with_order: bool = False) -> bool:
    """The call center and administrators register callers; an outlet's hotline staff only
    together with the order they open for the caller (``with_order``)."""
    if actor.is_admin or CALL_CENTER_ROLES & actor.roles:
        return True
    return with_order and takes_hotline_calls(actor)


def visible_orders(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL over ``ServiceOrder`` joined to its instance: the orders the actor may see.

    An order's unit is its process instance's; an order without one (bulk-imported
    history) has no unit, so only those who see everything see it."""
    return scope.visible(actor, ProcessInstance.org_path)


def customer_visible(actor: Actor, customer_id: Any = Customer.id) -> sa.ColumnElement[bool]:
    """SQL: the customer ``customer_id`` (a column) is one the actor reads."""
    if reads_all(actor):
        return sa.true()
    return (
        sa.select(ServiceOrder.id)
        .join(ProcessInstance, ProcessInstance.id == ServiceOrder.process_instance_id)
        .where(ServiceOrder.customer_id == customer_id, visible_orders(actor))
        .exists()
    )


def _loaded() -> sa.Select:
    return sa.select(Customer).options(
        selectinload(Customer.phones),
        selectinload(Customer.addresses),
        selectinload(Customer.products),
    )


def get_customer(session: Session, actor: Actor, customer_id: Any) -> Customer:
    """A customer the actor reads; any other id is not found, so ids reveal nothing."""
    found = None
    if isinstance(customer_id, int) and not isinstance(customer_id, bool):
        found = session.scalar(_loaded().where(Customer.id == customer_id, customer_visible(actor)))
    if found is None:
        raise NotFound(f"customer {customer_id} not found")
    return found


def visible_among(session: Session, actor: Actor, customer_ids: list[int]) -> set[int]:
    """Which of ``customer_ids`` the actor reads (the customer page opens for them)."""
    if not customer_ids:
        return set()
    if reads_all(actor):
        return set(customer_ids)
    return set(
        session.scalars(
            sa.select(Customer.id).where(Customer.id.in_(customer_ids), customer_visible(actor))
        )
    )


def customers_with_phone(session: Session, actor: Actor, raw: str) -> list[Customer]:
    """The customers with exactly that phone whom the actor reads, or finds on its hotline."""
    phone = normalize_phone(raw)
    if not phone:
        return []
    ids = sa.select(CustomerPhone.customer_id).where(CustomerPhone.phone == phone)
    query = _loaded().where(Customer.id.in_(ids))
    if not takes_hotline_calls(actor):
        query = query.where(customer_visible(actor))
    return list(session.scalars(query.order_by(Customer.id)))


def customer_with_serial(session: Session, actor: Actor, serial: str) -> Customer | None:
    """The owner of the product with that serial (a scanned barcode), if the actor reads it."""
    owner = sa.select(InstalledProduct.customer_id).where(
        InstalledProduct.serial == (serial or "").strip()
    )
    return session.scalar(_loaded().where(Customer.id.in_(owner), customer_visible(actor)))


def order_customer(
    session: Session, actor: Actor, customer_id: Any, caller_phone: str | None = None
) -> Customer:
    """The customer an order is opened for: one the actor reads, or, on an outlet's hotline,
    the one whose phone is exactly the number the caller called from."""
    try:
        return get_customer(session, actor, customer_id)
    except NotFound:
        phone = normalize_phone(caller_phone)
        if not phone or not takes_hotline_calls(actor):
            raise
    for customer in customers_with_phone(session, actor, phone):
        if customer.id == customer_id:
            return customer
    raise NotFound(f"customer {customer_id} not found")


def orders_query(actor: Actor, customer_ids: list[int]) -> sa.Select:
    """The orders of these customers that the actor may see."""
    return (
        sa.select(ServiceOrder)
        .outerjoin(ProcessInstance, ProcessInstance.id == ServiceOrder.process_instance_id)
        .where(ServiceOrder.customer_id.in_(customer_ids), visible_orders(actor))
    )


def orders_of(
    session: Session, actor: Actor, customer_ids: list[int]
) -> dict[int, list[ServiceOrder]]:
    """Each customer's most recent orders the actor may see, newest first."""
    if not customer_ids:
        return {}
    rows = session.scalars(
        orders_query(actor, customer_ids).order_by(
            ServiceOrder.customer_id, ServiceOrder.created_at.desc(), ServiceOrder.id.desc()
        )
    )
    out: dict[int, list[ServiceOrder]] = {i: [] for i in customer_ids}
    for row in rows:
        if len(out[row.customer_id]) < RECENT_ORDERS:
            out[row.customer_id].append(row)
    return out


def product_view(product: InstalledProduct, today: date) -> dict[str, Any]:
    return {
        "id": product.id,
        "serial": product.serial,
        "model": product.model.code,
        "model_name": product.model.name,
        "category": product.model.category.code,
        "purchase_date": product.purchase_date.isoformat() if product.purchase_date else None,
        "install_date": product.install_date.isoformat() if product.install_date else None,
        "warranty_end": product.warranty_end.isoformat() if product.warranty_end else None,
        "in_warranty": product.in_warranty(today),
        "invoice_number": product.invoice_number,
        "invoice_photo_id": product.invoice_photo_id,
    }


def order_view(order: ServiceOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "type": order.type,
        "status": order.status,
        "open": order.is_open,
        "created_at": order.created_at.isoformat() + "Z",
        "process_instance_id": order.process_instance_id,
        "description": order.description,
    }


def customer_summary(customer: Customer) -> dict[str, Any]:
    """Who the customer is and where to reach them, without products or orders."""
    return {
        "id": customer.id,
        "name": customer.name,
        "member_no": customer.member_no,
        "member_level": customer.member_level,
        "tags": customer.tags or [],
        "group": customer.customer_group,
        "phones": [
            {"phone": p.phone, "kind": p.kind, "primary": p.is_primary} for p in customer.phones
        ],
        "addresses": [
            {
                "id": a.id,
                "province": a.province,
                "city": a.city,
                "district": a.district,
                "street": a.street,
                "primary": a.is_primary,
            }
            for a in customer.addresses
        ],
    }


def customer_view(customer: Customer, orders: list[ServiceOrder], today: date) -> dict[str, Any]:
    """Everything an agent needs on one screen: member data, products, orders."""
    return {
        **customer_summary(customer),
        "products": [product_view(p, today) for p in customer.products],
        "orders": [order_view(o) for o in orders],
        "open_orders": sum(1 for o in orders if o.is_open),
    }


def lookup(
    session: Session,
    actor: Actor,
    *,
    phone: str | None = None,
    serial: str | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Caller lookup by phone or by a product's serial; an unknown one gives no items.

    Each customer comes with the orders the actor may see only.
    """
    today = today or date.today()
    if serial:
        found = customer_with_serial(session, actor, serial)
        customers = [found] if found is not None else []
    else:
        customers = customers_with_phone(session, actor, phone or "")
    orders = orders_of(session, actor, [c.id for c in customers])
    return [customer_view(c, orders[c.id], today) for c in customers]


def search(session: Session, actor: Actor, text: str, limit: int = 20) -> list[Customer]:
    """Customers the actor reads whose phone starts with, or whose name contains, ``text``
    (pickers); the scope is applied in SQL before the limit."""
    text = (text or "").strip()
    if not text:
        return []
    query = sa.select(Customer).where(customer_visible(actor))
    if text[:1].isdigit():
        ids = sa.select(CustomerPhone.customer_id).where(
            CustomerPhone.phone.startswith(normalize_phone(text), autoescape=True)
        )
        query = query.where(Customer.id.in_(ids))
    else:
        query = query.where(Customer.name.contains(text, autoescape=True))
    return list(session.scalars(query.order_by(Customer.id).limit(limit)))


def register_customer(
    session: Session,
    actor: Actor,
    *,
    name: str,
    phone: str,
    address: dict[str, Any] | None = None,
    with_order: bool = False,
) -> Customer:
    """A new caller registered by ``actor`` (``may_register``); anyone else gets 403."""
    if not may_register(actor, with_order=with_order):
        raise Forbidden(
            "only the call center registers customers; an outlet only with the order it opens"
        )
    return create_customer(session, name=name, phone=phone, address=address)


def order_body_customer(session: Session, actor: Actor, body: dict[str, Any]) -> Customer:
    """The customer an order body names: ``customer_id`` (with the ``caller_phone`` an
    outlet's hotline found them by), or a new caller registered with the order."""
    if body.get("customer_id") is not None:
        try:
            return order_customer(session, actor, body["customer_id"], body.get("caller_phone"))
        except NotFound:
            raise InvalidInput("no such customer", {"customer_id": "unknown"}) from None
    new = body.get("customer")
    if not isinstance(new, dict):
        raise InvalidInput("give customer_id or a new customer", {"customer": "required"})
    return register_customer(
        session,
        actor,
        name=str(new.get("name") or ""),
        phone=str(new.get("phone") or ""),
        address=new.get("address") if isinstance(new.get("address"), dict) else None,
        with_order=True,
    )


def create_customer(
    session: Session, *, name: str, phone: str, address: dict[str, Any] | None = None
) -> Customer:
    """A new caller: a name, a valid phone, and an address with province, city, district.

    Checks no permission: callers go through ``register_customer`` or an order body."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput("a customer needs a name of at most 80 characters", {"name": "invalid"})
    number = check_phone(phone)
    customer = Customer(name=name)
    customer.phones.append(CustomerPhone(phone=number, kind="mobile", is_primary=True))
    if address:
        missing = [
            k for k in ("province", "city", "district") if not str(address.get(k) or "").strip()
        ]
        if missing:
            raise InvalidInput(
                "an address needs province, city and district",
                {f"address.{k}": "required" for k in missing},
            )
        customer.addresses.append(
            CustomerAddress(
                province=str(address["province"]).strip()[:20],
                city=str(address["city"]).strip()[:30],
                district=str(address["district"]).strip()[:30],
                street=str(address.get("street") or "").strip()[:200],
                is_primary=True,
            )
        )
    session.add(customer)
    session.flush()
    return customer
