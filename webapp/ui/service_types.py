"""The service types as pages show them: names in the user's language, the statuses of one
type or of all, and the types a user may open. Read from the database on every request, so a
type deployed while the server runs shows at once in every process."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask_babel import get_locale
from sqlalchemy.orm import Session

from aftersales.orders import types as service_types
from aftersales.orders.types import Status, TypeSpec
from engine.identity import Actor
from engine.models import ProcessDefinition


def _locale() -> str:
    return str(get_locale() or "zh")


def type_labels(session: Session) -> dict[str, str]:
    locale = _locale()
    return {t.key: t.name(locale) for t in service_types.latest_types(session)}


def status_labels(session: Session) -> dict[str, str]:
    """Every status key any version of any type names, in the user's language (the latest
    type's name wins where two types name the same key)."""
    locale = _locale()
    names: dict[str, str] = {}
    for spec in service_types.statuses_by_type(session).values():
        for status in spec.statuses:
            names.setdefault(status.key, status.name(locale))
    for spec in service_types.latest_types(session):
        for status in spec.statuses:
            names[status.key] = status.name(locale)
    return names


def deployable(session: Session) -> list[TypeSpec]:
    """The types whose process is deployed, in deployment order (one query for all of them,
    once per request: the caller page asks for every customer card)."""
    if "deployable_types" not in g:
        specs = service_types.latest_types(session)
        deployed = set(
            session.scalars(
                sa.select(ProcessDefinition.key)
                .where(
                    ProcessDefinition.kind == "bpmn",
                    ProcessDefinition.key.in_({t.process for t in specs}),
                )
                .distinct()
            )
        )
        g.deployable_types = [t for t in specs if t.process in deployed]
    return g.deployable_types


def openable(session: Session, actor: Actor) -> list[TypeSpec]:
    """The types the user may open whose process is deployed, in deployment order."""
    return [t for t in deployable(session) if t.may_open(actor)]


def board_statuses(specs: list[TypeSpec]) -> list[Status]:
    """The statuses of the given types in board order: each type's own order, the first
    type's first, the statuses only later types name slotted in after their predecessor."""
    ordered: list[Status] = []
    for spec in specs:
        after = -1
        for status in spec.statuses:
            keys = [s.key for s in ordered]
            if status.key in keys:
                after = keys.index(status.key)
                continue
            if status.final:
                ordered.append(status)
                after = len(ordered) - 1
                continue
            first_final = next((i for i, s in enumerate(ordered) if s.final), len(ordered))
            after = min(after + 1, first_final)
            ordered.insert(after, status)
    return ordered


def order_steps(spec: TypeSpec, status: str) -> list[Status]:
    """The progress bar of an order: its type's working statuses, then the final one it is
    in (or the first final one still ahead)."""
    working = [s for s in spec.statuses if not s.final]
    finals = [s for s in spec.statuses if s.final]
    end = next((s for s in finals if s.key == status), finals[0] if finals else None)
    return working + ([end] if end is not None else [])
