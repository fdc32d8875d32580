"""The call-center pages: an incoming call (caller lookup by phone or barcode, a new caller,
a new request with knowledge-base suggestions), a customer, and a service order.

Customers follow scope (``aftersales.customers``): the call center and HQ read every
customer, a center or an outlet those with an order in its scope, and an outlet's hotline
finds a caller by the exact phone number. The orders listed with a customer are those whose
process the signed-in user may see, so every order link opens.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aftersales.customers import editing, phones
from aftersales.customers import service as caller
from aftersales.customers.models import Customer
from aftersales.knowledge.models import KbArticle
from aftersales.orders import types as service_types
from aftersales.orders.case import case_of
from aftersales.orders.models import ServiceOrder
from aftersales.orders.service import create_order, get_order
from engine.errors import Forbidden, InvalidInput
from engine.models import ProcessInstance

from ..extensions import db
from ..i18n import current_locale
from ..models import Attachment
from ..times import local_today
from ..uploads import stage_photo
from . import bp
from .case_view import attachments_of, shown_steps
from .request_forms import posted_start_data, start_blocks
from .service_types import deployable, openable, order_steps, status_labels, type_labels

INCOMING_ORDERS = 50  # orders shown per caller on the incoming page; the rest on the customer page
PER_PAGE = 20
ADDRESS_FIELDS = ("province", "city", "district", "street")
QUERY_MAX = 40


def level_labels() -> dict[str, str]:
    return {
        "none": _("Regular"),
        "silver": _("Silver"),
        "gold": _("Gold"),
        "platinum": _("Platinum"),
    }


def _labels() -> dict[str, Any]:
    return {
        "types": type_labels(db.session),
        "statuses": status_labels(db.session),
        "levels": level_labels(),
    }


def deployed_types() -> list[str]:
    """The keys of the types the user may open, in the order agents pick them."""
    return [t.key for t in openable(db.session, current_user.actor)]


def _starts(
    chosen: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> list[dict]:
    return start_blocks(
        db.session,
        openable(db.session, current_user.actor),
        current_locale(),
        chosen,
        values,
        errors,
    )


def known_type(key: str) -> bool:
    """A type that exists and whose process is deployed; whether the user may open it is
    the command's to say (403), not a field error."""
    return key in {t.key for t in deployable(db.session)}


def _visible_orders(customer_ids: list[int]) -> sa.Select:
    return caller.orders_query(current_user.actor, customer_ids)


def _order_counts(customer_ids: list[int]) -> dict[int, tuple[int, int]]:
    """customer id -> (orders, open orders) the user may see."""
    if not customer_ids:
        return {}
    opened = sa.func.sum(sa.case((ServiceOrder.is_open, 1), else_=0))
    query = (
        _visible_orders(customer_ids)
        .with_only_columns(ServiceOrder.customer_id, sa.func.count(), opened)
        .group_by(ServiceOrder.customer_id)
    )
    counts = {cid: (0, 0) for cid in customer_ids}
    for cid, total, open_count in db.session.execute(query):
        counts[cid] = (int(total), int(open_count or 0))
    return counts


def _recent_orders(customer_ids: list[int], limit: int) -> dict[int, list[ServiceOrder]]:
    out: dict[int, list[ServiceOrder]] = {cid: [] for cid in customer_ids}
    if not customer_ids:
        return out
    rows = db.session.scalars(
        _visible_orders(customer_ids).order_by(
            ServiceOrder.customer_id, ServiceOrder.created_at.desc(), ServiceOrder.id.desc()
        )
    )
    for row in rows:
        if len(out[row.customer_id]) < limit:
            out[row.customer_id].append(row)
    return out


def _callers(found: list[Customer]) -> list[dict[str, Any]]:
    """The view of each customer with the orders the user may see and their counts."""
    ids = [c.id for c in found]
    orders = _recent_orders(ids, INCOMING_ORDERS)
    counts = _order_counts(ids)
    readable = caller.visible_among(db.session, current_user.actor, ids)
    today = local_today()
    views = []
    for customer in found:
        view = caller.customer_view(customer, orders[customer.id], today)
        view["order_total"], view["open_orders"] = counts[customer.id]
        view["readable"] = customer.id in readable  # its page opens for the user
        views.append(view)
    return views


def _clean(value: str | None, size: int = QUERY_MAX) -> str:
    return (value or "").strip()[:size]


def render_incoming(
    *,
    phone: str = "",
    serial: str = "",
    found: list[Customer] | None = None,
    new_customer: dict[str, str] | None = None,
    customer_errors: dict[str, str] | None = None,
    request_for: int | None = None,
    request_values: dict[str, str] | None = None,
    request_errors: dict[str, str] | None = None,
    request_starts: list[dict] | None = None,
    status: int = 200,
):  # noqa: ANN201
    """The incoming-call page; ``found`` overrides the lookup (a re-rendered request form)."""
    actor = current_user.actor
    unknown_serial = False
    if found is None:
        found = []
        if serial:
            owner = caller.customer_with_serial(db.session, actor, serial)
            found = [owner] if owner is not None else []
            unknown_serial = owner is None
        elif phone:
            found = caller.customers_with_phone(db.session, actor, phone)
    registers = caller.may_register(actor)
    with_order = not registers and caller.may_register(actor, with_order=True)
    show_new = bool(phone) and not serial and not found and (registers or with_order)
    if new_customer is None:
        new_customer = {"name": "", "phone": caller.normalize_phone(phone)}
        new_customer.update({k: "" for k in ADDRESS_FIELDS})
    return render_template(
        "calls/incoming.html",
        phone=phone,
        serial=serial,
        callers=_callers(found),
        unknown_serial=unknown_serial,
        show_new=show_new,
        register_with_order=with_order,
        new_customer=new_customer,
        customer_errors=customer_errors or {},
        request_for=request_for,
        request_values=request_values or {},
        request_errors=request_errors or {},
        types=deployed_types(),
        starts=_starts(),
        request_starts=request_starts,
        labels=_labels(),
    ), status


@bp.get("/calls/incoming")
def incoming_call():  # noqa: ANN201
    phone = _clean(request.args.get("phone"))
    serial = _clean(request.args.get("serial"))
    return render_incoming(phone=phone, serial=serial)


PHONE_ERRORS = {
    "empty": lambda: _("Required."),
    "characters": lambda: _(
        "A phone number is written in digits; spaces, dashes, brackets and +86 may stand "
        "between them."
    ),
    "too_short": lambda: _(
        "This number is too short: a mobile number has 11 digits, a landline its area code "
        "and 7 or 8 digits."
    ),
    "too_long": lambda: _(
        "This number is too long: a mobile number has 11 digits, a landline its area code "
        "and 7 or 8 digits."
    ),
    "unknown": lambda: _("Enter a mobile number (11 digits) or an area code and number."),
}


def _customer_errors(values: dict[str, str]) -> dict[str, str]:
    """Every problem of a new caller at once (create_customer stops at the first)."""
    errors = {}
    if not values["name"] or len(values["name"]) > 80:
        errors["name"] = _("Enter a name of at most 80 characters.")
    try:
        phones.normalize(values["phone"])
    except phones.InvalidPhone as exc:
        errors["phone"] = PHONE_ERRORS.get(exc.reason, PHONE_ERRORS["unknown"])()
    for key in ("province", "city", "district"):
        if not values[key]:
            errors[key] = _("Required.")
    return errors


@bp.post("/calls/customers")
def new_caller():  # noqa: ANN201
    """Register a new caller: the call center at any time; an outlet's hotline only with the
    order it opens for them (``aftersales.customers.may_register``); anyone else gets 403."""
    actor = current_user.actor
    if not caller.may_register(actor):
        if caller.may_register(actor, with_order=True):
            return _new_caller_with_order()
        raise Forbidden("only the call center registers customers")
    values = {k: _clean(request.form.get(k), 200) for k in ("name", "phone", *ADDRESS_FIELDS)}
    errors = _customer_errors(values)
    if not errors:
        try:
            customer = caller.register_customer(
                db.session,
                actor,
                name=values["name"],
                phone=values["phone"],
                address={k: values[k] for k in ADDRESS_FIELDS},
            )
            db.session.commit()
        except InvalidInput as exc:
            db.session.rollback()
            errors = _field_errors(exc) or {"": _("Please correct the marked fields.")}
    if errors:
        return _new_caller_again(values, errors)
    flash(_("Customer %(name)s was created.", name=customer.name), "success")
    phone = customer.phones[0].phone
    return redirect(url_for("ui.incoming_call", phone=phone))


def _field_errors(exc: InvalidInput) -> dict[str, str]:
    details = exc.details if isinstance(exc.details, dict) else {}
    out = {}
    for key in details:
        name = key.removeprefix("address.")
        if name in REQUEST_ERRORS:
            out[name] = REQUEST_ERRORS[name]()
        elif name in ("name", "phone", *ADDRESS_FIELDS):
            out[name] = _("Invalid.")
    return out


def _new_caller_again(values: dict[str, str], errors: dict[str, str]):  # noqa: ANN202
    flash(_("Please correct the marked fields."), "error")
    return render_incoming(
        phone=_clean(request.form.get("lookup_phone")) or values["phone"][:QUERY_MAX],
        found=[],
        new_customer=values,
        customer_errors=errors,
        status=422,
    )


def _new_caller_with_order():  # noqa: ANN202
    """An outlet's hotline: the new caller and their order in one command, so the customer
    is in the outlet's scope from the start and nothing is kept when either is refused."""
    form = request.form
    values = {k: _clean(form.get(k), 200) for k in ("name", "phone", *ADDRESS_FIELDS)}
    values.update(type=(form.get("type") or "").strip(), description=form.get("description") or "")
    errors = _customer_errors(values)
    if not known_type(values["type"]):
        errors["type"] = REQUEST_ERRORS["type"]()
    if not errors:
        body = {
            "type": values["type"],
            "customer": {
                "name": values["name"],
                "phone": values["phone"],
                "address": {k: values[k] for k in ADDRESS_FIELDS},
            },
            "description": values["description"].strip(),
        }
        try:
            order = create_order(db.session, current_user.actor, body)
        except InvalidInput as exc:
            db.session.rollback()
            errors = _field_errors(exc) or {
                "": _("The request could not be created: %(reason)s", reason=str(exc))
            }
        else:
            flash(_("Order %(number)s was created.", number=order.number), "success")
            return redirect(url_for("ui.order_page", number=order.number))
    return _new_caller_again(values, errors)


REQUEST_ERRORS = {
    "type": lambda: _("Choose the type of request."),
    "customer_id": lambda: _("This customer does not exist."),
    "customer": lambda: _("This customer does not exist."),
    "serial": lambda: _("This customer owns no product with that barcode."),
    "model": lambda: _("There is no product model with that code."),
    "purchase_date": lambda: _("Enter a purchase date that is not in the future."),
    "invoice_number": lambda: _("An invoice number has at most 40 characters."),
    "invoice_photo": lambda: _("Only JPEG, PNG and WebP photos of at most 8 MB are accepted."),
    "description": lambda: _("The description has at most 4000 characters."),
}


REQUEST_FIELDS = (
    "type",
    "serial",
    "model",
    "description",
    "new_serial",
    "purchase_date",
    "invoice_number",
)


def _request_errors(exc: InvalidInput, new_product: bool) -> dict[str, str]:
    details = exc.details if isinstance(exc.details, dict) else {}
    errors = {}
    for key in details:
        if key == "serial" and new_product:
            errors["new_serial"] = _("This serial number belongs to another customer.")
        elif key == "model" and details[key] == "required" and not new_product:
            errors["serial"] = REQUEST_ERRORS["serial"]()  # not one of theirs
        elif key == "model" and details[key] == "required":
            errors["model"] = _("A new product needs its model code.")
        elif key in REQUEST_ERRORS:
            errors[key] = REQUEST_ERRORS[key]()
    return errors


def _invoice_photo() -> str | None:
    """The invoice photo posted with a new product, staged in the order's transaction; the
    order's instance is linked to it once it exists, so it is seen with the order."""
    upload = request.files.get("invoice_photo")
    if upload is None or not upload.filename:
        return None
    actor = current_user.actor
    try:
        return stage_photo(db.session, upload, actor.username, None, actor.scope or "")
    except InvalidInput as exc:
        raise InvalidInput(str(exc), {"invoice_photo": "invalid"}) from None


@bp.post("/calls/orders")
def new_request():  # noqa: ANN201
    form = request.form
    values = {k: (form.get(k) or "").strip() for k in REQUEST_FIELDS}
    lookup_phone = _clean(form.get("lookup_phone"))
    customer = caller.order_customer(
        db.session, current_user.actor, form.get("customer_id", type=int), lookup_phone
    )
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    start_errors: dict[str, list[str]] = {}
    new_product = not values["serial"] and bool(values["new_serial"])
    if not known_type(values["type"]):
        errors["type"] = REQUEST_ERRORS["type"]()
    else:
        spec = service_types.get_type(db.session, values["type"])
        data, extra = posted_start_data(db.session, spec, form, current_locale())
        if extra:  # not a post of this page: refuse it, keep nothing
            start_errors = {name: [_("This field is not part of the form.")] for name in extra}
            errors[""] = _("Not part of this form: %(names)s", names=", ".join(extra))
        else:
            body = {
                "type": values["type"],
                "customer_id": customer.id,
                "serial": (values["serial"] or values["new_serial"])[:QUERY_MAX],
                "model": values["model"][:QUERY_MAX],
                "description": values["description"],
                "caller_phone": lookup_phone,
                "data": data,
            }
            if new_product:
                body.update(
                    purchase_date=values["purchase_date"][:10],
                    invoice_number=values["invoice_number"][:QUERY_MAX],
                )
            try:
                if new_product:
                    body["invoice_photo_id"] = _invoice_photo()
                order = create_order(db.session, current_user.actor, body)
            except InvalidInput as exc:
                db.session.rollback()
                details = exc.details if isinstance(exc.details, dict) else {}
                errors = _request_errors(exc, new_product)
                start_errors = {k: v for k, v in details.items() if isinstance(v, list)}
                if not errors and not start_errors:
                    errors[""] = _("The request could not be created: %(reason)s", reason=str(exc))
            else:
                if body.get("invoice_photo_id"):
                    photo = db.session.get(Attachment, body["invoice_photo_id"])
                    photo.instance_id = order.process_instance_id
                    db.session.commit()
                flash(_("Order %(number)s was created.", number=order.number), "success")
                return redirect(url_for("ui.order_page", number=order.number))
    flash(_("Please correct the marked fields."), "error")
    customer = caller.order_customer(db.session, current_user.actor, customer.id, lookup_phone)
    return render_incoming(
        phone=lookup_phone,
        serial=_clean(form.get("lookup_serial")),
        found=[customer],
        request_for=customer.id,
        request_values=values,
        request_errors=errors,
        request_starts=_starts(values["type"], data, start_errors),
        status=422,
    )


@bp.get("/customers/<int:customer_id>")
def customer_page(customer_id: int):  # noqa: ANN201
    customer = caller.get_customer(db.session, current_user.actor, customer_id)
    view = _callers([customer])[0]
    total = view["order_total"]
    page = max(1, request.args.get("page", 1, type=int))
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    orders = db.session.scalars(
        _visible_orders([customer.id])
        .order_by(ServiceOrder.created_at.desc(), ServiceOrder.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    view["orders"] = [caller.order_view(o) for o in orders]
    from .customer_pages import field_labels

    return render_template(
        "customers/customer.html",
        c=view,
        changes=[editing.change_view(c) for c in editing.history(db.session, customer)],
        field_labels=field_labels(),
        may_edit=editing.may_edit(current_user.actor),
        page=page,
        per_page=PER_PAGE,
        total=total,
        types=deployed_types(),
        starts=_starts(),
        labels=_labels(),
    )


@bp.get("/orders/<number>")
def order_page(number: str):  # noqa: ANN201
    order = get_order(db.session, current_user.actor, number[:24])
    instance = (
        db.session.get(ProcessInstance, order.process_instance_id)
        if order.process_instance_id
        else None
    )
    customer = _callers([order.customer])[0] if order.customer is not None else None
    product = caller.product_view(order.product, local_today()) if order.product else None
    article = db.session.get(KbArticle, order.kb_article_id) if order.kb_article_id else None
    case = case_of(db.session, current_user.actor, order)
    steps = [s.key for s in order_steps(case.spec, order.status)]  # the order's type version
    step = steps.index(order.status) if order.status in steps else -1
    return render_template(
        "orders/order.html",
        order=order,
        instance=instance,
        customer=customer,
        product=product,
        article=article,
        case=case,
        shown=shown_steps(db.session, case, current_locale()),
        attachments=attachments_of(db.session, order.process_instance_id),
        history=case.timeline,
        names=case.names,
        tasks=case.open_tasks,
        steps=steps,
        step=step,
        is_open=order.is_open,
        labels=_labels(),
    )
