"""Importing customers from the enterprise's existing systems (team leads, administrators):
upload a CSV or Excel file, watch its progress, read the result with the errors per row.

The file is kept and imported in the background (``aftersales.customers.imports``); the
result page polls its progress block with htmx until the import has finished.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aftersales.customers import imports
from engine.errors import InvalidInput

from ..extensions import db
from . import bp


def error_messages() -> dict[str, str]:
    """What the page says for each problem code."""
    return {
        "empty_file": _("The file has no rows under its header."),
        "too_many_rows": _("A file has at most 200,000 rows."),
        "unreadable": _("The file is neither a CSV (UTF-8 or GB18030) nor an Excel workbook."),
        "missing_column": _("The header lacks this column."),
        "unknown_column": _("The header names a column this import does not know."),
        "duplicate_column": _("The header names this column twice."),
        "required": _("Required."),
        "too_long": _("Too long."),
        "phone_characters": _("Not a phone number: characters other than digits."),
        "phone_too_short": _("Not a phone number: too short."),
        "phone_too_long": _("Not a phone number: too long."),
        "phone_unknown": _("Not a mobile number (11 digits) or an area code and number."),
        "phone_empty": _("Required."),
        "level_unknown": _("A member level is 普通, 银卡, 金卡 or 白金."),
        "address_incomplete": _("An address needs province, city and district."),
        "date_invalid": _("Write dates like 2024-05-01."),
        "date_future": _("This date is in the future."),
        "install_before_purchase": _("Installed before it was bought."),
        "model_unknown": _("There is no product model with that code."),
        "serial_taken": _("A product with this serial number is registered already."),
        "serial_repeated": _("This serial number is on an earlier row."),
        "member_no_taken": _("A customer with this member number exists already."),
        "member_no_other_name": _("An earlier row gives this member number another name."),
    }


def column_labels() -> dict[str, str]:
    """Each column by the Chinese header the file may use (its first alias after the key)."""
    return {key: names[1] for key, names in imports.COLUMNS.items()}


def status_labels() -> dict[str, str]:
    return {
        "waiting": _("Waiting"),
        "checking": _("Checking the rows"),
        "storing": _("Storing"),
        "completed": _("Imported"),
        "refused": _("Refused: nothing was stored"),
        "failed": _("Failed: nothing was stored"),
    }


@bp.get("/customers/imports")
def customer_imports():  # noqa: ANN201
    return render_template(
        "customers/imports.html",
        recent=imports.recent_imports(db.session),
        columns=imports.COLUMNS,
        statuses=status_labels(),
    )


@bp.post("/customers/imports")
def upload_customer_import():  # noqa: ANN201
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidInput("choose a file", {"file": "required"})
        job = imports.start_import(
            db.session,
            current_user.actor,
            file_name=upload.filename,
            content=upload.read(imports.MAX_BYTES + 1),
        )
        db.session.commit()
    except InvalidInput:
        db.session.rollback()
        flash(_("Choose a .csv or .xlsx file of at most 64 MB."), "error")
        return render_template(
            "customers/imports.html",
            recent=imports.recent_imports(db.session),
            columns=imports.COLUMNS,
            statuses=status_labels(),
        ), 422
    return redirect(url_for("ui.customer_import_page", import_id=job.id), code=303)


@bp.get("/customers/imports/<id:import_id>")
def customer_import_page(import_id: int):  # noqa: ANN201
    job = imports.get_import(db.session, current_user.actor, import_id)
    template = (
        "customers/import_progress.html"
        if request.headers.get("HX-Request")
        else "customers/import.html"
    )
    return render_template(
        template,
        job=job,
        percent=imports.percent(job),
        final=job.status in imports.FINAL,
        messages=error_messages(),
        columns=column_labels(),
        statuses=status_labels(),
    )
