"""Commands on the organisation tree: saving a unit and moving one with its work.

Moving a unit changes what its people see and who sees its instances, so it is a command:
administrators only, one transaction for the unit, its subtree and every instance and task
path below it, and an audit row naming the old and the new parent and path.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import OrgUnit
from ..org import find_unit, get_unit, move_unit, root_unit, upsert_unit
from .executor import CommandContext, audit, require_admin


@dataclass
class MoveOrgUnit:
    """Put unit ``code`` below unit ``parent_code`` (HQ when empty)."""

    code: str
    parent_code: str | None = None

    def execute(self, context: CommandContext) -> OrgUnit:
        require_admin(context.actor)
        session = context.session
        unit = get_unit(session, (self.code or "").strip())
        parent = get_unit(session, self.parent_code) if self.parent_code else root_unit(session)
        old_parent = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
        old_path = unit.path
        if old_parent is not None and old_parent.id == parent.id:
            return unit
        old_parent_code = old_parent.code if old_parent is not None else None
        moved = move_unit(session, unit, parent)
        audit(
            context,
            "move_org_unit",
            None,
            details={
                "unit": unit.code,
                "old_parent": old_parent_code,
                "new_parent": parent.code,
                "old_path": old_path,
                "new_path": unit.path,
                "moved": moved,
            },
        )
        return unit


@dataclass
class SaveOrgUnit:
    """Create a unit or update the one with that code; a new parent moves it (audited).

    What ``csm org add``, ``csm org import`` and the admin page run. The parent defaults to
    HQ, as on the command line.
    """

    code: str
    name: str
    kind: str
    parent_code: str | None = None

    def execute(self, context: CommandContext) -> OrgUnit:
        require_admin(context.actor)
        session = context.session
        code = (self.code or "").strip()
        existing = find_unit(session, code) if code else None
        before = (existing.name, existing.kind) if existing is not None else None
        if existing is not None and self.kind != "hq":
            MoveOrgUnit(code, self.parent_code).execute(context)
        unit = upsert_unit(
            session, code, name=self.name, kind=self.kind, parent_code=self.parent_code
        )
        if before != (unit.name, unit.kind):
            audit(
                context,
                "save_org_unit",
                None,
                details={
                    "unit": unit.code,
                    "name": unit.name,
                    "kind": unit.kind,
                    "previous": list(before) if before is not None else None,
                    "path": unit.path,
                },
            )
        return unit
