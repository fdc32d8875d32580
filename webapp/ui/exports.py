"""Excel exports of lists (openpyxl): what a manager takes into a spreadsheet."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from .helpers import instance_status_label


def _sheet_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def instances_workbook(
    rows: list[Any], unit_names: dict[str, str], *, truncated_from: int | None = None
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Instances")[:31]
    headers = [
        _("ID"),
        _("Business key"),
        _("Process"),
        _("Version"),
        _("Status"),
        _("Current step"),
        _("Organisation unit"),
        _("Started"),
        _("Ended"),
    ]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
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
    for letter, width in zip("ABCDEFGHI", (8, 22, 22, 8, 12, 30, 18, 18, 18), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    if truncated_from is not None:
        sheet.append([])
        sheet.append(
            [_("Only the newest %(n)s of %(total)s rows.", n=len(rows), total=truncated_from)]
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()
