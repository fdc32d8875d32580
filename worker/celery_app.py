"""The Celery app. REDIS_URL is the broker and result backend."""

from __future__ import annotations

import os

from celery import Celery

celery = Celery(
    "csm",
    broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    include=["worker.tasks"],
)
celery.conf.update(
    task_default_queue=os.environ.get("CSM_CELERY_QUEUE", "csm"),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    timezone="UTC",
    beat_schedule={
        "fire-due-timers": {
            "task": "worker.tasks.fire_due_timers",
            "schedule": float(os.environ.get("CSM_TIMER_INTERVAL_S", "1")),
            "options": {"expires": 30},
        },
        "advance-migration-batches": {
            "task": "worker.tasks.advance_migration_batches",
            "schedule": 2.0,
            "options": {"expires": 30},
        },
        "advance-customer-imports": {
            "task": "worker.tasks.advance_customer_imports",
            "schedule": 2.0,
            "options": {"expires": 30},
        },
    },
)
