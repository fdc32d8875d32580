"""Editing a customer and their products (the call center: agents, team leads, admins).

The edit page holds one small form per thing: name and member level, each phone, each
address, each product. Each post calls one function of ``aftersales.customers.editing``,
which finds the customer in the user's scope (404 otherwise) and writes the change history;
a refused change answers 422 with the page again and changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aftersales.customers import editing
from aftersales.customers import service as caller
from aftersales.customers.models import MEMBER_LEVELS

from ..extensions import db
from ..times import local_today
from . import bp
from .call_pages import ADDRESS_FIELDS, PHONE_ERRORS, level_labels

ERRORS = {
    "name": lambda: _("Enter a name of at most 80 characters."),
    "member_level": lambda: _("Choose a member level."),
    "phone": lambda: _("Enter a mobile number (11 digits) or an area code and number."),
    "province": lambda: _("Required."),
    "city": lambda: _("Required."),
    "district": lambda: _("Required."),
    "street": lambda: _("At most 200 characters."),
    "model": lambda: _("There is no product model with that code."),
    "serial": lambda: _("Enter a serial number that no other product has."),
    "purchase_date": lambda: _("Enter a date that is not in the future."),
    "install_date": lambda: _("Enter a date that is not in the future and not before purchase."),
}
SPECIAL = {
    ("phone", "duplicate"): lambda: _("The customer has this phone already."),
    ("phone", "last"): lambda: _("A customer keeps at least one phone."),
}


def field_labels() -> dict[str, str]:
    """What the history calls each field."""
    return {
        "name": _("Customer name"),
        "member_level": _("Member level"),
        "phone": _("Phone"),
        "primary_phone": _("Primary phone"),
        "address": _("Address"),
        "primary_address": _("Primary address"),
        "model": _("Product model"),
        "serial": _("Serial number"),
        "purchase_date": _("Purchase date"),
        "install_date": _("Installation date"),
        "warranty_end": _("Warranty until"),
    }


def _messages(details: Any) -> dict[str, str]:
    out = {}
    for key, code in (details if isinstance(details, dict) else {}).items():
        special = SPECIAL.get((key, code))
        if special is not None:
            out[key] = special()
        elif key == "phone" and code in PHONE_ERRORS:
            out[key] = PHONE_ERRORS[code]()
        else:
            out[key] = ERRORS.get(key, lambda: _("Invalid."))()
    return out


def _view(customer_id: int) -> dict[str, Any]:
    customer = editing.editable_customer(db.session, current_user.actor, customer_id)
    view = caller.customer_view(customer, [], local_today())
    view["phones"] = [
        {"id": p.id, "phone": p.phone, "kind": p.kind, "primary": p.is_primary}
        for p in customer.phones
    ]
    return view


def render_edit(customer_id: int, *, section: str = "", errors: dict | None = None, status=200):  # noqa: ANN001, ANN201
    return render_template(
        "customers/edit.html",
        c=_view(customer_id),
        levels=MEMBER_LEVELS,
        level_labels=level_labels(),
        section=section,
        errors=errors or {},
        values=request.form if errors else {},
    ), status


@bp.get("/customers/<int:customer_id>/edit")
def customer_edit(customer_id: int):  # noqa: ANN201
    return render_edit(customer_id)


def _apply(customer_id: int, section: str, change):  # noqa: ANN001, ANN202
    """Run one edit; on refusal roll back and show the page again with the errors."""
    from engine.errors import InvalidInput

    try:
        change()
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        flash(_("Please correct the marked fields."), "error")
        return render_edit(customer_id, section=section, errors=_messages(exc.details), status=422)
    flash(_("The changes were saved."), "success")
    return redirect(url_for("ui.customer_edit", customer_id=customer_id, _anchor=section))


def _posted(*names: str) -> dict[str, str]:
    return {n: (request.form.get(n) or "").strip()[:200] for n in names if n in request.form}


@bp.post("/customers/<int:customer_id>/edit")
def customer_save(customer_id: int):  # noqa: ANN201
    changes = _posted("name", "member_level")
    return _apply(
        customer_id,
        "basics",
        lambda: editing.update_customer(
            db.session, current_user.actor, customer_id, changes=changes
        ),
    )


@bp.post("/customers/<int:customer_id>/phones")
def customer_phone(customer_id: int):  # noqa: ANN201
    """``action``: add (``phone``, ``primary``), primary or remove (``phone_id``)."""
    actor, action = current_user.actor, request.form.get("action", "add")
    phone_id = request.form.get("phone_id", type=int)
    if action == "remove":
        change = lambda: editing.remove_phone(db.session, actor, customer_id, phone_id=phone_id)  # noqa: E731
    elif action == "primary":
        change = lambda: editing.set_primary_phone(  # noqa: E731
            db.session, actor, customer_id, phone_id=phone_id
        )
    else:
        phone = (request.form.get("phone") or "")[:40]
        primary = request.form.get("primary") == "on"
        change = lambda: editing.add_phone(  # noqa: E731
            db.session, actor, customer_id, phone=phone, primary=primary
        )
    return _apply(customer_id, "phones", change)


@bp.post("/customers/<int:customer_id>/addresses")
def customer_address(customer_id: int):  # noqa: ANN201
    """``action``: add or save (the address fields), primary or remove (``address_id``)."""
    actor, action = current_user.actor, request.form.get("action", "add")
    address_id = request.form.get("address_id", type=int)
    values = _posted(*ADDRESS_FIELDS)
    if action == "remove":
        change = lambda: editing.remove_address(  # noqa: E731
            db.session, actor, customer_id, address_id=address_id
        )
    elif action == "primary":
        change = lambda: editing.set_primary_address(  # noqa: E731
            db.session, actor, customer_id, address_id=address_id
        )
    elif action == "save":
        change = lambda: editing.update_address(  # noqa: E731
            db.session, actor, customer_id, address_id=address_id, address=values
        )
    else:
        primary = request.form.get("primary") == "on"
        change = lambda: editing.add_address(  # noqa: E731
            db.session, actor, customer_id, address=values, primary=primary
        )
    return _apply(customer_id, "addresses", change)


@bp.post("/customers/<int:customer_id>/products/<int:product_id>")
def customer_product(customer_id: int, product_id: int):  # noqa: ANN201
    changes = _posted(*editing.PRODUCT_FIELDS)
    return _apply(
        customer_id,
        f"product-{product_id}",
        lambda: editing.update_product(
            db.session,
            current_user.actor,
            customer_id,
            product_id=product_id,
            changes=changes,
            today=local_today(),
        ),
    )
