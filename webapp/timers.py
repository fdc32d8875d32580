"""Embedded mode: with no Redis, the web process fires due timers and moves migration
batches on itself, in a thread; customer imports (minutes of work for a big file) run in a
second thread the same way, so they never make a timer late."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from aftersales.customers.imports import advance_imports
from engine.batches import advance_batches
from engine.db import make_session_factory
from engine.scheduler import fire_due_timers

from .extensions import db

log = logging.getLogger(__name__)
EMBEDDED_CHUNK = 25


def init_app(app: Flask) -> None:
    if not app.config.get("EMBEDDED_TIMERS") or app.config.get("TESTING"):
        return
    app.extensions["csm_timer_thread"] = start_timer_thread(app)
    app.extensions["csm_import_thread"] = start_import_thread(app)


def start_timer_thread(app: Flask) -> threading.Thread:
    with app.app_context():
        factory = make_session_factory(db.engine)
    stop = threading.Event()
    interval = app.config["TIMER_INTERVAL_S"]

    def loop() -> None:
        while not stop.wait(interval):
            try:
                fire_due_timers(factory)
            except Exception:
                log.exception("embedded timer run failed")
            try:  # small chunks, so a long batch does not make timers late
                advance_batches(factory, chunk=EMBEDDED_CHUNK)
            except Exception:
                log.exception("embedded migration batch run failed")

    thread = threading.Thread(target=loop, name="csm-timers", daemon=True)
    thread.stop = stop
    thread.start()
    return thread


def start_import_thread(app: Flask) -> threading.Thread:
    """Customer imports waiting in the database, carried out one at a time."""
    with app.app_context():
        factory = make_session_factory(db.engine)
    stop = threading.Event()
    interval = app.config["TIMER_INTERVAL_S"]

    def loop() -> None:
        last = ""
        while not stop.wait(interval):
            try:
                advance_imports(factory)
                last = ""
            except Exception as exc:  # the same failure again is not logged again
                if str(exc) != last:
                    log.exception("embedded customer import run failed")
                last = str(exc)

    thread = threading.Thread(target=loop, name="csm-imports", daemon=True)
    thread.stop = stop
    thread.start()
    return thread
