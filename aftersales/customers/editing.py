"""The call center edits customers and their products; every change is kept in the history.

Who edits (``may_edit``): the call center (agents, team leads) and administrators, and only
customers they read (``service.get_customer``: any other id is not found, 404, before the
role is looked at, so ids reveal nothing); a reader who may not edit gets 403.

What they edit: the name and member level; phones (add, remove, make primary: a customer
keeps at least one phone, and one of them is primary); addresses (add, change, remove, make
primary); an installed product's model, serial, purchase and installation dates, with the
warranty end recomputed (``products.service.warranty_end``) when a date or the model changes.

Every changed field writes a ``CustomerChange`` row (who, when, what, from what to what) in
the caller's transaction; a refused edit (``InvalidInput``) changes nothing and writes none.
The functions flush; the caller commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.customers import phones as phone_rules
from aftersales.customers.models import (
    MEMBER_LEVELS,
    Customer,
    CustomerAddress,
    CustomerChange,
    CustomerPhone,
)
from aftersales.customers.service import CALL_CENTER_ROLES, get_customer
from aftersales.products.models import InstalledProduct, ProductModel
from aftersales.products.registration import parse_date
from aftersales.products.service import warranty_end
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity import Actor

HISTORY = 200  # changes the customer page shows, newest first
ADDRESS_FIELDS = {"province": 20, "city": 30, "district": 30, "street": 200}
CUSTOMER_FIELDS = ("name", "member_level")
PRODUCT_FIELDS = ("model", "serial", "purchase_date", "install_date")
VALUE_MAX = 400


def may_edit(actor: Actor) -> bool:
    """The call center and administrators edit the customers they read."""
    return actor.is_admin or bool(CALL_CENTER_ROLES & actor.roles)


def editable_customer(session: Session, actor: Actor, customer_id: Any) -> Customer:
    """The customer ``actor`` reads (else NotFound) and may edit (else Forbidden)."""
    customer = get_customer(session, actor, customer_id)
    if not may_edit(actor):
        raise Forbidden("only the call center edits customers")
    return customer


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)[:VALUE_MAX]


def _record(
    session: Session,
    actor: Actor,
    customer: Customer,
    field: str,
    old: Any,
    new: Any,
    *,
    subject: str = "customer",
    subject_id: int | None = None,
) -> None:
    if _text(old) == _text(new):
        return
    session.add(
        CustomerChange(
            customer_id=customer.id,
            subject=subject,
            subject_id=subject_id,
            field=field,
            old_value=_text(old),
            new_value=_text(new),
            changed_by=actor.username,
        )
    )


def _only(changes: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise InvalidInput("changes are an object of fields", {"changes": "invalid"})
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput("these fields cannot be changed", dict.fromkeys(unknown, "unknown"))
    return changes


def update_customer(
    session: Session, actor: Actor, customer_id: Any, *, changes: dict[str, Any]
) -> Customer:
    """Change the name and/or member level (``changes`` holds only those given)."""
    customer = editable_customer(session, actor, customer_id)
    changes = _only(changes, CUSTOMER_FIELDS)
    if "name" in changes:
        name = str(changes["name"] or "").strip()
        if not name or len(name) > 80:
            raise InvalidInput(
                "a customer needs a name of at most 80 characters", {"name": "invalid"}
            )
        _record(session, actor, customer, "name", customer.name, name)
        customer.name = name
    if "member_level" in changes:
        level = changes["member_level"]
        if level not in MEMBER_LEVELS:
            raise InvalidInput(
                f"a member level is one of {', '.join(MEMBER_LEVELS)}", {"member_level": "invalid"}
            )
        _record(session, actor, customer, "member_level", customer.member_level, level)
        customer.member_level = level
    session.flush()
    return customer


# --- phones -----------------------------------------------------------------------------------


def _phone_of(customer: Customer, phone_id: Any) -> CustomerPhone:
    for phone in customer.phones:
        if phone.id == phone_id:
            return phone
    raise NotFound(f"customer {customer.id} has no phone {phone_id}")


def _primary(rows: list, chosen: Any) -> None:
    for row in rows:
        row.is_primary = row is chosen


def add_phone(
    session: Session, actor: Actor, customer_id: Any, *, phone: str, primary: bool = False
) -> Customer:
    """A further phone (in its canonical form); a number the customer has is refused."""
    customer = editable_customer(session, actor, customer_id)
    try:
        number = phone_rules.normalize(phone)
    except phone_rules.InvalidPhone as exc:  # the reason, so a form can say what is wrong
        raise InvalidInput(f"not a phone number ({exc.reason})", {"phone": exc.reason}) from None
    if any(p.phone == number for p in customer.phones):
        raise InvalidInput("the customer has this phone already", {"phone": "duplicate"})
    kind = "mobile" if phone_rules.MOBILE.match(number) else "landline"
    row = CustomerPhone(phone=number, kind=kind, is_primary=False)
    customer.phones.append(row)
    session.flush()
    _record(session, actor, customer, "phone", None, number, subject="phone", subject_id=row.id)
    if primary or len(customer.phones) == 1:
        _make_primary_phone(session, actor, customer, row)
    session.flush()
    return customer


def _make_primary_phone(
    session: Session, actor: Actor, customer: Customer, row: CustomerPhone
) -> None:
    before = next((p.phone for p in customer.phones if p.is_primary), None)
    _primary(customer.phones, row)
    _record(
        session, actor, customer, "primary_phone", before, row.phone, subject="phone",
        subject_id=row.id,
    )  # fmt: skip


def set_primary_phone(
    session: Session, actor: Actor, customer_id: Any, *, phone_id: Any
) -> Customer:
    customer = editable_customer(session, actor, customer_id)
    _make_primary_phone(session, actor, customer, _phone_of(customer, phone_id))
    session.flush()
    return customer


def remove_phone(session: Session, actor: Actor, customer_id: Any, *, phone_id: Any) -> Customer:
    """Remove a phone; the last one stays (a customer is found by phone), and when the
    primary goes, the next one becomes primary."""
    customer = editable_customer(session, actor, customer_id)
    row = _phone_of(customer, phone_id)
    if len(customer.phones) == 1:
        raise InvalidInput("a customer keeps at least one phone", {"phone": "last"})
    was_primary = row.is_primary
    customer.phones.remove(row)
    _record(session, actor, customer, "phone", row.phone, None, subject="phone", subject_id=row.id)
    if was_primary:
        _make_primary_phone(session, actor, customer, customer.phones[0])
    session.flush()
    return customer


# --- addresses --------------------------------------------------------------------------------


def _address_of(customer: Customer, address_id: Any) -> CustomerAddress:
    for address in customer.addresses:
        if address.id == address_id:
            return address
    raise NotFound(f"customer {customer.id} has no address {address_id}")


def _address_values(values: Any, *, partial: bool) -> dict[str, str]:
    if not isinstance(values, dict):
        raise InvalidInput("an address is an object", {"address": "invalid"})
    unknown = sorted(set(values) - set(ADDRESS_FIELDS))
    if unknown:
        raise InvalidInput("unknown address fields", dict.fromkeys(unknown, "unknown"))
    out, errors = {}, {}
    for key, size in ADDRESS_FIELDS.items():
        if key not in values:
            if not partial and key != "street":
                errors[key] = "required"
            continue
        text = str(values[key] or "").strip()
        if key != "street" and not text:
            errors[key] = "required"
        elif len(text) > size:
            errors[key] = "too long"
        out[key] = text
    if errors:
        raise InvalidInput("an address needs province, city and district", errors)
    return out


def _address_text(values: dict[str, str]) -> str:
    return "".join(values.get(k, "") for k in ADDRESS_FIELDS)


def add_address(
    session: Session,
    actor: Actor,
    customer_id: Any,
    *,
    address: dict[str, Any],
    primary: bool = False,
) -> Customer:
    customer = editable_customer(session, actor, customer_id)
    values = _address_values(address, partial=False)
    row = CustomerAddress(**{"street": "", **values}, is_primary=False)
    customer.addresses.append(row)
    session.flush()
    _record(
        session, actor, customer, "address", None, row.text, subject="address", subject_id=row.id
    )
    if primary or len(customer.addresses) == 1:
        _make_primary_address(session, actor, customer, row)
    session.flush()
    return customer


def update_address(
    session: Session, actor: Actor, customer_id: Any, *, address_id: Any, address: dict[str, Any]
) -> Customer:
    """Change the fields given; the stored coordinates go when the place changes."""
    customer = editable_customer(session, actor, customer_id)
    row = _address_of(customer, address_id)
    values = _address_values(address, partial=True)
    before = row.text
    for key, value in values.items():
        setattr(row, key, value)
    if row.text != before:
        row.latitude = row.longitude = None  # learnt for the old place
    _record(
        session, actor, customer, "address", before, row.text, subject="address", subject_id=row.id
    )
    session.flush()
    return customer


def _make_primary_address(
    session: Session, actor: Actor, customer: Customer, row: CustomerAddress
) -> None:
    before = next((a.text for a in customer.addresses if a.is_primary), None)
    _primary(customer.addresses, row)
    _record(
        session, actor, customer, "primary_address", before, row.text, subject="address",
        subject_id=row.id,
    )  # fmt: skip


def set_primary_address(
    session: Session, actor: Actor, customer_id: Any, *, address_id: Any
) -> Customer:
    customer = editable_customer(session, actor, customer_id)
    _make_primary_address(session, actor, customer, _address_of(customer, address_id))
    session.flush()
    return customer


def remove_address(
    session: Session, actor: Actor, customer_id: Any, *, address_id: Any
) -> Customer:
    """Remove an address; products installed there keep no address, and when the primary
    goes the next one becomes primary."""
    customer = editable_customer(session, actor, customer_id)
    row = _address_of(customer, address_id)
    was_primary = row.is_primary
    session.execute(
        sa.update(InstalledProduct)
        .where(InstalledProduct.address_id == row.id)
        .values(address_id=None)
    )
    customer.addresses.remove(row)
    _record(
        session, actor, customer, "address", row.text, None, subject="address", subject_id=row.id
    )
    if was_primary and customer.addresses:
        _make_primary_address(session, actor, customer, customer.addresses[0])
    session.flush()
    return customer


# --- products ---------------------------------------------------------------------------------


def _product_of(customer: Customer, product_id: Any) -> InstalledProduct:
    for product in customer.products:
        if product.id == product_id:
            return product
    raise NotFound(f"customer {customer.id} has no product {product_id}")


def update_product(
    session: Session,
    actor: Actor,
    customer_id: Any,
    *,
    product_id: Any,
    changes: dict[str, Any],
    today: date | None = None,
) -> InstalledProduct:
    """Change a product's model, serial, purchase or installation date (``changes`` holds
    only those given; an empty date clears it). The warranty end follows the model and the
    dates; a product whose warranty was unknown stays so while only its model changes."""
    today = today or date.today()
    customer = editable_customer(session, actor, customer_id)
    product = _product_of(customer, product_id)
    changes = _only(changes, PRODUCT_FIELDS)
    model, serial = product.model, product.serial
    if "model" in changes:
        code = str(changes["model"] or "").strip()
        model = session.scalar(sa.select(ProductModel).where(ProductModel.code == code))
        if model is None:
            raise InvalidInput("no such product model", {"model": "unknown"})
    if "serial" in changes:
        serial = str(changes["serial"] or "").strip()
        if not serial or len(serial) > 40:
            raise InvalidInput("a serial has 1 to 40 characters", {"serial": "invalid"})
        taken = session.scalar(
            sa.select(InstalledProduct.id).where(
                InstalledProduct.serial == serial, InstalledProduct.id != product.id
            )
        )
        if taken is not None:
            raise InvalidInput("another product has this serial", {"serial": "taken"})
    purchase, install = product.purchase_date, product.install_date
    if "purchase_date" in changes:
        purchase = parse_date(changes["purchase_date"], "purchase_date", today=today)
    if "install_date" in changes:
        install = parse_date(changes["install_date"], "install_date", today=today)
    if purchase and install and install < purchase:
        raise InvalidInput("installed before it was bought", {"install_date": "before purchase"})
    dates_changed = (purchase, install) != (product.purchase_date, product.install_date)
    end = product.warranty_end
    if dates_changed or (model is not product.model and end is not None):
        end = warranty_end(model, purchase, install)
    record = {
        "model": (product.model.code, model.code),
        "serial": (product.serial, serial),
        "purchase_date": (product.purchase_date, purchase),
        "install_date": (product.install_date, install),
        "warranty_end": (product.warranty_end, end),
    }
    for field, (old, new) in record.items():
        _record(
            session, actor, customer, field, _iso(old), _iso(new), subject="product",
            subject_id=product.id,
        )  # fmt: skip
    product.model, product.serial = model, serial
    product.purchase_date, product.install_date, product.warranty_end = purchase, install, end
    session.flush()
    return product


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def history(session: Session, customer: Customer, limit: int = HISTORY) -> list[CustomerChange]:
    """The customer's changes, newest first (the customer page; the caller checked scope)."""
    return list(
        session.scalars(
            sa.select(CustomerChange)
            .where(CustomerChange.customer_id == customer.id)
            .order_by(CustomerChange.id.desc())
            .limit(limit)
        )
    )


def change_view(change: CustomerChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "subject": change.subject,
        "subject_id": change.subject_id,
        "field": change.field,
        "old": change.old_value,
        "new": change.new_value,
        "by": change.changed_by,
        "at": change.changed_at.isoformat() + "Z",
    }
