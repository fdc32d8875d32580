"""Commands on definitions: deploy files, grant the start of a process."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from ..deployment import DeployedDefinition, deploy, find_definition
from ..errors import Forbidden, InvalidInput, NotFound
from ..models import (
    StartGrant,
)
from .executor import (
    CommandContext,
    audit,
    require_admin,
)


@dataclass
class Deploy:
    files: list[tuple[str, bytes]]
    source: str = "api"

    def execute(self, context: CommandContext) -> list[DeployedDefinition]:
        if not context.actor.may_deploy:
            raise Forbidden("only administrators and process designers may deploy")
        results = deploy(
            context.session, self.files, deployed_by=context.actor.username, source=self.source
        )
        audit(
            context,
            "deploy",
            None,
            details={
                "files": [n for n, _ in self.files],
                "definitions": [r.as_dict() for r in results],
            },
        )
        return results


@dataclass
class GrantStart:
    """Let groups start a process beyond the lane of its start event (replaces earlier grants)."""

    process_key: str
    groups: list[str] = field(default_factory=list)

    def execute(self, context: CommandContext) -> list[str]:
        session = context.session
        require_admin(context.actor)
        if find_definition(session, self.process_key) is None:
            raise NotFound(f"process {self.process_key!r} is not deployed")
        groups = sorted({g.strip() for g in self.groups if isinstance(g, str) and g.strip()})
        too_long = [g for g in groups if len(g) > 80]
        if too_long:
            raise InvalidInput("group names have at most 80 characters", {"groups": too_long})
        session.execute(sa.delete(StartGrant).where(StartGrant.process_key == self.process_key))
        session.add_all(StartGrant(process_key=self.process_key, group_name=g) for g in groups)
        audit(
            context,
            "grant_start",
            None,
            details={"process_key": self.process_key, "groups": groups},
        )
        return groups
