"""Importing customers from the enterprise's existing systems: a CSV or Excel file of
customers, their phones and addresses, and the products they own.

All or nothing. A file is checked whole before anything is stored: every row, every column,
each problem listed with its row number (the header is row 1), its column and a code the page
words (``ERROR_CODES``). When any row is bad nothing is stored (``refused``). Otherwise every
customer, phone, address and product is stored in one transaction (``completed``); a
conflict found only then (a serial someone registered meanwhile) rolls it all back
(``failed``).

In the background, like migration batches (``engine.batches``): the upload stores the file
in a ``CustomerImport`` row and returns; a worker takes the row by a lease (an UPDATE that
succeeds for one worker only), checks the rows a chunk at a time writing its progress, and
stores. Embedded mode calls ``advance_imports`` from the web process's background thread
(``webapp/timers.py``); with Redis, Celery beat schedules it (``worker/tasks.py``).

The file: a header row, then one row per customer, or per product of a customer (rows with
the same member number are one customer). Headers in Chinese or English (``COLUMNS``):

| column | 列名 | |
|---|---|---|
| member_no | 会员编号 | optional; rows sharing one are one customer; unique |
| name | 姓名 | required, at most 80 characters |
| phone | 电话 | required; several split by ``;`` ``；`` ``、`` ``/``, the first primary |
| member_level | 会员等级 | none/silver/gold/platinum or 普通/银卡/金卡/白金; default none |
| province, city, district, street | 省, 市, 区县, 详细地址 | all of the first three or none |
| serial | 序列号 | optional; unique in the file and the database |
| model | 型号 | a product model code; required with a serial |
| purchase_date | 购买日期 | required with a serial: the enterprise's records prove it |
| install_date | 安装日期 | optional, not before the purchase |
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from aftersales.customers import phones as phone_rules
from aftersales.customers.models import (
    MEMBER_LEVELS,
    Customer,
    CustomerAddress,
    CustomerImport,
    CustomerPhone,
)
from aftersales.products.models import InstalledProduct, ProductModel
from aftersales.products.service import add_months
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity import Actor
from engine.models import utcnow

log = logging.getLogger(__name__)

IMPORT_ROLES = frozenset({"team_lead"})
MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
MAX_ERRORS = 500  # kept and shown; error_count counts them all
CHUNK = 5_000  # rows checked between progress writes
LEASE = timedelta(minutes=10)
FINAL = ("completed", "refused", "failed")

COLUMNS: dict[str, tuple[str, ...]] = {
    "member_no": ("member_no", "会员编号", "客户编号"),
    "name": ("name", "姓名", "客户姓名"),
    "phone": ("phone", "phones", "电话", "联系电话"),
    "member_level": ("member_level", "会员等级"),
    "province": ("province", "省", "省份"),
    "city": ("city", "市", "城市"),
    "district": ("district", "区县", "区"),
    "street": ("street", "详细地址", "地址"),
    "serial": ("serial", "序列号", "条码"),
    "model": ("model", "型号", "产品型号"),
    "purchase_date": ("purchase_date", "购买日期"),
    "install_date": ("install_date", "安装日期"),
}
REQUIRED_COLUMNS = ("name", "phone")
SIZES = {"member_no": 20, "name": 80, "province": 20, "city": 30, "district": 30, "street": 200}
LEVELS = {
    **{level: level for level in MEMBER_LEVELS},
    "普通": "none",
    "银卡": "silver",
    "金卡": "gold",
    "白金": "platinum",
    "": "none",
}
PHONE_SPLIT = re.compile(r"[;；、/,，]")
DATE_TEXT = re.compile(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})")

# the code of each problem, with the English the API gives (the page has its own words)
ERROR_CODES = {
    "empty_file": "the file has no rows under its header",
    "too_many_rows": f"a file has at most {MAX_ROWS} rows",
    "unreadable": "the file is neither a CSV (UTF-8 or GB18030) nor an Excel workbook",
    "missing_column": "the header lacks this column",
    "unknown_column": "the header names a column this import does not know",
    "duplicate_column": "the header names this column twice",
    "required": "required",
    "too_long": "too long",
    "phone_characters": "not a phone number: characters other than digits",
    "phone_too_short": "not a phone number: too short",
    "phone_too_long": "not a phone number: too long",
    "phone_unknown": "not a mobile number or an area code and number",
    "phone_empty": "required",
    "level_unknown": "one of none, silver, gold, platinum (普通, 银卡, 金卡, 白金)",
    "address_incomplete": "an address needs province, city and district",
    "date_invalid": "a date like 2024-05-01",
    "date_future": "a date in the future",
    "install_before_purchase": "installed before it was bought",
    "model_unknown": "no product model with this code",
    "serial_taken": "a product with this serial is registered already",
    "serial_repeated": "this serial is on an earlier row",
    "member_no_taken": "a customer with this member number exists already",
    "member_no_other_name": "an earlier row gives this member number another name",
}


def may_import(actor: Actor) -> bool:
    return actor.is_admin or bool(IMPORT_ROLES & actor.roles)


# --- starting and reading ---------------------------------------------------------------------


def start_import(
    session: Session, actor: Actor, *, file_name: str, content: bytes
) -> CustomerImport:
    """Keep the uploaded file for a worker to import; checks who and what, not the rows."""
    if not may_import(actor):
        raise Forbidden("only team leads and administrators import customers")
    name = (file_name or "").strip()[:255] or "customers.csv"
    if not name.lower().endswith((".csv", ".xlsx")):
        raise InvalidInput("import a .csv or .xlsx file", {"file": "type"})
    if not content:
        raise InvalidInput("the file is empty", {"file": "empty"})
    if len(content) > MAX_BYTES:
        raise InvalidInput("the file is larger than 64 MB", {"file": "too large"})
    job = CustomerImport(file_name=name, content=content, created_by=actor.username)
    session.add(job)
    session.flush()
    return job


def get_import(session: Session, actor: Actor, import_id: Any) -> CustomerImport:
    """An import the actor may watch (those who may import); else not found."""
    job = session.get(CustomerImport, import_id) if isinstance(import_id, int) else None
    if job is None or not may_import(actor):
        raise NotFound(f"import {import_id} not found")
    return job


def recent_imports(session: Session, limit: int = 20) -> list[CustomerImport]:
    return list(
        session.scalars(sa.select(CustomerImport).order_by(CustomerImport.id.desc()).limit(limit))
    )


def percent(job: CustomerImport) -> int:
    """How far the import is: checking is most of the work, storing the last tenth."""
    if job.status in FINAL:
        return 100
    if not job.total_rows:
        return 0
    checked = 90 * job.checked_rows // job.total_rows
    return checked if job.status != "storing" else 95


def import_view(job: CustomerImport) -> dict[str, Any]:
    return {
        "id": job.id,
        "file_name": job.file_name,
        "status": job.status,
        "total_rows": job.total_rows,
        "checked_rows": job.checked_rows,
        "percent": percent(job),
        "customers": job.customers,
        "products": job.products,
        "error_count": job.error_count,
        "errors": [
            {"row": e["row"], "column": e["column"], "message": ERROR_CODES.get(e["code"], "")}
            for e in job.errors or []
        ],
        "message": job.message,
        "created_by": job.created_by,
        "created": job.created_at.isoformat() + "Z",
        "finished": job.finished_at.isoformat() + "Z" if job.finished_at else None,
    }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number Excel kept as a number
    return str(value).strip()


def read_table(file_name: str, content: bytes) -> list[list[Any]]:
    """The file's rows (the header first) as lists of cells; raises ValueError when unreadable."""
    if file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
            raise ValueError("not an Excel workbook") from exc
        try:
            sheet = book.worksheets[0]
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError("not UTF-8 or GB18030 text")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


# --- checking -----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the rows say, checked: the customers to store, in file order."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    by_member_no: dict[str, dict[str, Any]] = field(default_factory=dict)
    serial_rows: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    products: int = 0

    def error(self, row: int, column: str, code: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "column": column, "code": code})


def _header(row: list[Any], plan: Plan) -> dict[str, int] | None:
    aliases = {alias.lower(): key for key, names in COLUMNS.items() for alias in names}
    positions: dict[str, int] = {}
    for index, raw in enumerate(row):
        name = str(raw or "").strip().lstrip("\ufeff")
        if not name:
            continue
        key = aliases.get(name.lower())
        if key is None:
            plan.error(1, name[:40], "unknown_column")
        elif key in positions:
            plan.error(1, key, "duplicate_column")
        else:
            positions[key] = index
    for key in REQUIRED_COLUMNS:
        if key not in positions:
            plan.error(1, key, "missing_column")
    return positions if not plan.error_count else None


@functools.lru_cache(maxsize=8192)
def _date_of(text: str) -> date | None:
    """``2024-05-01``, ``2024/5/1``, ``2024.5.1`` or ``20240501`` (files repeat dates a lot)."""
    match = DATE_TEXT.fullmatch(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _date(value: Any, today: date) -> tuple[date | None, str | None]:
    if value in ("", None):
        return None, None
    found = value if isinstance(value, date) else _date_of(str(value))
    if found is None:
        return None, "date_invalid"
    if found > today:
        return None, "date_future"
    return found, None


def check_row(
    number: int,
    values: dict[str, Any],
    plan: Plan,
    models: dict[str, ProductModel],
    today: date,
) -> None:
    """Check one row into ``plan``: its problems, or the customer, phones, address and
    product it adds."""
    before = plan.error_count
    text = {k: v if isinstance(v, date) else str(v or "").strip() for k, v in values.items()}
    for key, size in SIZES.items():
        if len(str(text.get(key, ""))) > size:
            plan.error(number, key, "too_long")
    name = text.get("name", "")
    if not name:
        plan.error(number, "name", "required")
    numbers = []
    raw_phones = [p for p in PHONE_SPLIT.split(str(text.get("phone", ""))) if p.strip()]
    if not raw_phones:
        plan.error(number, "phone", "required")
    for raw in raw_phones:
        try:
            numbers.append(phone_rules.normalize(raw))
        except phone_rules.InvalidPhone as exc:
            plan.error(number, "phone", f"phone_{exc.reason}")
    level = LEVELS.get(str(text.get("member_level", "")).strip().lower())
    if level is None:
        plan.error(number, "member_level", "level_unknown")
    parts = {k: str(text.get(k, "")) for k in ("province", "city", "district", "street")}
    address = None
    if any(parts.values()):
        missing = [k for k in ("province", "city", "district") if not parts[k]]
        for key in missing:
            plan.error(number, key, "address_incomplete")
        address = parts
    product = _product(number, text, plan, models, today)
    member_no = str(text.get("member_no", ""))
    existing = plan.by_member_no.get(member_no) if member_no else None
    if existing is not None and existing["name"] != name:
        plan.error(number, "name", "member_no_other_name")
    if plan.error_count > before:
        return
    customer = existing
    if customer is None:
        customer = {
            "row": number,
            "name": name,
            "member_no": member_no or None,
            "member_level": level,
            "phones": [],
            "addresses": [],
            "products": [],
        }
        plan.customers.append(customer)
        if member_no:
            plan.by_member_no[member_no] = customer
    for phone in numbers:
        if phone not in customer["phones"]:
            customer["phones"].append(phone)
    address_index = None
    if address is not None:
        if address not in customer["addresses"]:
            customer["addresses"].append(address)
        address_index = customer["addresses"].index(address)
    if product is not None:
        product["address"] = address_index if address_index is not None else 0
        customer["products"].append(product)
        plan.products += 1


def _product(
    number: int,
    text: dict[str, Any],
    plan: Plan,
    models: dict[str, ProductModel],
    today: date,
) -> dict[str, Any] | None:
    serial, code = str(text.get("serial", "")), str(text.get("model", ""))
    purchase, purchase_error = _date(text.get("purchase_date", ""), today)
    install, install_error = _date(text.get("install_date", ""), today)
    if not (serial or code or purchase or install or purchase_error or install_error):
        return None
    if not serial:
        plan.error(number, "serial", "required")
    elif len(serial) > 40:
        plan.error(number, "serial", "too_long")
    elif serial in plan.serial_rows:
        plan.error(number, "serial", "serial_repeated")
    else:
        plan.serial_rows[serial] = number
    model = models.get(code)
    if not code:
        plan.error(number, "model", "required")
    elif model is None:
        plan.error(number, "model", "model_unknown")
    if purchase_error:
        plan.error(number, "purchase_date", purchase_error)
    elif purchase is None:
        plan.error(number, "purchase_date", "required")
    if install_error:
        plan.error(number, "install_date", install_error)
    elif purchase and install and install < purchase:
        plan.error(number, "install_date", "install_before_purchase")
    if model is None or purchase is None or not serial:
        return None
    return {
        "serial": serial,
        "model_id": model.id,
        "purchase_date": purchase,
        "install_date": install,
        "warranty_end": add_months(install or purchase, model.warranty),
    }


def _known_in_database(session: Session, plan: Plan, serials: list[str], members: list[str]):  # noqa: ANN202
    """Serials and member numbers of these rows that stored rows already have."""
    for start in range(0, len(serials), 900):
        chunk = serials[start : start + 900]
        for serial in session.scalars(
            sa.select(InstalledProduct.serial).where(InstalledProduct.serial.in_(chunk))
        ):
            plan.error(plan.serial_rows[serial], "serial", "serial_taken")
    for start in range(0, len(members), 900):
        chunk = members[start : start + 900]
        for member_no in session.scalars(
            sa.select(Customer.member_no).where(Customer.member_no.in_(chunk))
        ):
            plan.error(plan.by_member_no[member_no]["row"], "member_no", "member_no_taken")


def check_file(
    session: Session,
    file_name: str,
    content: bytes,
    *,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Every row of the file checked (``progress(checked, total)`` after each chunk)."""
    today = today or date.today()
    plan = Plan()
    try:
        table = read_table(file_name, content)
    except ValueError:
        plan.error(0, "", "unreadable")
        return plan
    while table and not any(str(c).strip() for c in table[-1]):
        table.pop()
    if not table:
        plan.error(1, "", "empty_file")
        return plan
    positions = _header(table[0], plan)
    if positions is None:
        plan.errors.sort(key=lambda e: (e["row"], e["column"]))
        return plan
    rows = table[1:]
    if not rows:
        plan.error(1, "", "empty_file")
        return plan
    if len(rows) > MAX_ROWS:
        plan.error(len(rows) + 1, "", "too_many_rows")
        return plan
    models = {m.code: m for m in session.scalars(sa.select(ProductModel))}
    total = len(rows)
    for start in range(0, total, CHUNK):
        seen_serials = len(plan.serial_rows)
        seen_members = set(plan.by_member_no)
        for offset, row in enumerate(rows[start : start + CHUNK]):
            if not any(str(c).strip() for c in row):
                continue  # a blank line
            values = {key: row[i] if i < len(row) else "" for key, i in positions.items()}
            check_row(start + offset + 2, values, plan, models, today)
        serials = list(plan.serial_rows)[seen_serials:]
        members = [m for m in plan.by_member_no if m not in seen_members]
        _known_in_database(session, plan, serials, members)
        if progress is not None:
            progress(min(start + CHUNK, total), total)
    plan.errors.sort(key=lambda e: (e["row"], e["column"]))
    return plan


# --- storing ------------------------------------------------------------------------------------


def _inserted_ids(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    result = session.execute(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [row[0] for row in result]


def store(session: Session, plan: Plan) -> tuple[int, int]:
    """Insert every checked customer with phones, addresses and products (in the caller's
    transaction); returns (customers, products)."""
    now = utcnow()
    customer_ids = _inserted_ids(
        session,
        Customer.__table__,
        [
            {
                "name": c["name"],
                "member_no": c["member_no"],
                "member_level": c["member_level"],
                "tags": [],
                "note": "",
                "created_at": now,
            }
            for c in plan.customers
        ],
    )
    phones, addresses, owners = [], [], []
    for customer, customer_id in zip(plan.customers, customer_ids, strict=True):
        for index, number in enumerate(customer["phones"]):
            kind = "mobile" if phone_rules.MOBILE.match(number) else "landline"
            phones.append(
                {
                    "customer_id": customer_id,
                    "phone": number,
                    "kind": kind,
                    "is_primary": index == 0,
                }
            )
        for index, parts in enumerate(customer["addresses"]):
            addresses.append({"customer_id": customer_id, **parts, "is_primary": index == 0})
            owners.append(customer_id)
    if phones:
        session.execute(sa.insert(CustomerPhone.__table__), phones)
    address_ids = _inserted_ids(session, CustomerAddress.__table__, addresses)
    first_address: dict[int, list[int]] = {}
    for owner, address_id in zip(owners, address_ids, strict=True):
        first_address.setdefault(owner, []).append(address_id)
    products = []
    for customer, customer_id in zip(plan.customers, customer_ids, strict=True):
        places = first_address.get(customer_id, [])
        for product in customer["products"]:
            products.append(
                {
                    "customer_id": customer_id,
                    "model_id": product["model_id"],
                    "serial": product["serial"],
                    "purchase_date": product["purchase_date"],
                    "install_date": product["install_date"],
                    "warranty_end": product["warranty_end"],
                    "address_id": places[product["address"]] if places else None,
                    "created_at": now,
                }
            )
    if products:
        session.execute(sa.insert(InstalledProduct.__table__), products)
    return len(customer_ids), len(products)


# --- the background work ------------------------------------------------------------------------


def _claim(session_factory: Callable[[], Session]) -> int | None:
    """The oldest unfinished import whose lease is free, leased to this worker."""
    with session_factory() as session:
        now = utcnow()
        free = sa.or_(CustomerImport.lease_until.is_(None), CustomerImport.lease_until < now)
        unfinished = CustomerImport.status.in_(("waiting", "checking", "storing"))
        candidates = session.scalars(
            sa.select(CustomerImport.id)
            .where(unfinished, free)
            .order_by(CustomerImport.id)
            .limit(5)
        ).all()
        for import_id in candidates:
            taken = session.execute(
                sa.update(CustomerImport)
                .where(CustomerImport.id == import_id, unfinished, free)
                .values(lease_until=now + LEASE)
            )
            session.commit()
            if taken.rowcount == 1:
                return import_id
        return None


def _write(session_factory: Callable[[], Session], import_id: int, **values: Any) -> None:
    """Progress and state in a short transaction of their own, renewing the lease."""
    with session_factory() as session:
        now = utcnow()
        values.setdefault("lease_until", now + LEASE)
        session.execute(
            sa.update(CustomerImport)
            .where(CustomerImport.id == import_id)
            .values(updated_at=now, **values)
        )
        session.commit()


def run_import(
    session_factory: Callable[[], Session], import_id: int, *, today: date | None = None
) -> str:
    """Check the leased import's file whole, then store it all or nothing; its final status."""
    with session_factory() as session:
        job = session.get(CustomerImport, import_id, options=[undefer(CustomerImport.content)])
        if job is None or job.status in FINAL:
            return job.status if job is not None else "missing"
        file_name, content = job.file_name, job.content or b""
        session.rollback()
    _write(session_factory, import_id, status="checking", checked_rows=0)
    with session_factory() as session:
        plan = check_file(
            session,
            file_name,
            content,
            today=today,
            progress=lambda done, total: _write(
                session_factory, import_id, checked_rows=done, total_rows=total
            ),
        )
        session.rollback()  # read only: hold nothing while the next step writes
    finished = {"finished_at": utcnow(), "lease_until": None}
    if plan.error_count:
        _write(
            session_factory,
            import_id,
            status="refused",
            errors=plan.errors,
            error_count=plan.error_count,
            **finished,
        )
        return "refused"
    _write(session_factory, import_id, status="storing")
    with session_factory() as session:
        try:
            customers, products = store(session, plan)
            session.execute(
                sa.update(CustomerImport)
                .where(CustomerImport.id == import_id)
                .values(
                    status="completed",
                    customers=customers,
                    products=products,
                    updated_at=utcnow(),
                    content=None,  # stored: the rows are the record now
                    **finished,
                )
            )
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("customer import %s conflicted while storing", import_id)
            _write(
                session_factory,
                import_id,
                status="failed",
                message="a serial or member number was registered meanwhile; nothing was stored",
                **finished,
            )
            return "failed"
    return "completed"


def advance_imports(session_factory: Callable[[], Session], *, limit: int = 1) -> int:
    """Carry out up to ``limit`` waiting imports; return how many were run. Several workers
    may call this at once: each import is leased to one."""
    ran = 0
    for _ in range(limit):
        import_id = _claim(session_factory)
        if import_id is None:
            break
        try:
            run_import(session_factory, import_id)
        except Exception:
            log.exception("customer import %s failed", import_id)
            _write(
                session_factory,
                import_id,
                status="failed",
                message="the import stopped on an unexpected error; nothing was stored",
                finished_at=utcnow(),
                lease_until=None,
            )
        ran += 1
    return ran
