"""Celery tasks: each is a thin shell around a plain engine function that tests call directly."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session, sessionmaker

import aftersales
from aftersales.customers.imports import advance_imports
from engine.batches import advance_batches
from engine.db import make_engine, make_session_factory
from engine.scheduler import fire_due_timers as fire_due
from forms.binding import install as install_forms

from .celery_app import celery


@cache
def session_factory() -> sessionmaker[Session]:
    install_forms()  # tasks a timer creates pin their form version
    aftersales.install()  # the operations a timer's path may call
    return make_session_factory(make_engine())


@celery.task(name="worker.tasks.fire_due_timers", ignore_result=True)
def fire_due_timers(limit: int = 1000) -> int:
    """Fire due timers; several workers may run this at once, each timer still fires once."""
    return fire_due(session_factory(), limit=limit)


@celery.task(name="worker.tasks.advance_migration_batches", ignore_result=True)
def advance_migration_batches(chunks: int = 5) -> int:
    """Move running migration batches on; each batch is leased to one worker at a time."""
    return advance_batches(session_factory(), chunks=chunks)


@celery.task(name="worker.tasks.advance_customer_imports", ignore_result=True)
def advance_customer_imports(limit: int = 1) -> int:
    """Carry out waiting customer imports; each is leased to one worker at a time."""
    return advance_imports(session_factory(), limit=limit)
