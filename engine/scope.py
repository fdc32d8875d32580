"""The one rule of what an actor sees: the only place that compares organisation paths.

A unit's ``path`` lists the ids from the root (``/1/4/17/``); instances and tasks carry the
path of the unit they belong to. An actor's scope is the path of its unit, or ``None`` for
everything (HQ and its departments, administrators, the system). What lies at or below the
scope is visible: the half-open string range of ``scope_range``. The SQL clause (``visible``,
``within``) and the Python predicate for a row already loaded (``sees``, ``path_in``) are both
made from that range, so they cannot disagree; every query, page, export, picker and API
answer goes through them. ``tests/security/test_one_scope_rule.py`` fails when code outside
this module compares paths itself.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa

# members of these units see the whole tree
UNSCOPED_KINDS = ("hq", "department")
# the scope of a user who belongs to no unit (theirs was removed, or a row was edited by
# hand): a path no unit has, so they see nothing rather than everything
NOWHERE = "/-/"
# the text form of the range, for statements written as SQL text (the group inbox)
RANGE_SQL = " AND org_path >= :scope_low AND org_path < :scope_high"


class Scoped(Protocol):
    """What the rule needs of an actor (``engine.identity.Actor`` is one)."""

    is_admin: bool
    scope: str | None


class Unit(Protocol):
    kind: str
    path: str


def unit_scope(unit: Unit | None) -> str | None:
    """The path a member of ``unit`` sees below; HQ and its departments see everything,
    a person of no unit nothing."""
    if unit is None:
        return NOWHERE
    if unit.kind in UNSCOPED_KINDS:
        return None
    return unit.path


def scope_of(actor: Scoped) -> str | None:
    """The path whose subtree the actor sees; ``None`` sees everything."""
    return None if actor.is_admin else actor.scope


def sees_everything(actor: Scoped) -> bool:
    return scope_of(actor) is None


def scope_range(path: str) -> tuple[str, str]:
    """The half-open string range holding ``path`` and every path below it.

    Paths end in "/", and "0" is the character after "/", so the range is exact.
    """
    return path, path[:-1] + "0"


def within(column: Any, path: str | None) -> sa.ColumnElement[bool]:
    """SQL: ``column`` lies at or below ``path``; ``None`` means no limit."""
    if path is None:
        return sa.true()
    low, high = scope_range(path)
    return sa.and_(column >= low, column < high)


def visible(actor: Scoped, column: Any) -> sa.ColumnElement[bool]:
    """SQL: the row whose organisation path is ``column`` lies in the actor's scope."""
    return within(column, scope_of(actor))


def path_in(path: str | None, scope: str | None) -> bool:
    """Python, for a row already loaded: ``path`` lies at or below ``scope``."""
    if scope is None:
        return True
    low, high = scope_range(scope)
    return low <= (path or "") < high


def sees(actor: Scoped, path: str | None) -> bool:
    """Python, for a row already loaded: the actor's scope holds ``path``."""
    return path_in(path, scope_of(actor))


def range_params(actor: Scoped) -> dict[str, str]:
    """The parameters of ``RANGE_SQL`` for the actor; empty when nothing limits it."""
    scope = scope_of(actor)
    if scope is None:
        return {}
    low, high = scope_range(scope)
    return {"scope_low": low, "scope_high": high}


def ancestors(path: str) -> list[str]:
    """The paths whose scope holds ``path``: itself and every unit above it."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: n + 1]) + "/" for n in range(len(parts))]


def seen_by(path: str, *, unit_path: Any, unit_kind: Any, is_admin: Any) -> Any:
    """SQL over users: those whose scope holds ``path`` (the reverse of ``visible``).

    ``unit_path`` and ``unit_kind`` are the columns of the user's unit (outer-joined: a user
    without one sees nothing, as ``unit_scope(None)`` says), ``is_admin`` an expression saying
    the user is an administrator. A member of an unscoped unit sees it, as does a member of
    ``path`` or of a unit above it (``ancestors``: the ranges that hold ``path``).
    """
    return sa.or_(
        is_admin,
        unit_kind.in_(UNSCOPED_KINDS),
        unit_path.in_(ancestors(path)) if path else sa.false(),
    )
