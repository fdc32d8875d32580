"""The dispatch board: every order in the viewer's scope, counted per status and listed.

Filters (all GET arguments): ``center`` and ``outlet`` (unit codes, only units in the viewer's
scope; any other code is a 400, the same for a unit that does not exist), ``status``, ``type``,
``from`` and ``to`` (creation dates in the user's time zone, both inclusive) and ``page``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user

from aftersales.orders import board as board
from aftersales.orders import types as service_types
from aftersales.orders.types import Status, TypeSpec
from engine.identity import Actor
from engine.models import OrgUnit, utcnow

from ..extensions import db
from ..policy import SERVICE_STAFF
from ..times import duration_text, utc_midnight
from . import bp
from .exports import orders_workbook
from .service_types import board_statuses, status_labels, type_labels

PER_PAGE = 30
EXPORT_LIMIT = 10_000  # rows in one Excel export


@bp.app_template_global("may_see_board")
def may_see_board(actor: Actor) -> bool:
    return SERVICE_STAFF.allows(actor)


def age_text(created: datetime, now: datetime) -> str:
    """How long ago ``created`` was, in two units at most (``3天4小时``)."""
    return duration_text((now - created).total_seconds())


def _day(name: str) -> date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        abort(400)


def _choice(name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        abort(400)
    return value


@dataclass(frozen=True)
class Chosen:
    """What the board's query string chose, each code checked against the viewer's scope."""

    specs: list[TypeSpec]
    statuses: list[Status]
    centers: list[OrgUnit]
    outlets: list[OrgUnit]
    center: str | None
    outlet: str | None
    start: date | None
    end: date | None
    filter: board.BoardFilter


def _chosen(actor: Actor) -> Chosen:
    centers, outlets = board.scope_units(db.session, actor)
    center_paths = {u.code: u.path for u in centers}
    outlet_paths = {u.code: u.path for u in outlets}
    # a code outside the viewer's scope is refused exactly like one that does not exist
    center = _choice("center", list(center_paths))
    outlet = _choice("outlet", list(outlet_paths))
    specs = service_types.latest_types(db.session)
    kind = _choice("type", [t.key for t in specs])
    statuses = board_statuses([t for t in specs if kind in (None, t.key)])
    status = _choice("status", [s.key for s in statuses])
    start, end = _day("from"), _day("to")
    flt = board.BoardFilter(
        center_path=center_paths.get(center) if center else None,
        outlet_path=outlet_paths.get(outlet) if outlet else None,
        status=status,
        type=kind,
        created_from=utc_midnight(start) if start else None,
        created_to=utc_midnight(end + timedelta(days=1)) if end else None,
    )
    return Chosen(specs, statuses, centers, outlets, center, outlet, start, end, flt)


@bp.get("/board.xlsx")
def board_export():  # noqa: ANN201
    """The board's orders under its filters as an Excel workbook (the newest EXPORT_LIMIT)."""
    actor = current_user.actor
    chosen = _chosen(actor)
    counts = board.status_counts(db.session, actor, chosen.filter)
    total = (
        sum(counts.values()) if not chosen.filter.status else counts.get(chosen.filter.status, 0)
    )
    rows = board.board_rows(
        db.session, actor, chosen.filter, offset=0, limit=EXPORT_LIMIT, now=utcnow()
    )
    body = orders_workbook(
        rows,
        type_labels(db.session),
        status_labels(db.session),
        truncated_from=total if total > len(rows) else None,
    )
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="orders.xlsx"'},
    )


@bp.get("/board")
def dispatch_board():  # noqa: ANN201
    actor = current_user.actor
    chosen = _chosen(actor)
    specs, statuses, flt = chosen.specs, chosen.statuses, chosen.filter
    centers, outlets, status = chosen.centers, chosen.outlets, flt.status
    center, outlet, kind, start, end = (
        chosen.center,
        chosen.outlet,
        flt.type,
        chosen.start,
        chosen.end,
    )
    page = request.args.get("page", 1, type=int) or 1
    if page < 1 or page > 100_000:
        abort(400)
    counts = board.status_counts(db.session, actor, flt)
    total = counts.get(status, 0) if status else sum(counts.values())
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    now = utcnow()
    rows = board.board_rows(
        db.session, actor, flt, offset=(page - 1) * PER_PAGE, limit=PER_PAGE, now=now
    )
    first_finals = {next((s.key for s in t.statuses if s.final), None) for t in specs}
    columns = [s.key for s in statuses if not s.final or s.key in first_finals or counts.get(s.key)]
    selected = {
        "center": center or "",
        "outlet": outlet or "",
        "status": status or "",
        "type": kind or "",
        "from": start.isoformat() if start else "",
        "to": end.isoformat() if end else "",
    }

    def board_url(**changes: str) -> str:
        args = {k: v for k, v in {**selected, **changes}.items() if v}
        return url_for("ui.dispatch_board", **args)

    return render_template(
        "board/board.html",
        rows=rows,
        counts=counts,
        columns=columns,
        total=total,
        page=page,
        per_page=PER_PAGE,
        centers=centers,
        outlets=outlets,
        selected=selected,
        board_url=board_url,
        statuses=status_labels(db.session),
        types=type_labels(db.session),
        order_types=[t.key for t in specs],
        age=lambda created: age_text(created, now),
    )
