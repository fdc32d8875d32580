"""Excel exports of lists (openpyxl): what a manager takes into a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .helpers import instance_status_label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _sheet_cell(value: Any) -> Any:
    """Text as text: what a spreadsheet would run as a formula gets a leading quote, and
    characters a workbook cannot hold are dropped."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


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
        (_("Started"), 18),
        (_("Ended"), 18),
    )


def instances_workbook(
    rows: Iterable[Any], unit_names: dict[str, str], *, truncated_from: int | None = None
) -> bytes:
    """A streaming (write-only) workbook: rows are written as they come."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Instances")[:31])
    columns = _columns()
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
                row.started_at,
                row.ended_at,
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
