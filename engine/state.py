"""Stored workflow state: SpiffWorkflow's serializer without the spec, and history pruning.

The spec of a definition never changes once deployed, so it is stored once on the definition
row and kept parsed in memory; an instance row holds only its task tree and data. The tree is
pruned after every command: completed tasks that every live token has left behind are dropped,
so an instance that went round a loop 500 times loads as fast as a new one. The history users
see lives in the audit table, not in the task tree.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from .script_engine import script_engine

STATE_FORMAT = "csm-1"


class InstanceStateConverter(BpmnWorkflowConverter):
    """Converts a workflow without its spec; the spec comes from the definition on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec=None, subprocess_specs=None) -> BpmnWorkflow:  # noqa: ANN001
        dct["spec"] = spec
        dct["subprocess_specs"] = subprocess_specs
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        from uuid import UUID

        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = InstanceStateConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


serializer = _make_serializer()
_spec_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def dump_spec(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    registry = _spec_serializer.registry
    return json.dumps(
        {
            "spec": registry.convert(spec),
            "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
        }
    )


def load_spec(spec_json: str) -> tuple[Any, dict[str, Any]]:
    registry = _spec_serializer.registry
    dct = json.loads(spec_json)
    return registry.restore(dct["spec"]), {
        name: registry.restore(s) for name, s in dct["subprocess_specs"].items()
    }


class SpecCache:
    """Parsed specs by (database, definition id).

    Specs are immutable once deployed, so sharing one parsed spec between threads is safe;
    the stored JSON is read from the database only on a miss.
    """

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[Hashable, tuple[Any, dict[str, Any]]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, load_json: Callable[[], str]) -> tuple[Any, dict[str, Any]]:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        loaded = load_spec(load_json())
        with self._lock:
            self._items[key] = loaded
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return loaded

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


spec_cache = SpecCache()


def new_workflow(spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)


def dump_workflow(workflow: BpmnWorkflow) -> str:
    return serializer.serialize_json(workflow)


def load_workflow(state: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    dct = json.loads(state)
    serializer.migrate(dct)
    workflow = serializer.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


def _has_live_task(task: Any, cache: dict[Any, bool]) -> bool:
    """Whether ``task`` or any descendant has not finished (iterative, trees can be deep)."""
    order, stack = [], [task]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    for node in reversed(order):
        live = not node.has_state(TaskState.FINISHED_MASK) or any(
            cache[child.id] for child in node.children
        )
        cache[node.id] = live
    return cache[task.id]


def prune_history(workflow: BpmnWorkflow, passed: set[str] | None = None) -> int:
    """Drop completed tasks that lie wholly behind every live token; return how many.

    ``passed`` collects the BPMN ids of the completed tasks dropped, so that the path an
    instance took can still be drawn once its history is gone.

    The anchor is the deepest completed task that is an ancestor of every unfinished task.
    Its ancestors and their finished side branches are removed and it is hung directly under
    the root. Joins, boundary events and loops only look at tasks after the anchor.
    """
    if workflow.is_completed():
        return 0
    root = workflow.task_tree
    live: dict[Any, bool] = {}
    _has_live_task(root, live)
    anchor = root
    while True:
        live_children = [c for c in anchor.children if live[c.id]]
        if len(live_children) != 1 or not live_children[0].has_state(TaskState.COMPLETED):
            break
        anchor = live_children[0]
    if anchor is root or anchor.parent is root:
        return 0
    keep: set[Any] = set()
    stack = [anchor]
    while stack:
        node = stack.pop()
        keep.add(node.id)
        stack.extend(node.children)
    keep.add(root.id)
    dropped = [task_id for task_id in workflow.tasks if task_id not in keep]
    for task_id in dropped:
        task = workflow.tasks[task_id]
        if passed is not None and task.has_state(TaskState.COMPLETED) and task.task_spec.bpmn_id:
            passed.add(task.task_spec.bpmn_id)
        if task_id in workflow.subprocesses:
            workflow.delete_subprocess(workflow.tasks[task_id])
        workflow.event_manager.tasks.pop(task_id, None)
        del workflow.tasks[task_id]
    anchor.data = deepcopy(anchor.data)
    root._children = [anchor.id]
    anchor._parent = root.id
    if workflow.last_task is not None and workflow.last_task.id not in keep:
        workflow.last_task = anchor
    return len(dropped)
