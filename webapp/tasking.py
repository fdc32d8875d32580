"""What the API and the pages share about one task: its data, its form, its completion."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from engine import queries, runtime
from engine.commands import Claim, Complete, execute
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.identity import Actor
from engine.models import HumanTask, ProcessInstance
from forms.binding import form_for

LOCALES = ("zh", "en")


def pick_locale(header_value: str | None, default: str = "zh") -> str:
    """The first of our languages an Accept-Language header names."""
    for part in (header_value or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in LOCALES:
            return tag[:2]
    return default


def task_data(session: Session, task: HumanTask, actor: Actor | None = None) -> dict[str, Any]:
    """The data an open task sees (for prefilling its form); the instance's afterwards, or,
    for ``actor`` outside the instance's scope by now, what the task showed when completed."""
    if actor is not None:
        view = queries.completed_view(session, actor, task)
        if view is not None:
            return {**view["context"], **view["data"]}
    instance = session.get(ProcessInstance, task.instance_id)
    if task.status == "open" and instance is not None and instance.state:
        workflow = runtime.load(session, instance)
        spiff_task = workflow.get_task_from_id(UUID(task.id))
        if spiff_task is not None:
            return runtime.jsonable(spiff_task.data)
    return dict(instance.variables or {}) if instance is not None else {}


def task_form(session: Session, task: HumanTask, locale: str) -> dict | None:
    """The form the task was created with: ``{"schema", "ui", "title", "survey"}``."""
    if not task.form_key:
        return None
    return form_for(session, task.form_key, task.form_version, locale)


def signature_errors(form: dict | None, data: dict[str, Any]) -> dict[str, list[str]]:
    """Signature fields whose value is not the PNG data URL a signature pad writes."""
    from flask_babel import gettext as _

    from .uploads import check_signature

    hints = ((form or {}).get("ui") or {}).get("fields") or {}
    names = [
        name for name, h in hints.items() if isinstance(h, dict) and h.get("widget") == "signature"
    ]
    return {
        name: [_("The signature is not a drawn signature image.")]
        for name in names
        if name in data and check_signature(data[name]) is not None
    }


def complete_task(
    session: Session, actor: Actor, task_id: str, data: dict[str, Any], locale: str
) -> HumanTask:
    """Complete with the submitted data (a survey's score is added by the form binding)."""
    task = session.get(HumanTask, task_id)
    if task is not None and task.form_key:
        errors = signature_errors(task_form(session, task, locale), data)
        if errors:
            raise InvalidInput("a signature is not a PNG image", {"fields": errors})
    return execute(session, Complete(task_id, data=data, locale=locale), actor)


CLAIM_ROUNDS = 3  # how many times the queue is read again when others took every task seen
CLAIM_BATCH = 10


def claim_next(session: Session, actor: Actor) -> HumanTask | None:
    """Claim the best unclaimed task of the actor's candidate queues: highest priority, then
    oldest, as the "to claim" list orders them. Each claim is the engine's Claim command, whose
    revision check lets only one of two people racing for a task have it; the loser goes on
    to the next task. None when nothing is left to claim."""
    tried: set[str] = set()
    for _ in range(CLAIM_ROUNDS):
        statement, params = queries.group_inbox_ids(actor, queries.Page(1, CLAIM_BATCH))
        ids = (
            [i for i in session.scalars(statement, params) if i not in tried]
            if actor.groups
            else []
        )
        session.rollback()  # end the read: each claim runs in a transaction of its own
        if not ids:
            return None
        for task_id in ids:
            tried.add(task_id)
            try:
                return execute(session, Claim(task_id), actor)
            except (Conflict, Forbidden, NotFound):
                continue  # taken meanwhile, or not this actor's after all: the next one
    return None
