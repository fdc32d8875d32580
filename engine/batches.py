"""Carrying out migration batches in the background, a chunk at a time.

A worker takes a running batch by a lease (an UPDATE that succeeds for one worker only, on
both databases, with no lock held while it works), migrates the next chunk of instances, each
in a transaction of its own as its creator, and writes the progress. A batch whose creator may
no longer operate stops with the reason. Embedded mode calls ``advance_batches`` from the web
process's timer thread; with Redis, Celery beat schedules it (``worker.tasks``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .commands import MigrateInstance, execute
from .commands.batches import waiting_instances
from .errors import EngineError
from .identity import actor_for, find_user
from .models import MigrationBatch, utcnow

CHUNK = 200
LEASE = timedelta(minutes=5)
MAX_REASONS = 20
log = logging.getLogger(__name__)


def _claim(session_factory: Callable[[], Session]) -> int | None:
    """The oldest running batch whose lease is free, leased to this worker."""
    with session_factory() as session:
        now = utcnow()
        free = sa.or_(MigrationBatch.lease_until.is_(None), MigrationBatch.lease_until < now)
        candidates = session.scalars(
            sa.select(MigrationBatch.id)
            .where(MigrationBatch.status == "running", free)
            .order_by(MigrationBatch.id)
            .limit(5)
        ).all()
        for batch_id in candidates:
            taken = session.execute(
                sa.update(MigrationBatch)
                .where(MigrationBatch.id == batch_id, MigrationBatch.status == "running", free)
                .values(lease_until=now + LEASE)
            )
            session.commit()
            if taken.rowcount == 1:
                return batch_id
        return None


def _finish(session: Session, batch: MigrationBatch, status: str, message: str = "") -> None:
    batch.status, batch.message = status, message
    batch.finished_at = batch.updated_at = utcnow()
    batch.lease_until = None


def advance_batch(session_factory: Callable[[], Session], batch_id: int, chunk: int = CHUNK) -> int:
    """Migrate the next ``chunk`` instances of a leased batch; return how many were tried."""
    with session_factory() as session:
        batch = session.get(MigrationBatch, batch_id)
        if batch is None or batch.status != "running":
            return 0
        user = find_user(session, batch.created_by)
        actor = actor_for(user) if user is not None and user.active else None
        if actor is None or not actor.may_operate:
            _finish(session, batch, "failed", f"{batch.created_by} may no longer migrate instances")
            session.commit()
            return 0
        ids = session.scalars(
            waiting_instances(batch.source_definition_id, batch.org_path, batch.cursor).limit(chunk)
        ).all()
        target, mapping = batch.target_version, dict(batch.mapping or {})
        session.rollback()  # hold no snapshot while the instances move
    migrated, refused = 0, Counter()
    for instance_id in ids:
        with session_factory() as session:
            try:
                execute(session, MigrateInstance(instance_id, target, mapping), actor)
                migrated += 1
            except EngineError as exc:
                refused[exc.message[:300]] += 1
    with session_factory() as session:
        batch = session.get(MigrationBatch, batch_id)
        if batch is None:
            return len(ids)
        batch.migrated += migrated
        batch.refused += sum(refused.values())
        reasons = Counter(batch.reasons or {})
        reasons.update(refused)
        batch.reasons = dict(reasons.most_common(MAX_REASONS))
        if ids:
            batch.cursor = ids[-1]
        batch.updated_at = utcnow()
        if batch.status == "running" and len(ids) < chunk:
            _finish(session, batch, "completed")
        else:
            batch.lease_until = None
        session.commit()
    return len(ids)


def advance_batches(
    session_factory: Callable[[], Session], *, chunk: int = CHUNK, chunks: int = 1
) -> int:
    """Move running batches on by up to ``chunks`` chunks; return how many instances were
    tried. Several workers may call this at once: each batch is leased to one."""
    tried = 0
    for _ in range(chunks):
        batch_id = _claim(session_factory)
        if batch_id is None:
            break
        try:
            tried += advance_batch(session_factory, batch_id, chunk)
        except Exception:
            log.exception("migration batch %s failed to advance", batch_id)
            with session_factory() as session:
                session.execute(
                    sa.update(MigrationBatch)
                    .where(MigrationBatch.id == batch_id)
                    .values(lease_until=None)
                )
                session.commit()
    return tried
