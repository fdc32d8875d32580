"""The organisation tree and the data scope it gives each user.

A unit's ``path`` lists the ids from the root (``/1/4/17/``). Instances and tasks carry the
path of the unit they belong to, so "this unit and every unit below it" is one index range.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import InvalidInput, NotFound
from .models import ORG_KINDS, HumanTask, OrgUnit, ProcessInstance, TaskCandidate

ROOT_CODE = "HQ"
UNSCOPED_KINDS = ("hq", "department")


def scope_range(path: str) -> tuple[str, str]:
    """The half-open string range holding ``path`` and every path below it.

    Paths end in "/", and "0" is the character after "/", so the range is exact.
    """
    return path, path[:-1] + "0"


def within(column: sa.ColumnElement, path: str | None) -> sa.ColumnElement[bool]:
    """SQL: ``column`` lies at or below ``path``; ``None`` means no limit."""
    if path is None:
        return sa.true()
    low, high = scope_range(path)
    return sa.and_(column >= low, column < high)


def path_within(path: str | None, scope: str | None) -> bool:
    return scope is None or (path or "").startswith(scope)


def unit_scope(unit: OrgUnit | None) -> str | None:
    """The path a member of ``unit`` sees below; HQ and its departments see everything."""
    if unit is None or unit.kind in UNSCOPED_KINDS:
        return None
    return unit.path


def find_unit(session: Session, code: str) -> OrgUnit | None:
    return session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def get_unit(session: Session, code: str) -> OrgUnit:
    unit = find_unit(session, code)
    if unit is None and code == ROOT_CODE:
        return root_unit(session)
    if unit is None:
        raise NotFound(f"organisation unit {code!r} not found")
    return unit


_ROOT = sa.select(OrgUnit).where(OrgUnit.parent_id.is_(None), OrgUnit.kind == "hq")


def root_unit(session: Session) -> OrgUnit:
    """The HQ unit. The migrations create it; a database built otherwise gets it on first
    use, and of two sessions creating it at once the loser takes the winner's."""
    root = session.scalar(_ROOT)
    if root is not None:
        return root
    try:
        with session.begin_nested():
            return upsert_unit(session, ROOT_CODE, name="总部", kind="hq")
    except sa.exc.IntegrityError:
        return session.scalar(_ROOT)


def upsert_unit(
    session: Session, code: str, *, name: str, kind: str, parent_code: str | None = None
) -> OrgUnit:
    """Create a unit or update the one with that code; a new parent moves its subtree."""
    code = (code or "").strip()
    if not code or len(code) > 40:
        raise InvalidInput("a unit code is 1 to 40 characters", {"code": "invalid"})
    if kind not in ORG_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(ORG_KINDS)}", {"kind": "invalid"})
    if not (name or "").strip():
        raise InvalidInput("a unit needs a name", {"name": "required"})
    parent = get_unit(session, parent_code) if parent_code else None
    if parent is None and kind != "hq":
        parent = root_unit(session)
    if parent is not None and parent.kind == "outlet":
        raise InvalidInput("an outlet has no units below it", {"parent": "is an outlet"})
    unit = find_unit(session, code)
    if unit is None:
        unit = OrgUnit(code=code, name=name.strip(), kind=kind, path="")
        session.add(unit)
        session.flush()
    elif parent is not None and (parent.id == unit.id or parent.path.startswith(unit.path)):
        raise InvalidInput(f"{parent.code} lies below {code}", {"parent": "would make a cycle"})
    unit.name, unit.kind = name.strip(), kind
    unit.parent_id = parent.id if parent is not None else None
    new_path = (parent.path if parent is not None else "/") + f"{unit.id}/"
    if unit.path and unit.path != new_path:
        _move_subtree(session, unit.path, new_path)
    unit.path = new_path
    session.flush()
    return unit


def _move_subtree(session: Session, old: str, new: str) -> None:
    """Rewrite the paths of every unit, instance and task at or below ``old``."""
    for model in (OrgUnit, ProcessInstance, HumanTask, TaskCandidate):
        column = model.path if model is OrgUnit else model.org_path
        session.execute(
            sa.update(model)
            .where(within(column, old))
            .values({column.key: sa.literal(new) + sa.func.substr(column, len(old) + 1)})
            .execution_options(synchronize_session=False)
        )
    session.expire_all()


def subtree(session: Session, scope: str | None) -> list[OrgUnit]:
    """The units a scope covers, ordered as a tree."""
    return list(
        session.scalars(
            sa.select(OrgUnit).where(within(OrgUnit.path, scope)).order_by(OrgUnit.path)
        )
    )
