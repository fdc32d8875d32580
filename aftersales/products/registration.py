"""A request for a product not yet registered registers it (brochure, 服务请求: "产生服务请求后,
该故障产品将会自动保存为安装记录").

When an order is opened with a serial no product has yet, the product is created for the
order's customer from what the caller says: its model (required), the purchase date, and the
proof of purchase, an invoice number and/or a photo of the invoice (``invoice_photo_id``, an
attachment the web layer stored with the request).

The warranty is known only when a date is proven: a purchase date together with an invoice
(number or photo). A product without a date, or with a date nothing proves, has an unknown
warranty (``warranty_end`` None, ``InstalledProduct.in_warranty`` None), and its order is
never charged as out of warranty until a person decides (the repair process's
``decide_warranty`` step, or the agent's phone support form).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.customers.models import Customer
from aftersales.products.models import InstalledProduct, ProductModel
from aftersales.products.service import warranty_end
from engine.errors import InvalidInput

SERIAL_MAX = 40
INVOICE_MAX = 40


def parse_date(value: Any, field: str, *, today: date) -> date | None:
    """An ISO date (``2024-05-01``) no later than ``today``, or None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        found = value
    else:
        try:
            found = date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput(f"{field} is a date like 2024-05-01", {field: "invalid"}) from None
    if found > today:
        raise InvalidInput(f"{field} lies in the future", {field: "future"})
    return found


def proven_warranty_end(
    model: ProductModel, purchase: date | None, install: date | None, *, proven: bool
) -> date | None:
    """The warranty end when its start is proven (an invoice, an installation record, the
    enterprise's own system), else None: unknown."""
    if not proven:
        return None
    return warranty_end(model, purchase, install)


def register_for_request(
    session: Session,
    customer: Customer | None,
    serial: str,
    body: dict[str, Any],
    *,
    today: date | None = None,
) -> tuple[InstalledProduct, ProductModel]:
    """The product ``serial`` names, registered for ``customer`` from the request ``body``
    (``model``, ``purchase_date``, ``invoice_number``, ``invoice_photo_id``); InvalidInput
    on ``serial`` when it belongs to someone else or no customer is named, on the other
    fields when they are wrong."""
    today = today or date.today()
    serial = serial.strip()
    taken = session.scalar(sa.select(InstalledProduct).where(InstalledProduct.serial == serial))
    if taken is not None or customer is None:
        raise InvalidInput("no product with that serial for this customer", {"serial": "unknown"})
    if len(serial) > SERIAL_MAX:
        raise InvalidInput("a serial has at most 40 characters", {"serial": "too long"})
    code = str(body.get("model") or "").strip()
    if not code:
        raise InvalidInput(
            f"serial {serial} is not registered yet: a new product needs its model",
            {"model": "required"},
        )
    model = session.scalar(sa.select(ProductModel).where(ProductModel.code == code))
    if model is None:
        raise InvalidInput("no such product model", {"model": "unknown"})
    purchase = parse_date(body.get("purchase_date"), "purchase_date", today=today)
    invoice = str(body.get("invoice_number") or "").strip()
    if len(invoice) > INVOICE_MAX:
        raise InvalidInput(
            "an invoice number has at most 40 characters", {"invoice_number": "too long"}
        )
    photo = str(body.get("invoice_photo_id") or "").strip()[:36] or None
    address = customer.addresses[0].id if customer.addresses else None
    product = InstalledProduct(
        customer=customer,
        model=model,
        serial=serial,
        purchase_date=purchase,
        invoice_number=invoice or None,
        invoice_photo_id=photo,
        address_id=address,
        warranty_end=proven_warranty_end(
            model, purchase, None, proven=purchase is not None and bool(invoice or photo)
        ),
    )
    session.add(product)
    session.flush()
    return product, model
