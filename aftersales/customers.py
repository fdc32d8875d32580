"""Customers: the caller lookup an incoming call starts with, search, and new callers."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from engine.errors import InvalidInput

from .models import Customer, CustomerAddress, CustomerPhone, InstalledProduct, ServiceOrder

PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
OPEN_STATES = ("received", "dispatched", "accepted", "on_site", "reported", "reviewing")
RECENT_ORDERS = 50


def normalize_phone(raw: str | None) -> str:
    """Digits (and the area-code dash) only, without a +86 prefix: how phones are stored."""
    text = re.sub(r"[\s()]", "", raw or "")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("86") and len(text) == 13:  # "+86" whose "+" a URL turned into a space
        text = text[2:]
    return text


def check_phone(raw: str | None) -> str:
    phone = normalize_phone(raw)
    if not PHONE.match(phone):
        raise InvalidInput(
            "a phone is a mobile number (11 digits) or an area code and number",
            {"phone": "invalid"},
        )
    return phone


def _loaded() -> sa.Select:
    return sa.select(Customer).options(
        selectinload(Customer.phones),
        selectinload(Customer.addresses),
        selectinload(Customer.products),
    )


def customers_with_phone(session: Session, raw: str) -> list[Customer]:
    phone = normalize_phone(raw)
    if not phone:
        return []
    ids = sa.select(CustomerPhone.customer_id).where(CustomerPhone.phone == phone)
    return list(session.scalars(_loaded().where(Customer.id.in_(ids)).order_by(Customer.id)))


def customer_with_serial(session: Session, serial: str) -> Customer | None:
    """The owner of the product with that serial (a scanned barcode)."""
    owner = sa.select(InstalledProduct.customer_id).where(
        InstalledProduct.serial == (serial or "").strip()
    )
    return session.scalar(_loaded().where(Customer.id.in_(owner)))


def orders_of(session: Session, customer_ids: list[int]) -> dict[int, list[ServiceOrder]]:
    """Each customer's most recent orders, newest first."""
    if not customer_ids:
        return {}
    rows = session.scalars(
        sa.select(ServiceOrder)
        .where(ServiceOrder.customer_id.in_(customer_ids))
        .order_by(ServiceOrder.customer_id, ServiceOrder.created_at.desc())
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
        "purchase_date": product.purchase_date.isoformat(),
        "install_date": product.install_date.isoformat() if product.install_date else None,
        "warranty_end": product.warranty_end.isoformat(),
        "in_warranty": product.in_warranty(today),
    }


def order_view(order: ServiceOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "type": order.type,
        "status": order.status,
        "open": order.status in OPEN_STATES,
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
        "open_orders": sum(1 for o in orders if o.status in OPEN_STATES),
    }


def lookup(
    session: Session,
    *,
    phone: str | None = None,
    serial: str | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Caller lookup by phone or by a product's serial; an unknown one gives no items."""
    today = today or date.today()
    if serial:
        found = customer_with_serial(session, serial)
        customers = [found] if found is not None else []
    else:
        customers = customers_with_phone(session, phone or "")
    orders = orders_of(session, [c.id for c in customers])
    return [customer_view(c, orders[c.id], today) for c in customers]


def search(session: Session, text: str, limit: int = 20) -> list[Customer]:
    """Customers whose phone starts with, or whose name contains, ``text`` (pickers)."""
    text = (text or "").strip()
    if not text:
        return []
    if text[:1].isdigit():
        ids = sa.select(CustomerPhone.customer_id).where(
            CustomerPhone.phone.startswith(normalize_phone(text), autoescape=True)
        )
        query = sa.select(Customer).where(Customer.id.in_(ids.limit(limit)))
    else:
        query = sa.select(Customer).where(Customer.name.contains(text, autoescape=True))
    return list(session.scalars(query.order_by(Customer.id).limit(limit)))


def create_customer(
    session: Session, *, name: str, phone: str, address: dict[str, Any] | None = None
) -> Customer:
    """A new caller: a name, a valid phone, and an address with province, city, district."""
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
