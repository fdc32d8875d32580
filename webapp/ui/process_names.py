"""Processes by the names their designers gave them (no process keys in the Chinese UI, except
beside the name where an operator needs them)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g

from engine.models import ProcessDefinition

from ..extensions import db
from . import bp


def _names() -> dict[str, str]:
    """Every BPMN process key's name, from its newest version; read once per request."""
    if "process_names" not in g:
        rows = db.session.execute(
            sa.select(ProcessDefinition.key, ProcessDefinition.name)
            .where(ProcessDefinition.kind == "bpmn")
            .order_by(ProcessDefinition.key, ProcessDefinition.version)
        )
        g.process_names = {key: name or key for key, name in rows}
    return g.process_names


@bp.app_template_global("process_name")
def process_name(key: str | None) -> str:
    return _names().get(key or "", key or "")
