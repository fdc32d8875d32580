"""The engineer's phone view: today's visits and reports, one big card each.

Lists the signed-in user's open field tasks (check-in, work report, rework, install report of
any process) assigned to them, those due by the end of today first. Anyone signed in may open
it: a user who is not an engineer gets the same page with a note and, having no field tasks,
no cards. Each card leads to the task page, where the form is filled in.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from aftersales.orders import board as board
from aftersales.outlets.models import Praise

from ..extensions import db
from ..times import today_bounds
from . import bp


@bp.get("/engineer")
def engineer_jobs():  # noqa: ANN201
    actor = current_user.actor
    start, end = today_bounds()
    jobs = board.my_jobs(db.session, actor, end)
    return render_template(
        "engineer/jobs.html",
        today=[j for j in jobs if j.today],
        later=[j for j in jobs if not j.today],
        done_today=board.completed_since(db.session, actor, start),
        is_engineer="engineer" in actor.roles,
        praises=praises_of(current_user.id),
    )


def praises_of(user_id: int, limit: int = 5) -> list[Praise]:
    """The latest praise customers gave this engineer: their record, on their own page."""
    return list(
        db.session.scalars(
            sa.select(Praise)
            .where(Praise.engineer_id == user_id)
            .order_by(Praise.created_at.desc())
            .limit(limit)
        )
    )
