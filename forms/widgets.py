"""Widgets whose value names a record: an outlet, a part, a knowledge-base article, a user.

The forms package does not know those records; whoever does (the domain, for outlets and
parts) registers a check per widget: given the values submitted in fields of that widget
and who submits them, the ones that name nothing that person may pick. A completion whose
value names nothing is refused with an error on that field, like any other invalid value,
before a step of the process could stumble on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine import scope
from engine.identity import Actor
from engine.models import OrgUnit, User

from .schemas import form_parts
from .ui import effective_ui

# (session, actor or None for the system, the values) -> those that name nothing pickable
Check = Callable[[Session, Actor | None, list[Any]], set[Any]]


@dataclass(frozen=True)
class WidgetCheck:
    check: Check
    message: tuple[str, str]  # (zh, en), shown on the field


_checks: dict[str, WidgetCheck] = {}


def register_check(widget: str, check: Check, message: tuple[str, str]) -> None:
    """Have every completion check the values of ``widget`` fields with ``check``."""
    _checks[widget] = WidgetCheck(check, message)


def unregister_check(widget: str) -> None:
    _checks.pop(widget, None)


def checked_widgets() -> frozenset[str]:
    return frozenset(_checks)


def _picked(layout: dict[str, Any], data: Any, path: tuple) -> Iterator[tuple[str, str, Any]]:
    """(widget, field path, value) of every filled-in field of a checked widget, table cells
    included."""
    if not isinstance(data, dict):
        return
    for name, field in (layout.get("fields") or {}).items():
        value = data.get(name)
        if value in (None, "") or field.get("readonly"):
            continue
        here = (*path, name)
        if field.get("widget") == "table" and isinstance(value, list):
            for index, row in enumerate(value):
                yield from _picked(field.get("columns") or {}, row, (*here, index))
        elif field.get("widget") in _checks and _scalar(value):
            yield field["widget"], ".".join(str(p) for p in here), value


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def unknown_values(
    session: Session, actor: Actor | None, form: Any, data: Any, locale: str = "zh"
) -> dict[str, list[str]]:
    """Errors on the fields whose value names no record the actor may pick; one query per
    widget used, none for a form without checked widgets."""
    if not _checks:
        return {}
    schema, ui = form_parts(form)
    found: dict[str, list[tuple[str, Any]]] = {}
    for widget, path, value in _picked(effective_ui(schema, ui), data, ()):
        found.setdefault(widget, []).append((path, value))
    english = str(locale).lower().startswith("en")
    errors: dict[str, list[str]] = {}
    for widget, picked in found.items():
        entry = _checks[widget]
        unknown = entry.check(session, actor, [value for _, value in picked])
        for path, value in picked:
            if value in unknown:
                errors[path] = [entry.message[1] if english else entry.message[0]]
    return errors


def unknown_users(session: Session, actor: Actor | None, names: list[Any]) -> set[Any]:
    """Those of ``names`` that are no active user of a unit in the actor's scope (the user
    picker offers the same people)."""
    wanted = {n for n in names if isinstance(n, str) and len(n) <= 80}
    query = (
        sa.select(User.username)
        .outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(User.active.is_(True), User.username.in_(wanted))
    )
    if actor is not None:
        query = query.where(scope.visible(actor, OrgUnit.path))
    found = set(session.scalars(query))
    return {n for n in names if n not in found}


USER_MESSAGE = ("没有这个用户，请从列表中选择", "No such user: pick one from the list")
