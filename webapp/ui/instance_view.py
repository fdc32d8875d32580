"""An instance's page as it is drawn: its diagram with the path taken, tasks, incidents,
history, comments, and for operators what they may do (the data editor, the token's
possible targets, the newer versions).

Its own module because two views draw it: the page itself, and an operator's refused data
change, which answers 422 with the same page showing what was typed and why it was refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from engine import modification, monitoring, queries, runtime
from engine.models import Comment, ProcessDefinition, ProcessInstance
from engine.monitoring import versions_of

from ..extensions import db
from .data_editor import Editor, editor_for


def move_targets(instance: ProcessInstance) -> dict[str, str]:
    spec, _subprocesses = runtime.definition_spec(db.session, instance.definition_id)
    return modification.activity_ids(spec)


def newer_versions(instance: ProcessInstance) -> list[int]:
    """The versions of the instance's process it could migrate to, oldest first."""
    return sorted(
        v.definition.version
        for v in versions_of(db.session, instance.process_key)
        if v.definition.version > instance.process_version
    )


def render_instance(
    instance: ProcessInstance, *, data: Editor | None = None, status: int = 200
) -> tuple[str, int]:
    """The page of ``instance`` (already checked to be in the caller's scope); ``data`` is
    the data editor as it should show, its current variables by default."""
    comments = db.session.scalars(
        sa.select(Comment).where(Comment.instance_id == instance.id).order_by(Comment.id)
    ).all()
    incidents = queries.incidents_of(db.session, instance.id)
    path = monitoring.instance_path(db.session, instance)
    drawn = monitoring.drawn_activity(db.session, instance.definition_id)
    open_incidents: dict[str, int] = {}
    for incident in incidents:
        if incident.status == "open":
            shown = drawn.get(incident.activity or "", incident.activity or "")
            open_incidents[shown] = open_incidents.get(shown, 0) + 1
    source = db.session.scalar(
        sa.select(ProcessDefinition.source).where(ProcessDefinition.id == instance.definition_id)
    )
    operates = current_user.actor.may_operate
    page = render_template(
        "instances/instance.html",
        instance=instance,
        tasks=queries.open_tasks_of(db.session, instance.id),
        incidents=incidents,
        history=queries.history_of(db.session, instance.id),
        names=queries.activity_names(db.session, instance.definition_id),
        comments=comments,
        source=source,
        move_targets=move_targets(instance) if operates else {},
        newer_versions=newer_versions(instance) if operates else [],
        data=data or editor_for(instance.variables or {}),
        overlay={
            "completed": path.completed,
            "current": path.current,
            "failed": path.failed,
            "incidents": open_incidents,
        },
    )
    return page, status
