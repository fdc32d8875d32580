"""A business status on the instance: the stage of the case its tokens stand at, in the terms
the business uses (received, in review, closed), set by the model rather than by code.

An activity or event names the status it stands for with the property ``orderStatus``
(CONTRACT.md). When a token reaches such an element, in this process or a process it calls,
the instance takes that status. Automatic steps count as they run (in the order they ran);
a human task or a wait counts when it becomes live, after them. The engine only projects the
value; a domain that keeps its own record of the case (the service order) listens.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from lxml import etree
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy.orm import Session

from .models import ProcessInstance

PROPERTY = "orderStatus"
STATUS_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"

Listener = Callable[[Session, ProcessInstance, str], None]
_listeners: list[Listener] = []
# per loaded workflow: when it was loaded (a task live since before was reached earlier)
_loaded_at: WeakKeyDictionary[BpmnWorkflow, float] = WeakKeyDictionary()
# per workflow: the statuses its automatic steps reached during this command, in order
_reached: WeakKeyDictionary[BpmnWorkflow, list[str]] = WeakKeyDictionary()


def on_change(listener: Listener) -> None:
    """Call ``listener(session, instance, status)`` in the command's transaction whenever an
    instance's business status changes."""
    if listener not in _listeners:
        _listeners.append(listener)


def status_of(task: Any) -> str | None:
    properties = (getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}
    value = properties.get(PROPERTY)
    return value.strip() if isinstance(value, str) and value.strip() else None


def loaded(workflow: BpmnWorkflow) -> None:
    """Remember when the workflow was loaded: a task whose state last changed before then was
    reached by an earlier command. (A timestamp rather than the live tasks: no extra walk of
    the task tree per command.)"""
    _loaded_at[workflow] = time.time()


def step_ran(task: Any) -> None:
    """An automatic step completed during the command (SpiffWorkflow's engine-step hook)."""
    status = status_of(task)
    if status is not None:
        _reached.setdefault(task.workflow.top_workflow, []).append(status)


def project(
    session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, live: list
) -> None:
    """Set the instance's business status to the last one its tokens reached in this command."""
    reached = _reached.pop(workflow, [])
    since = _loaded_at.get(workflow, 0.0)
    arrived = sorted(
        (t for t in live if t.last_state_change >= since and status_of(t) is not None),
        key=lambda t: t.last_state_change,
    )
    reached.extend(status_of(t) for t in arrived)
    _loaded_at[workflow] = time.time()
    if not reached or reached[-1] == instance.business_status:
        return
    instance.business_status = reached[-1]
    for listener in _listeners:
        listener(session, instance, reached[-1])


def named_statuses(root: etree._Element, process_key: str) -> dict[str, list[str]]:
    """The statuses a process names on its own elements (status -> element ids); the
    processes it calls are not followed (see ``called_processes``)."""
    found: dict[str, list[str]] = {}
    for process in root.iter(f"{{{BPMN}}}process"):
        if process.get("id") != process_key:
            continue
        for prop in process.iter(f"{{{SPIFF}}}property"):
            if prop.get("name") != PROPERTY:
                continue
            owner = prop.getparent()
            while owner is not None and owner.get("id") is None:
                owner = owner.getparent()
            element = owner.get("id") if owner is not None else "?"
            found.setdefault((prop.get("value") or "").strip(), []).append(element)
    return found


def called_processes(root: etree._Element, process_key: str) -> list[str]:
    for process in root.iter(f"{{{BPMN}}}process"):
        if process.get("id") == process_key:
            return [
                c.get("calledElement")
                for c in process.iter(f"{{{BPMN}}}callActivity")
                if c.get("calledElement")
            ]
    return []
