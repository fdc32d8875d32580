"""Firing due timers: picked from the timer table, each fired as a command.

On PostgreSQL a worker locks the row it fires with ``FOR UPDATE SKIP LOCKED``, so several
workers share the due timers and each fires once. On SQLite writes are serialized by the
database; the fire command deletes its row, so a second worker finds nothing to fire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .commands import FireTimer, execute
from .db import is_postgres
from .errors import Conflict, NotFound
from .identity import SYSTEM_ACTOR
from .models import ProcessInstance, Timer, utcnow

FIREABLE = ("running", "incident")
log = logging.getLogger(__name__)


def _next_due(session: Session, now: datetime, skip: set[int]) -> int | None:
    query = (
        sa.select(Timer.id)
        .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(Timer.due_at <= now, ProcessInstance.status.in_(FIREABLE))
        .order_by(Timer.due_at, Timer.id)
        .limit(1)
    )
    if skip:
        query = query.where(Timer.id.not_in(skip))
    if is_postgres(session):
        query = query.with_for_update(of=Timer, skip_locked=True)
    return session.scalar(query)


def fire_due_timers(
    session_factory: Callable[[], Session], *, limit: int = 10_000, now: datetime | None = None
) -> int:
    """Fire up to ``limit`` due timers, one transaction each; return how many fired."""
    fired, skip = 0, set()
    while fired + len(skip) < limit:
        with session_factory() as session:
            timer_id = _next_due(session, now or utcnow(), skip)
            if timer_id is None:
                session.rollback()
                break
            try:
                if execute(session, FireTimer(timer_id), SYSTEM_ACTOR):
                    fired += 1
                else:
                    skip.add(timer_id)
            except (Conflict, NotFound):
                skip.add(timer_id)
            except Exception:
                log.exception("firing timer %s failed", timer_id)
                skip.add(timer_id)
    return fired
