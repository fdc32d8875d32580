"""The task inbox: my tasks, my groups' tasks to claim, tasks I completed; filters, sorting,
pages, counts per list and saved filters. Reads only the human-task table."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aftersales.customers import phones
from engine import queries
from engine.models import ProcessDefinition

from ..extensions import db
from ..models import SavedFilter
from ..tasking import claim_next
from ..times import utc_midnight
from . import bp

LISTS = ("mine", "group", "completed")
FILTER_KEYS = (
    "process_key",
    "business_key",
    "customer_phone",
    "due",
    "min_priority",
    "created_from",
    "created_to",
    "sort",
)


def _date(value: str | None, end: bool = False) -> datetime | None:
    """The start of that day (or of the next, for ``end``) in the user's zone, as stored."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        abort(400)
    return utc_midnight(day + timedelta(days=1) if end else day)


def _phone(value: str | None) -> str | None:
    """The number as tasks carry it (the customer's stored form), however it was typed."""
    value = (value or "").strip()
    return phones.lookup_form(value) if value else None


def task_filter(list_name: str, args: dict) -> queries.TaskFilter:
    try:
        priority = int(args["min_priority"]) if args.get("min_priority") else None
    except ValueError:
        abort(400)
    return queries.TaskFilter(
        assignee="me" if list_name == "mine" else None,
        candidate=list_name == "group",
        status="completed" if list_name == "completed" else "open",
        process_key=args.get("process_key") or None,
        business_key=(args.get("business_key") or "").strip() or None,
        customer_phone=_phone(args.get("customer_phone")),
        due=args.get("due") or None,
        min_priority=priority,
        created_from=_date(args.get("created_from")),
        created_to=_date(args.get("created_to"), end=True),
        sort=args.get("sort") or None,
    )


def _count(actor, list_name: str) -> tuple[int, bool]:  # noqa: ANN001
    result = queries.list_tasks(db.session, actor, task_filter(list_name, {}), queries.Page(1, 1))
    return result.total, result.total_exact


@bp.get("/tasks")
def inbox():  # noqa: ANN201
    actor = current_user.actor
    list_name = request.args.get("list", "mine")
    if list_name not in LISTS:
        abort(400)
    args = {k: request.args.get(k, "") for k in FILTER_KEYS}
    page = queries.Page.parse(request.args.get("page"), request.args.get("per_page") or 20)
    result = queries.list_tasks(db.session, actor, task_filter(list_name, args), page)
    counts = {name: _count(actor, name) for name in LISTS}
    processes = db.session.scalars(
        sa.select(ProcessDefinition.key).where(ProcessDefinition.kind == "bpmn").distinct()
    ).all()
    saved = db.session.scalars(
        sa.select(SavedFilter)
        .where(SavedFilter.user_id == current_user.id)
        .order_by(SavedFilter.name)
    ).all()
    return render_template(
        "tasks/inbox.html",
        list_name=list_name,
        tasks=result.items,
        total=result.total,
        total_exact=result.total_exact,
        page=page,
        counts=counts,
        args=args,
        processes=sorted(processes),
        saved=saved,
        filtered=any(args.values()),
    )


@bp.post("/tasks/claim-next")
def claim_next_task():  # noqa: ANN201
    """Claim the best task of the user's queues and open it; back to the list if none."""
    task = claim_next(db.session, current_user.actor)
    if task is None:
        flash(_("There is no task left to claim."), "info")
        return redirect(url_for("ui.inbox", list="group"))
    flash(_("The task is yours now."), "success")
    return redirect(url_for("ui.task_page", task_id=task.id))


@bp.post("/tasks/filters")
def save_filter():  # noqa: ANN201
    name = (request.form.get("name") or "").strip()[:80]
    list_name = request.form.get("list", "mine")
    if not name or list_name not in LISTS:
        flash(_("Give the filter a name."), "error")
        return redirect(url_for("ui.inbox", list=list_name))
    query = {k: request.form.get(k) for k in FILTER_KEYS if request.form.get(k)}
    task_filter(list_name, query)  # refuses malformed values before they are kept
    row = db.session.scalar(
        sa.select(SavedFilter).where(
            SavedFilter.user_id == current_user.id, SavedFilter.name == name
        )
    ) or SavedFilter(user_id=current_user.id, name=name)
    row.list_name, row.query = list_name, query
    db.session.add(row)
    db.session.commit()
    flash(_("Filter saved."), "success")
    return redirect(url_for("ui.inbox", list=list_name, **query))


@bp.post("/tasks/filters/<int:filter_id>/delete")
def delete_filter(filter_id: int):  # noqa: ANN201
    row = db.session.get(SavedFilter, filter_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    db.session.delete(row)
    db.session.commit()
    return redirect(url_for("ui.inbox", list=row.list_name))
