"""The outlets' records (网点档案): a list of the outlets in the viewer's scope and each
outlet's page with its profile, center, engineers, workload, callback scores and praise.

The scope is the board's: an outlet's people see their own outlet, a center its outlets, HQ
and administrators every outlet. An outlet outside the scope answers 404 exactly like a code
that does not exist, so codes reveal nothing. The workload counts are the board's own query
(``aftersales.board.status_counts``), so the numbers here and on the board agree.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request, url_for
from flask_login import current_user

from aftersales.orders import board
from aftersales.orders import types as service_types
from aftersales.outlets.models import OutletProfile
from aftersales.outlets.service import (
    PER_PAGE,
    PRAISE_PER_PAGE,
    RECENT_CLOSED,
    callback_scores,
    category_names,
    engineers_of,
    find_outlet,
    outlet_page_of,
    outlet_rows,
    praise_count,
    praises_of_outlet,
)
from engine.identity import Actor
from engine.models import OrgUnit

from ..extensions import db
from ..i18n import current_locale
from ..policy import SERVICE_STAFF
from . import bp
from .service_types import board_statuses, status_labels


@bp.app_template_global("may_see_outlets")
def may_see_outlets(actor: Actor) -> bool:
    """The people who run or supervise outlets: the board's readers (``webapp.policy``)."""
    return SERVICE_STAFF.allows(actor)


# ---- template helpers: links to an outlet from the board and the order page -----------


@bp.app_template_global("outlet_urls")
def outlet_urls(units: list[OrgUnit]) -> dict[str, str]:
    """Outlet name -> its page, for the board's rows (which carry the name only); a name two
    of ``units`` share links nowhere."""
    if not may_see_outlets(current_user.actor):
        return {}
    outlets = [u for u in units if u.kind == "outlet"]
    names = [u.name for u in outlets]
    return {
        u.name: url_for("ui.outlet_page", code=u.code) for u in outlets if names.count(u.name) == 1
    }


@bp.app_template_global("outlet_at")
def outlet_at(path: str | None) -> OrgUnit | None:
    """The outlet an order lies at, when the viewer may open its page."""
    actor = current_user.actor
    if not path or not may_see_outlets(actor) or not actor.sees(path):
        return None
    return db.session.scalar(
        sa.select(OrgUnit).where(OrgUnit.path == path, OrgUnit.kind == "outlet")
    )


# ---- pages -------------------------------------------------------------------------------


def _page_arg() -> int:
    page = request.args.get("page", 1, type=int) or 1
    if page < 1 or page > 100_000:
        abort(400)
    return page


@bp.get("/outlets")
def outlet_list():  # noqa: ANN201
    actor = current_user.actor
    page = _page_arg()
    units, total = outlet_page_of(db.session, actor, page=page)
    return render_template(
        "outlets/list.html",
        rows=outlet_rows(db.session, actor, units),
        page=page,
        per_page=PER_PAGE,
        total=total,
    )


@bp.get("/outlets/<code>")
def outlet_page(code: str):  # noqa: ANN201
    actor = current_user.actor
    unit = find_outlet(db.session, actor, code)
    if unit is None:
        abort(404)
    page = _page_arg()
    profile = db.session.get(OutletProfile, unit.id)
    center = db.session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    counts = board.status_counts(db.session, actor, board.BoardFilter(outlet_path=unit.path))
    working = board_statuses(service_types.latest_types(db.session))
    workload = {s.key: counts.get(s.key, 0) for s in working if not s.final}
    praise_total = praise_count(db.session, unit)
    return render_template(
        "outlets/outlet.html",
        unit=unit,
        center=center,
        profile=profile,
        categories=category_names(db.session, current_locale()),
        engineers=engineers_of(db.session, unit),
        workload=workload,
        open_total=sum(workload.values()),
        board_link=lambda status="": url_for(
            "ui.dispatch_board", outlet=unit.code, **({"status": status} if status else {})
        ),
        scores=callback_scores(db.session, unit),
        recent_closed=RECENT_CLOSED,
        praises=praises_of_outlet(
            db.session,
            actor,
            unit,
            offset=(page - 1) * PRAISE_PER_PAGE,
            limit=PRAISE_PER_PAGE,
        ),
        praise_total=praise_total,
        page=page,
        per_page=PRAISE_PER_PAGE,
        statuses=status_labels(db.session),
    )
