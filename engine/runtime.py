"""Running a loaded workflow inside a command: engine steps, incidents and saving.

Only commands call these functions; they change rows in the command's session and never
commit. Each save brings the instance row and its projections (``projection``) in line
with the workflow, so queries never need to deserialize a workflow.
"""

from __future__ import annotations

import json
import traceback
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from . import business_status, projection
from .errors import InvalidInput
from .identity import Actor
from .models import (
    Incident,
    ProcessDefinition,
    ProcessInstance,
    utcnow,
)
from .org import find_unit
from .services import bound_session
from .state import dump_workflow, load_workflow, prune_history, spec_cache

MAX_VALUE_CHARS = 2000


@dataclass
class StepFailure:
    """A step that raised. ``phase`` says what a retry must repeat: ``run`` the step itself,
    or ``update`` it (its pre-script ran while a predecessor completed, before it was ready).
    """

    task: Any
    error: Exception
    trace: str
    phase: str = "run"


def jsonable(data: Any) -> Any:
    """Task data as plain JSON (dates become ISO strings, callables vanish)."""
    return json.loads(json.dumps(_clean(data), default=_default))


def _clean(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _clean(v) for k, v in data.items() if not callable(v)}
    return data


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def definition_spec(session: Session, definition_id: int) -> tuple[Any, dict[str, Any]]:
    """The parsed spec of a definition, cached per database engine and definition id."""
    key = (session.get_bind(), definition_id)
    return spec_cache.get(
        key,
        lambda: session.scalar(
            sa.select(ProcessDefinition.spec_json).where(ProcessDefinition.id == definition_id)
        ),
    )


def load(session: Session, instance: ProcessInstance) -> BpmnWorkflow:
    spec, subprocess_specs = definition_spec(session, instance.definition_id)
    workflow = load_workflow(instance.state, spec, subprocess_specs)
    if instance.status not in ("completed", "terminated"):
        projection.track(workflow, workflow.get_tasks(state=TaskState.READY, manual=True))
        business_status.loaded(workflow)
    return workflow


def _needs_snapshot(task: Any) -> bool:
    spec = task.task_spec
    return (
        isinstance(spec, ScriptEngineTask)
        or bool(getattr(spec, "prescript", None))
        or bool(getattr(spec, "postscript", None))
    )


def _may_write(task: Any) -> bool:
    """Steps that can write to the database: service tasks, whose operations use the
    command's session. Scripts, conditions and gateways only touch task data."""
    return isinstance(task.task_spec, ServiceTask)


class _SessionUnusable(Exception):
    """The session failed before a step began (flushing earlier work for its savepoint):
    the command's own error, not the step's."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def run_engine_steps(workflow: BpmnWorkflow) -> StepFailure | None:
    """Run automatic steps until only human tasks and waits remain; catch the first failure.

    A step that fails while running is left in ERROR with the data it started with, so a
    retry runs it again from the same point; everything that ran before it stays done.

    A step that can write to the database (a service task) runs in a SAVEPOINT of the
    command's session: when it fails, what its operation wrote is rolled back with it, and
    the incident is recorded in the command's transaction, which commits. Other steps get
    no savepoint: on PostgreSQL each SAVEPOINT and RELEASE is a round trip, and a script or
    condition only changes task data, which the snapshot taken here restores.
    """
    snapshots: dict[Any, dict] = {}
    running: list[Any] = []
    session = bound_session()
    savepoint: list[Any] = []

    def before(task: Any) -> None:
        running[:] = [task]
        if _needs_snapshot(task):
            snapshots[task.id] = deepcopy(task.data)
        if session is not None and _may_write(task):
            try:
                savepoint[:] = [session.begin_nested()]
            except Exception as exc:
                raise _SessionUnusable(exc) from exc

    def after(task: Any) -> None:
        business_status.step_ran(task)
        if savepoint:
            savepoint[0].commit()  # RELEASE; the operation's writes were flushed in its step
            savepoint.clear()

    try:
        workflow.do_engine_steps(will_complete_task=before, did_complete_task=after)
    except _SessionUnusable as unusable:
        raise unusable.error from None
    except Exception as exc:  # a designer's script, condition or service failed
        if savepoint:
            savepoint.pop().rollback()
        failure = step_failure(workflow, exc, running[0] if running else None)
        if failure.phase == "run" and failure.task is not None and failure.task.id in snapshots:
            failure.task.data = snapshots[failure.task.id]
        return failure
    return None


def step_failure(workflow: BpmnWorkflow, exc: Exception, running: Any) -> StepFailure:
    """Which task failed, and whether it failed running or being made ready."""
    task = getattr(exc, "task", None)
    if task is None:
        errored = workflow.get_tasks(state=TaskState.ERROR)
        task = errored[0] if errored else running
    phase = "run" if task is running else "update"
    if task is not None and not task.has_state(TaskState.ERROR | TaskState.COMPLETED):
        task._set_state(TaskState.ERROR)
    return StepFailure(task, exc, traceback.format_exc(), phase)


def retry_step(workflow: BpmnWorkflow, task: Any, phase: str) -> StepFailure | None:
    """Repeat a failed step: run it again, or make it (and its waiting siblings) ready again.

    A user or manual task that failed while running had been submitted by a person, so its
    completion is repeated; one that failed being made ready goes back to the inbox.
    """
    snapshot = deepcopy(task.data)
    try:
        if phase == "run":
            task._set_state(TaskState.READY)
            if task.task_spec.manual:
                task.run()
        else:
            siblings = task.parent.children if task.parent is not None else [task]
            for sibling in siblings:
                if sibling.has_state(TaskState.PREDICTED_MASK | TaskState.ERROR):
                    sibling.task_spec._update(sibling)
    except Exception as exc:
        failure = step_failure(workflow, exc, task if phase == "run" else None)
        if failure.task is task and phase == "run":
            task.data = snapshot
        return failure
    return None


def record_incident(session: Session, instance: ProcessInstance, failure: StepFailure) -> Incident:
    task = failure.task
    incident = Incident(
        instance_id=instance.id,
        task_id=str(task.id) if task is not None else "",
        activity=(task.task_spec.bpmn_id or task.task_spec.name) if task is not None else "",
        message=_error_message(failure.error),
        details=failure.trace[-8000:],
        phase=failure.phase,
    )
    session.add(incident)
    return incident


def _error_message(error: Exception) -> str:
    message = str(error) or error.__class__.__name__
    notes = getattr(error, "notes", None) or getattr(error, "__notes__", None) or []
    for note in notes:
        if note not in message:
            message += f" ({note})"
    return message[:2000]


def current_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    if workflow.is_completed():
        return jsonable(workflow.data)
    last = workflow.last_task
    if last is None:
        return {}
    return jsonable(last.data)


def live_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """Tasks holding a token (ready, waiting or failed), in one walk of the tree."""
    return workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)


def current_activities(live: list[Any]) -> list[str]:
    names = []
    for task in live:
        spec = task.task_spec
        if spec.bpmn_id and spec.bpmn_id not in names:
            names.append(spec.bpmn_id)
    return names


def save(
    session: Session,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    completed_task_id: str | None = None,
    completed_by: str | None = None,
    worker: Actor | None = None,
) -> None:
    """Persist the workflow and bring the projections in line with it.

    ``worker``: who finished the step this command ran (the starter, the completer, the
    sender of a message); a new task of one of their groups goes straight to them.

    Runs without autoflush, so the instance row is written once, by the executor's flush;
    rows this command added earlier are found in the session instead of the database.
    """
    with session.no_autoflush:
        passed: set[str] = set()
        prune_history(workflow, passed)
        if passed and not passed <= set(instance.passed_activities or ()):
            instance.passed_activities = sorted(passed.union(instance.passed_activities or ()))
        now = utcnow()
        instance.state = dump_workflow(workflow)
        instance.variables = current_variables(workflow)
        live = live_tasks(workflow)
        instance.current_activities = current_activities(live)
        business_status.project(session, instance, workflow, live)
        instance.updated_at = now
        if workflow.is_completed() and instance.status not in ("terminated",):
            instance.status = "completed"
            instance.ended_at = now
        ready = [t for t in live if t.has_state(TaskState.READY) and t.task_spec.manual]
        owner = owning_unit_code(instance.variables, ready)
        if owner:
            follow_org_variable(session, instance, owner, completing=completed_task_id)
        projection.project_human_tasks(
            session,
            instance,
            workflow,
            ready,
            completed_task_id=completed_task_id,
            completed_by=completed_by,
            worker=worker,
        )
        projection.project_waits(session, instance, workflow)
        refresh_status(session, instance)


ORG_VARIABLE = "org_unit"


def owning_unit_code(variables: dict[str, Any], ready: list[Any]) -> Any:
    """The unit the instance should belong to: ``org_unit`` as the waiting human tasks see
    it (a call activity's own data counts, as dispatch sets it there), else as the
    instance's variables have it."""
    for task in ready:
        code = task.data.get(ORG_VARIABLE)
        if code:
            return code
    return variables.get(ORG_VARIABLE)


def follow_org_variable(
    session: Session, instance: ProcessInstance, code: Any, *, completing: str | None = None
) -> None:
    """A process moves its instance by setting ``org_unit`` to a unit's code (dispatch does).

    An unknown code refuses the whole command, so nothing is saved with a wrong owner.
    """
    unit = find_unit(session, str(code))
    if unit is None:
        raise InvalidInput(
            f"the process set {ORG_VARIABLE} to {code!r}, which is no organisation unit",
            {ORG_VARIABLE: "unknown organisation unit"},
        )
    if unit.id != instance.org_unit_id:
        projection.move_instance(session, instance, unit.id, unit.path, keep=completing)


def refresh_status(session: Session, instance: ProcessInstance, *, recount: bool = False) -> None:
    """running or incident, counting open incidents only when one may have changed."""
    if instance.status in ("completed", "terminated", "suspended"):
        return
    new_incident = any(
        isinstance(obj, Incident) and obj.instance_id == instance.id for obj in session.new
    )
    if instance.status == "running" and not new_incident and not recount:
        return
    has_incident = new_incident or session.scalar(
        sa.select(sa.func.count())
        .select_from(Incident)
        .where(Incident.instance_id == instance.id, Incident.status == "open")
    )
    instance.status = "incident" if has_incident else "running"
