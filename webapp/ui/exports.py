"""Excel exports of lists (openpyxl): what a manager takes into a spreadsheet.

A spreadsheet cell holds a time without a zone, so times are written as the reader's wall
clock (``webapp.times.local_naive``) and each time column's heading names the zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from io import BytesIO
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from ..times import local_naive, zone_name
from .helpers import instance_status_label

TIME_FORMAT = "yyyy-mm-dd hh:mm"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _sheet_cell(value: Any) -> Any:
    """Text as text: what a spreadsheet would run as a formula gets a leading quote, and
    characters a workbook cannot hold are dropped."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _time_cell(sheet: Any, value: datetime | None) -> WriteOnlyCell | None:
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=local_naive(value))
    cell.number_format = TIME_FORMAT
    return cell


def _sheet(book: Workbook, title: str, columns: Iterable[tuple[str, int]]) -> Any:
    """A write-only sheet with its headings in bold, their widths, and the heading row frozen."""
    sheet = book.create_sheet(title[:31])
    columns = list(columns)
    for index, (_label, width) in enumerate(columns):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for label, _width in columns:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def _columns() -> tuple[tuple[str, int], ...]:
    """The sheet's headings in the reader's language, with their widths."""
    return (
        (_("ID"), 8),
        (_("Business key"), 22),
        (_("Process"), 22),
        (_("Version"), 8),
        (_("Status"), 12),
        (_("Current step"), 30),
        (_("Organisation unit"), 18),
        (_("Started (%(zone)s)", zone=zone_name()), 24),
        (_("Ended (%(zone)s)", zone=zone_name()), 24),
    )


def instances_workbook(
    rows: Iterable[Any], unit_names: dict[str, str], *, truncated_from: int | None = None
) -> bytes:
    """A streaming (write-only) workbook: rows are written as they come."""
    book = Workbook(write_only=True)
    sheet = _sheet(book, _("Instances"), _columns())
    written = 0
    for row in rows:
        sheet.append(
            [
                row.id,
                _sheet_cell(row.business_key or ""),
                _sheet_cell(row.process_key),
                row.process_version,
                instance_status_label(row.status),
                _sheet_cell(", ".join(row.current_activities or [])),
                _sheet_cell(unit_names.get(row.org_path or "", row.org_path or "")),
                _time_cell(sheet, row.started_at),
                _time_cell(sheet, row.ended_at),
            ]
        )
        written += 1
    if truncated_from is not None:
        sheet.append([])
        note = _("Only the newest %(n)s of %(total)s rows.", n=written, total=truncated_from)
        sheet.append([note])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def orders_workbook(
    rows: Iterable[Any],
    type_names: dict[str, str],
    status_names: dict[str, str],
    *,
    truncated_from: int | None = None,
) -> bytes:
    """The board's orders, every type by its name: number, type, status, customer, outlet,
    created, whether a task is overdue."""
    book = Workbook(write_only=True)
    columns = (
        (_("Order number"), 20),
        (_("Type"), 14),
        (_("Status"), 14),
        (_("Customer"), 16),
        (_("Outlet"), 18),
        (_("Created (%(zone)s)", zone=zone_name()), 22),
        (_("Overdue"), 8),
    )
    sheet = _sheet(book, _("Orders"), columns)
    written = 0
    for row in rows:
        sheet.append(
            [
                _sheet_cell(row.number),
                _sheet_cell(type_names.get(row.type, row.type)),
                _sheet_cell(status_names.get(row.status, row.status)),
                _sheet_cell(row.customer_name or ""),
                _sheet_cell(row.outlet_name or ""),
                _time_cell(sheet, row.created_at),
                _("Yes") if row.overdue else "",
            ]
        )
        written += 1
    if truncated_from is not None:
        sheet.append([])
        sheet.append(
            [_("Only the newest %(n)s of %(total)s rows.", n=written, total=truncated_from)]
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()
