"""Changing where a running instance stands (Camunda's "process instance modification" and
"migration"): moving its token from one activity to another, and moving it onto a newer
version of its process with a mapping of activities.

Both are refused, with the reason, whenever the result could not be trusted: a token in a
called process, parallel tokens, a target that is not a plain activity of the process, a
waiting activity with no counterpart in the new version. The checks run before anything
changes, and ``plan_migration`` lets the UI show them before the operator confirms.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins import (
    BoundaryEventMixin,
    ManualTaskMixin,
    NoneTaskMixin,
    ScriptTaskMixin,
    ServiceTaskMixin,
    SubWorkflowTaskMixin,
    UserTaskMixin,
)
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.util.task import TaskState

from .errors import Conflict
from .state import serializer

LIVE = TaskState.READY | TaskState.WAITING | TaskState.ERROR | TaskState.STARTED
ACTIVITIES = (
    UserTaskMixin,
    ManualTaskMixin,
    NoneTaskMixin,
    ScriptTaskMixin,
    ServiceTaskMixin,
    BusinessRuleTaskMixin,
    SubWorkflowTaskMixin,  # call activities and embedded subprocesses
)


def _top_live_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """Live tasks of the top-level process (a called process's tasks count at its caller)."""
    found = []
    for task in workflow.get_tasks(state=LIVE, skip_subprocesses=True):
        if isinstance(task.task_spec, BoundaryEventSplit | BoundaryEventMixin):
            continue  # a boundary event waits with its activity, it is no token of its own
        found.append(task)
    return found


def _bpmn_id(task: Any) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def activity_ids(spec: Any) -> dict[str, str]:
    """The activities a token may be moved to: BPMN id to name."""
    return {
        s.bpmn_id: s.bpmn_name or s.bpmn_id
        for s in spec.task_specs.values()
        if isinstance(s, ACTIVITIES) and isinstance(s, BpmnTaskSpec) and s.bpmn_id
    }


def _entry_spec(spec: Any, target: Any) -> Any:
    """An activity with boundary events is entered through the split that arms them."""
    for candidate in target.inputs:
        if isinstance(candidate, BoundaryEventSplit):
            return candidate
    return target


def move_token(workflow: BpmnWorkflow, source: str, target: str) -> None:
    """Cancel the token at ``source`` and start one before ``target``, with the same data.

    Refused unless the instance has exactly one token, at ``source``, in its own process,
    and ``target`` is a task or call activity of that process.
    """
    live = _top_live_tasks(workflow)
    ids = sorted({_bpmn_id(t) or "" for t in live})
    if source not in ids:
        raise Conflict(f"no token waits at {source!r}; the tokens are at {', '.join(ids)}")
    if len(ids) != 1:
        raise Conflict(
            "the instance has tokens at several activities "
            f"({', '.join(ids)}); moving one of them is not safe"
        )
    spec = workflow.spec
    if target not in activity_ids(spec):
        raise Conflict(f"{target!r} is not a task or call activity of {spec.name!r}")
    token = next(t for t in live if _bpmn_id(t) == source)
    data = deepcopy(token.data if token.data else token.parent.data)
    anchor = token
    while isinstance(anchor.parent.task_spec, BoundaryEventSplit) or (
        anchor.parent.has_state(TaskState.NOT_FINISHED_MASK)
    ):
        anchor = anchor.parent
    parent = anchor.parent
    cancelled = {t.id for t in anchor}
    for task_id in list(workflow.subprocesses):
        if task_id in cancelled:
            called = workflow.subprocesses[task_id]
            cancelled.update(called.tasks)
            workflow.delete_subprocess(workflow.get_task_from_id(task_id))
    workflow._remove_task(anchor.id)
    for task_id in cancelled:  # the cancelled steps' timers and messages wait no more
        workflow.event_manager.tasks.pop(task_id, None)
    entered = parent._add_child(_entry_spec(spec, spec.task_specs[target]), TaskState.FUTURE)
    entered.data = data
    entered.task_spec._predict(entered, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    entered.task_spec._update(entered)
    workflow.last_task = parent


@dataclass
class MigrationPlan:
    """What a migration would do to one instance, or why it cannot."""

    moves: dict[str, str] = field(default_factory=dict)  # live activity -> new activity
    problems: list[str] = field(default_factory=list)

    @property
    def possible(self) -> bool:
        return not self.problems


def _diffs(
    workflow: BpmnWorkflow, new_spec: Any, new_subprocesses: dict[str, Any], mapping: dict
) -> tuple[WorkflowDiff, dict[Any, WorkflowDiff | None], MigrationPlan]:
    registry = serializer.registry
    plan = MigrationPlan()
    top = WorkflowDiff(workflow, SpecDiff(registry, workflow.spec, new_spec))
    for task in list(top.alignment):
        wanted = mapping.get(task.task_spec.name)
        if wanted:
            top.alignment[task] = new_spec.task_specs.get(wanted)
    for task in top.removed:
        wanted = mapping.get(task.task_spec.name)
        if wanted and wanted in new_spec.task_specs:
            top.alignment[task] = new_spec.task_specs[wanted]
    for task in _top_live_tasks(workflow):
        old_id = _bpmn_id(task) or task.task_spec.name
        new = top.alignment.get(task)
        if new is None:
            plan.problems.append(
                f"the token at {old_id!r} has no counterpart in the new version; map it"
            )
        else:
            plan.moves[old_id] = getattr(new, "bpmn_id", None) or new.name
    unknown = [f"{k} -> {v}" for k, v in mapping.items() if v not in new_spec.task_specs]
    if unknown:
        plan.problems.append(
            "the mapping names activities the new version lacks: " + ", ".join(unknown)
        )
    called: dict[Any, WorkflowDiff | None] = {}
    for task_id, sub in workflow.subprocesses.items():
        if not workflow.get_task_from_id(task_id).has_state(LIVE):
            continue
        new_sub = new_subprocesses.get(sub.spec.name)
        if new_sub is None:
            plan.problems.append(f"the called process {sub.spec.name!r} is not in the new version")
            called[task_id] = None
            continue
        diff = WorkflowDiff(sub, SpecDiff(registry, sub.spec, new_sub))
        called[task_id] = diff
        for task in sub.get_tasks(state=LIVE):
            if diff.alignment.get(task) is None:
                plan.problems.append(
                    f"the token at {_bpmn_id(task)!r} in {sub.spec.name!r} has no counterpart"
                )
    return top, called, plan


def plan_migration(
    workflow: BpmnWorkflow,
    new_spec: Any,
    new_subprocesses: dict[str, Any],
    mapping: dict[str, str] | None = None,
) -> MigrationPlan:
    return _diffs(workflow, new_spec, new_subprocesses, mapping or {})[2]


def migrate(
    workflow: BpmnWorkflow,
    new_spec: Any,
    new_subprocesses: dict[str, Any],
    mapping: dict[str, str] | None = None,
) -> MigrationPlan:
    """Put the workflow on the new spec; nothing changes when the plan has problems."""
    top, called, plan = _diffs(workflow, new_spec, new_subprocesses, mapping or {})
    if not plan.possible:
        raise Conflict("the migration is not safe: " + "; ".join(plan.problems))
    # The waiting tokens' branches are predicted again from the new spec (SpiffWorkflow
    # resets them in place, so their task ids, and the human tasks, stay the same).
    migrate_workflow(top, workflow, new_spec)
    for task_id, diff in called.items():
        sub = workflow.subprocesses[task_id]
        migrate_workflow(diff, sub, new_subprocesses[sub.spec.name])
    workflow.subprocess_specs = new_subprocesses
    return plan
