"""Failing steps become incidents; an administrator fixes the data and retries."""

from __future__ import annotations

from uuid import UUID

import pytest

from engine.commands import (
    Complete,
    Deploy,
    GrantStart,
    MoveToken,
    Resume,
    RetryIncident,
    SetVariables,
    StartInstance,
    Suspend,
    Terminate,
    execute,
)
from engine.errors import Conflict, Forbidden
from engine.identity import SYSTEM_ACTOR
from engine.models import HumanTask
from engine.runtime import load
from tests.helpers import audit, incidents, instance, open_task, task_names


def _divide_by(engine_env, divisor: object) -> tuple[int, str]:  # noqa: ANN001
    """Start failing_script and complete 'enter'; return the instance id and the task id."""
    engine_env.deploy("failing_script.bpmn", "divisor.form.json")
    engine_env.run(GrantStart("failing_script", ["agents"]))  # it has no lanes
    started = engine_env.run(StartInstance("failing_script"), "agent")
    enter = open_task(engine_env.session_factory, started.id, "enter")
    engine_env.run(Complete(enter.id, data={"divisor": divisor}), "agent")
    return started.id, enter.id


def test_failing_script_creates_an_incident(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)

    failed = instance(engine_env.session_factory, instance_id)
    assert failed.status == "incident"
    assert failed.current_activities == ["divide"]
    (incident,) = incidents(engine_env.session_factory, instance_id)
    assert incident.activity == "divide"
    assert "division by zero" in incident.message
    assert "ZeroDivisionError" in incident.details
    assert incident.resolved_at is None
    assert task_names(engine_env.session_factory, instance_id) == []


def test_failed_script_does_not_keep_data_it_wrote_before_failing(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)

    failed = instance(engine_env.session_factory, instance_id)
    assert "partial" not in failed.variables
    assert "result" not in failed.variables
    assert failed.variables == {"divisor": 0}


def test_users_completion_before_the_failure_is_kept(engine_env):
    instance_id, enter_id = _divide_by(engine_env, 0)

    with engine_env.session_factory() as session:
        enter = session.get(HumanTask, enter_id)
        assert enter.status == "completed"
        assert enter.completed_by == "agent"
        assert enter.completed_at is not None
    rows = audit(engine_env.session_factory, instance_id)
    assert [(a.command, a.actor, a.activity) for a in rows] == [
        ("start", "agent", None),
        ("complete", "agent", "enter"),
    ]
    (completion,) = [a for a in rows if a.task_id]
    assert completion.task_id == enter_id
    assert completion.changes == {"divisor": {"old": None, "new": 0}}


def test_set_variables_and_retry_continue_to_check_with_the_result(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)
    (incident,) = incidents(engine_env.session_factory, instance_id)

    engine_env.run(SetVariables(instance_id, {"divisor": 4}))
    engine_env.run(RetryIncident(incident.id))

    assert task_names(engine_env.session_factory, instance_id) == ["check"]
    fixed = instance(engine_env.session_factory, instance_id)
    assert fixed.status == "running"
    assert fixed.variables["result"] == 25.0
    assert fixed.variables["partial"] == "touched"
    assert incidents(engine_env.session_factory, instance_id) == []
    (resolved,) = incidents(engine_env.session_factory, instance_id, status="resolved")
    assert resolved.id == incident.id
    assert resolved.resolved_at is not None
    assert [a.command for a in audit(engine_env.session_factory, instance_id)][-2:] == [
        "set_variables",
        "retry",
    ]


def test_retry_without_a_fix_opens_a_new_incident(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)
    (first,) = incidents(engine_env.session_factory, instance_id)

    engine_env.run(RetryIncident(first.id))

    failed = instance(engine_env.session_factory, instance_id)
    assert failed.status == "incident"
    assert "partial" not in failed.variables
    (second,) = incidents(engine_env.session_factory, instance_id)
    assert second.id != first.id
    assert second.activity == "divide"
    assert "division by zero" in second.message
    assert [i.id for i in incidents(engine_env.session_factory, instance_id, "resolved")] == [
        first.id
    ]


def test_retrying_a_resolved_incident_is_a_conflict(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)
    (incident,) = incidents(engine_env.session_factory, instance_id)
    engine_env.run(SetVariables(instance_id, {"divisor": 4}))
    engine_env.run(RetryIncident(incident.id))
    before = instance(engine_env.session_factory, instance_id)

    with pytest.raises(Conflict):
        engine_env.run(RetryIncident(incident.id))

    after = instance(engine_env.session_factory, instance_id)
    assert (after.revision, after.status) == (before.revision, "running")
    assert task_names(engine_env.session_factory, instance_id) == ["check"]


def test_only_administrators_may_retry(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)
    (incident,) = incidents(engine_env.session_factory, instance_id)

    with pytest.raises(Forbidden):
        engine_env.run(RetryIncident(incident.id), "agent")

    assert [i.id for i in incidents(engine_env.session_factory, instance_id)] == [incident.id]


def test_retrying_on_a_suspended_instance_is_a_conflict(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)
    (incident,) = incidents(engine_env.session_factory, instance_id)
    engine_env.run(Suspend(instance_id))

    with pytest.raises(Conflict):
        engine_env.run(RetryIncident(incident.id))

    assert [i.id for i in incidents(engine_env.session_factory, instance_id)] == [incident.id]
    assert instance(engine_env.session_factory, instance_id).status == "suspended"


def test_terminating_an_instance_cancels_its_open_incident(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)
    (incident,) = incidents(engine_env.session_factory, instance_id)

    engine_env.run(Terminate(instance_id, reason="wrong order"))

    assert instance(engine_env.session_factory, instance_id).status == "terminated"
    assert [i.id for i in incidents(engine_env.session_factory, instance_id, "cancelled")] == [
        incident.id
    ]
    with pytest.raises(Conflict):
        engine_env.run(RetryIncident(incident.id))


def test_service_task_stores_the_operation_result(engine_env, operations):
    calls = []

    def lookup_price(model, quantity):  # noqa: ANN001, ANN202
        calls.append((model, quantity))
        return {"model": model, "unit": 12.5, "total": 12.5 * quantity}

    operations.register("lookup_price", lookup_price)
    engine_env.deploy("service_task.bpmn")
    started = engine_env.run(
        StartInstance("service_task", variables={"model": "X1", "quantity": 3})
    )

    assert calls == [("X1", 6)]
    assert task_names(engine_env.session_factory, started.id) == ["confirm"]
    priced = instance(engine_env.session_factory, started.id)
    assert priced.status == "running"
    assert priced.variables["price"] == {"model": "X1", "unit": 12.5, "total": 75.0}


def test_unknown_operation_becomes_an_incident(engine_env, operations):
    engine_env.deploy("service_task.bpmn")
    started = engine_env.run(
        StartInstance("service_task", variables={"model": "X1", "quantity": 3})
    )

    failed = instance(engine_env.session_factory, started.id)
    assert failed.status == "incident"
    assert "price" not in failed.variables
    (incident,) = incidents(engine_env.session_factory, started.id)
    assert incident.activity == "price"
    assert "lookup_price" in incident.message
    assert "unknown" in incident.message
    assert task_names(engine_env.session_factory, started.id) == []


def test_registering_the_unknown_operation_then_retrying_completes_the_step(engine_env, operations):
    engine_env.deploy("service_task.bpmn")
    started = engine_env.run(
        StartInstance("service_task", variables={"model": "X1", "quantity": 3})
    )
    (incident,) = incidents(engine_env.session_factory, started.id)

    operations.register("lookup_price", lambda model, quantity: {"total": quantity * 10})
    engine_env.run(RetryIncident(incident.id))

    assert task_names(engine_env.session_factory, started.id) == ["confirm"]
    fixed = instance(engine_env.session_factory, started.id)
    assert fixed.status == "running"
    assert fixed.variables["price"] == {"total": 60}
    assert incidents(engine_env.session_factory, started.id) == []


def test_operation_that_raises_becomes_an_incident_naming_the_operation(engine_env, operations):
    def lookup_price(model, quantity):  # noqa: ANN001, ANN202
        raise ValueError(f"no price list for {model}")

    operations.register("lookup_price", lookup_price)
    engine_env.deploy("service_task.bpmn")
    started = engine_env.run(
        StartInstance("service_task", variables={"model": "X1", "quantity": 3})
    )

    assert instance(engine_env.session_factory, started.id).status == "incident"
    (incident,) = incidents(engine_env.session_factory, started.id)
    assert incident.activity == "price"
    assert "lookup_price" in incident.message
    assert "ValueError: no price list for X1" in incident.message
    assert "NameError" not in incident.message
    assert "NameError" not in incident.details


_ZIP_SCRIPT = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    targetNamespace="http://csm.test">
  <bpmn:process id="pairs" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enter" />
    <bpmn:userTask id="enter">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formKey" value="pairs_input" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="enter" targetRef="pair" />
    <bpmn:scriptTask id="pair"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>pairs = zip(names, scores)</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="pair" targetRef="check" />
    <bpmn:userTask id="check"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
_PAIRS_FORM = b"""{"key": "pairs_input", "schema": {"type": "object", "properties": {
  "names": {"type": "array", "items": {"type": "string"}},
  "scores": {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3]}}}}}"""


def test_script_leaving_an_unstorable_value_becomes_an_incident(engine_env):
    with engine_env.session_factory() as session:
        execute(
            session,
            Deploy([("pairs.bpmn", _ZIP_SCRIPT), ("pairs_input.form.json", _PAIRS_FORM)]),
            SYSTEM_ACTOR,
        )
    started = engine_env.run(StartInstance("pairs"))
    enter = open_task(engine_env.session_factory, started.id, "enter")

    engine_env.run(Complete(enter.id, data={"names": ["a", "b"], "scores": [1, 2]}))

    failed = instance(engine_env.session_factory, started.id)
    assert failed.status == "incident"
    assert "pairs" not in failed.variables
    (incident,) = incidents(engine_env.session_factory, started.id)
    assert incident.activity == "pair"
    assert "'pairs': a value of type zip" in incident.message
    with engine_env.session_factory() as session:
        assert session.get(HumanTask, enter.id).status == "completed"


def _prescript_incident(engine_env) -> tuple[int, object]:  # noqa: ANN001
    engine_env.deploy("prescript.bpmn", "divisor.form.json")
    engine_env.run(GrantStart("prescript", ["agents"]))  # it has no lanes
    started = engine_env.run(StartInstance("prescript"), "agent")
    first = open_task(engine_env.session_factory, started.id, "first")
    engine_env.run(Complete(first.id, data={"divisor": 0}), "agent")
    (incident,) = incidents(engine_env.session_factory, started.id)
    return started.id, incident


def test_a_failing_pre_script_is_an_incident_on_the_task_it_belongs_to(engine_env):
    instance_id, incident = _prescript_incident(engine_env)

    assert incident.activity == "approve"
    assert incident.phase == "update"
    assert instance(engine_env.session_factory, instance_id).status == "incident"
    assert task_names(engine_env.session_factory, instance_id) == []


def test_retrying_a_pre_script_puts_the_task_in_the_inbox_instead_of_completing_it(engine_env):
    instance_id, incident = _prescript_incident(engine_env)

    engine_env.run(SetVariables(instance_id, {"divisor": 4}))
    engine_env.run(RetryIncident(incident.id))

    approve = open_task(engine_env.session_factory, instance_id, "approve")
    assert approve.status == "open"
    after = instance(engine_env.session_factory, instance_id)
    assert after.status == "running"
    with engine_env.session_factory() as session:
        workflow = load(session, after)
        assert workflow.get_task_from_id(UUID(approve.id)).data["limit"] == 25.0


def test_resume_keeps_an_instance_with_an_open_incident_marked_as_incident(engine_env):
    instance_id, _ = _prescript_incident(engine_env)

    engine_env.run(Suspend(instance_id))
    engine_env.run(Resume(instance_id))

    assert instance(engine_env.session_factory, instance_id).status == "incident"


def test_moving_the_token_off_a_failed_step_closes_its_incident(engine_env):
    instance_id, _ = _divide_by(engine_env, 0)
    engine_env.run(MoveToken(instance_id, "divide", "check"), "admin")
    moved = instance(engine_env.session_factory, instance_id)
    assert (moved.status, moved.current_activities) == ("running", ["check"])
    assert incidents(engine_env.session_factory, instance_id) == []
    (incident,) = incidents(engine_env.session_factory, instance_id, "cancelled")
    with pytest.raises(Conflict):
        engine_env.run(RetryIncident(incident.id), "admin")
