"""Small helpers the API views share: pagination, rendering rows, running commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.models import HumanTask, Incident, ProcessInstance, Timer
from engine.queries import Page


def page_of(query: dict[str, Any]) -> Page:
    """The page a checked query names (``page``, ``per_page``; their bounds are declared)."""
    return Page(query.get("page", 1), query.get("per_page", 50))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def task_json(task: HumanTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "title": task.title,
        "process_instance_id": task.instance_id,
        "process_key": task.process_key,
        "business_key": task.business_key,
        "assignee": task.assignee,
        "candidate_group": task.candidate_group,
        "form_key": task.form_key,
        "due": iso(task.due_at),
        "priority": task.priority,
        "status": task.status,
        "created": iso(task.created_at),
        "claimed": iso(task.claimed_at),
        "completed": iso(task.completed_at),
        "completed_by": task.completed_by,
    }


def instance_summary(instance: ProcessInstance) -> dict[str, Any]:
    return {
        "id": instance.id,
        "process_key": instance.process_key,
        "version": instance.process_version,
        "status": instance.status,
        "business_key": instance.business_key,
        "started_by": instance.started_by,
        "started": iso(instance.started_at),
        "ended": iso(instance.ended_at),
        "current_activities": instance.current_activities or [],
        "revision": instance.revision,
    }


def incident_json(incident: Incident, *, with_details: bool) -> dict[str, Any]:
    body = {
        "id": incident.id,
        "process_instance_id": incident.instance_id,
        "activity": incident.activity,
        "task_id": incident.task_id,
        "message": incident.message,
        "status": incident.status,
        "created": iso(incident.created_at),
        "resolved": iso(incident.resolved_at),
    }
    if with_details:
        body["details"] = incident.details
    return body


def timer_json(timer: Timer) -> dict[str, Any]:
    return {
        "id": timer.id,
        "activity": timer.activity,
        "kind": timer.kind,
        "due": iso(timer.due_at),
    }


def run(command: Any) -> Any:
    """Run an engine command as the caller, in the request's session."""
    from engine.commands import execute

    from ..extensions import db
    from .auth import current_actor

    return execute(db.session, command, current_actor())
