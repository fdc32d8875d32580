"""The organisation tree: units, their paths, and moving a unit with its work.

A unit's ``path`` lists the ids from the root (``/1/4/17/``). Instances and tasks carry the
path of the unit they belong to, so "this unit and every unit below it" is one index range
(``engine.scope``, the one rule of what a user sees).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import InvalidInput, NotFound
from .models import ORG_KINDS, HumanTask, OrgUnit, ProcessInstance, TaskCandidate
from .scope import path_in, within

ROOT_CODE = "HQ"


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


def _parent_for(session: Session, kind: str, parent_code: str | None) -> OrgUnit | None:
    parent = get_unit(session, parent_code) if parent_code else None
    if parent is None and kind != "hq":
        parent = root_unit(session)
    if parent is not None and parent.kind == "outlet":
        raise InvalidInput("an outlet has no units below it", {"parent": "is an outlet"})
    return parent


def _check(code: str, name: str, kind: str) -> None:
    if not code or len(code) > 40:
        raise InvalidInput("a unit code is 1 to 40 characters", {"code": "invalid"})
    if kind not in ORG_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(ORG_KINDS)}", {"kind": "invalid"})
    if not (name or "").strip():
        raise InvalidInput("a unit needs a name", {"name": "required"})


def upsert_unit(
    session: Session, code: str, *, name: str, kind: str, parent_code: str | None = None
) -> OrgUnit:
    """Create a unit, or update the name and kind of the one with that code.

    Giving an existing unit another parent is refused here: moving a unit changes what
    people see, so it is the audited ``MoveOrgUnit`` command (``SaveOrgUnit`` runs it).
    """
    code = (code or "").strip()
    _check(code, name, kind)
    parent = _parent_for(session, kind, parent_code)
    unit = find_unit(session, code)
    if unit is not None and unit.parent_id != (parent.id if parent is not None else None):
        raise InvalidInput(
            f"{code} lies below another unit; moving it is the MoveOrgUnit command",
            {"parent": "moving is a command"},
        )
    if unit is None:
        unit = OrgUnit(code=code, name=name.strip(), kind=kind, path="")
        unit.parent_id = parent.id if parent is not None else None
        session.add(unit)
        session.flush()
        unit.path = (parent.path if parent is not None else "/") + f"{unit.id}/"
    unit.name, unit.kind = name.strip(), kind
    session.flush()
    return unit


def move_unit(session: Session, unit: OrgUnit, parent: OrgUnit) -> dict[str, int]:
    """Put ``unit`` below ``parent``, rewriting the paths of its subtree and of the instances
    and tasks there, in the caller's transaction. Only ``MoveOrgUnit`` calls this.

    Answers how many rows of each kind moved.
    """
    if parent.kind == "outlet":
        raise InvalidInput("an outlet has no units below it", {"parent": "is an outlet"})
    if path_in(parent.path, unit.path):
        raise InvalidInput(
            f"{parent.code} lies below {unit.code}", {"parent": "would make a cycle"}
        )
    new_path = parent.path + f"{unit.id}/"
    moved = _move_subtree(session, unit.path, new_path) if unit.path != new_path else {}
    unit.parent_id, unit.path = parent.id, new_path
    session.flush()
    return moved


def _move_subtree(session: Session, old: str, new: str) -> dict[str, int]:
    """Rewrite the paths of every unit, instance and task at or below ``old``."""
    moved = {}
    for model in (OrgUnit, ProcessInstance, HumanTask, TaskCandidate):
        column = model.path if model is OrgUnit else model.org_path
        result = session.execute(
            sa.update(model)
            .where(within(column, old))
            .values({column.key: sa.literal(new) + sa.func.substr(column, len(old) + 1)})
            .execution_options(synchronize_session=False)
        )
        moved[model.__tablename__] = result.rowcount
    session.expire_all()
    return moved


def subtree(session: Session, scope: str | None) -> list[OrgUnit]:
    """The units a scope covers, ordered as a tree."""
    return list(
        session.scalars(
            sa.select(OrgUnit).where(within(OrgUnit.path, scope)).order_by(OrgUnit.path)
        )
    )
