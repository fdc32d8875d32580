"""Gateways and loops driven through the engine's commands."""

from __future__ import annotations

from engine.commands import Complete, StartInstance
from tests.helpers import instance, open_task, task_names


def test_exclusive_gateway_sends_large_amounts_to_the_managers_lane(engine_env):
    engine_env.deploy("exclusive.bpmn", "amount_form.form.json")
    started = engine_env.run(StartInstance("exclusive"), "agent")
    enter = open_task(engine_env.session_factory, started.id, "enter")
    engine_env.run(Complete(enter.id, data={"amount": 5000, "days": 3}), "agent")

    approve = open_task(engine_env.session_factory, started.id, "approve")
    assert approve.candidate_group == "managers"
    assert approve.title == "Approve 5000 yuan"
    assert (approve.due_at - approve.created_at).days == 3


def test_exclusive_gateway_default_flow_runs_the_script_and_completes(engine_env):
    engine_env.deploy("exclusive.bpmn", "amount_form.form.json")
    started = engine_env.run(StartInstance("exclusive"), "agent")
    enter = open_task(engine_env.session_factory, started.id, "enter")
    engine_env.run(Complete(enter.id, data={"amount": 10}), "agent")

    done = instance(engine_env.session_factory, started.id)
    assert done.status == "completed"
    assert done.ended_at is not None
    assert done.variables == {"amount": 10, "approved": True, "approved_by": "rule"}


def test_user_task_properties_are_projected_from_lane_and_extensions(engine_env):
    engine_env.deploy("exclusive.bpmn", "amount_form.form.json")
    started = engine_env.run(StartInstance("exclusive", business_key="B-1"), "agent")
    enter = open_task(engine_env.session_factory, started.id, "enter")
    assert enter.candidate_group == "agents"
    assert enter.form_key == "amount_form"
    assert enter.priority == 80
    assert enter.business_key == "B-1"
    assert round((enter.due_at - enter.created_at).total_seconds()) == 4 * 3600


def test_parallel_gateway_waits_for_both_branches(engine_env):
    engine_env.deploy("parallel.bpmn", "parallel_check.form.json")
    started = engine_env.run(StartInstance("parallel"))
    assert task_names(engine_env.session_factory, started.id) == ["check_a", "check_b"]

    check_a = open_task(engine_env.session_factory, started.id, "check_a")
    engine_env.run(Complete(check_a.id, data={"a_ok": True}))
    assert task_names(engine_env.session_factory, started.id) == ["check_b"]

    check_b = open_task(engine_env.session_factory, started.id, "check_b")
    engine_env.run(Complete(check_b.id, data={"b_ok": True}))
    summary = open_task(engine_env.session_factory, started.id, "summary")
    engine_env.run(Complete(summary.id))

    done = instance(engine_env.session_factory, started.id)
    assert done.status == "completed"
    assert done.variables["a_ok"] is True and done.variables["b_ok"] is True


def test_a_loop_keeps_its_data_across_many_rounds(engine_env):
    engine_env.deploy("loop.bpmn", "loop_round.form.json")
    started = engine_env.run(StartInstance("loop", variables={"rounds": 0}))
    for round_number in range(1, 31):
        work = open_task(engine_env.session_factory, started.id, "work")
        engine_env.run(Complete(work.id, data={"again": round_number < 30, "rounds": round_number}))

    done = instance(engine_env.session_factory, started.id)
    assert done.status == "completed"
    assert done.variables["rounds"] == 30


def test_a_long_loop_does_not_grow_the_stored_state(engine_env):
    engine_env.deploy("loop.bpmn", "loop_round.form.json")
    started = engine_env.run(StartInstance("loop"))
    sizes = []
    for round_number in range(60):
        work = open_task(engine_env.session_factory, started.id, "work")
        engine_env.run(Complete(work.id, data={"again": True, "n": round_number}))
        sizes.append(len(instance(engine_env.session_factory, started.id).state))
    assert sizes[-1] <= sizes[5] * 1.1
