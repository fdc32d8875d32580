"""Call activities, multi-instance tasks and DMN business rules."""

from __future__ import annotations

import pytest

from engine.commands import Complete, StartInstance
from engine.errors import DeploymentError, NotFound
from engine.state import spec_cache
from tests.helpers import instance, open_task, open_tasks, task_names


def test_call_activity_child_task_is_a_human_task_of_the_parent(engine_env):
    engine_env.deploy("call_parent.bpmn", "call_child.bpmn")
    started = engine_env.run(StartInstance("call_parent", business_key="C-1"))

    child_task = open_task(engine_env.session_factory, started.id, "child_task")
    assert child_task.instance_id == started.id
    assert child_task.process_key == "call_parent"
    assert child_task.business_key == "C-1"
    assert task_names(engine_env.session_factory, started.id) == ["child_task"]
    assert instance(engine_env.session_factory, started.id).status == "running"


def test_completing_the_child_task_continues_the_parent_with_the_child_data(engine_env):
    engine_env.deploy("call_parent.bpmn", "call_child.bpmn", "child_note.form.json")
    started = engine_env.run(StartInstance("call_parent", variables={"order": "A-7"}))
    child_task = open_task(engine_env.session_factory, started.id, "child_task")

    engine_env.run(Complete(child_task.id, data={"note": "checked"}))

    assert task_names(engine_env.session_factory, started.id) == ["after"]
    parent = instance(engine_env.session_factory, started.id)
    assert parent.status == "running"
    assert parent.variables["child_done"] is True
    assert parent.variables["note"] == "checked"
    assert parent.variables["order"] == "A-7"

    after = open_task(engine_env.session_factory, started.id, "after")
    engine_env.run(Complete(after.id))
    done = instance(engine_env.session_factory, started.id)
    assert done.status == "completed"
    assert done.variables["child_done"] is True


def test_call_activity_resumes_after_a_restart(engine_env):
    engine_env.deploy("call_parent.bpmn", "call_child.bpmn")
    started = engine_env.run(StartInstance("call_parent"))
    child_task = open_task(engine_env.session_factory, started.id, "child_task")

    spec_cache.clear()  # a fresh worker process parses the stored spec again
    engine_env.run(Complete(child_task.id))

    assert task_names(engine_env.session_factory, started.id) == ["after"]
    assert instance(engine_env.session_factory, started.id).variables["child_done"] is True


def test_parent_deployed_alone_resolves_a_child_deployed_earlier(engine_env):
    engine_env.deploy("call_child.bpmn")
    deployed = engine_env.deploy("call_parent.bpmn")

    assert [(d.key, d.version, d.created) for d in deployed] == [("call_parent", 1, True)]
    started = engine_env.run(StartInstance("call_parent"))
    child_task = open_task(engine_env.session_factory, started.id, "child_task")
    engine_env.run(Complete(child_task.id))

    assert task_names(engine_env.session_factory, started.id) == ["after"]
    assert instance(engine_env.session_factory, started.id).variables["child_done"] is True


def test_parent_deployed_without_its_child_is_refused(engine_env):
    with pytest.raises(DeploymentError) as refused:
        engine_env.deploy("call_parent.bpmn")

    (problem,) = refused.value.details
    assert problem["file"] == "call_parent.bpmn"
    assert problem["element"] == "callActivity call"
    assert "call_child" in problem["message"]
    with pytest.raises(NotFound):
        engine_env.run(StartInstance("call_parent"))


def _review_round(engine_env, verdicts: dict[str, str]) -> int:  # noqa: ANN001
    started = engine_env.run(
        StartInstance("multi_instance", variables={"reviewers": list(verdicts)})
    )
    tasks = open_tasks(engine_env.session_factory, started.id)
    assert [t.name for t in tasks] == ["review"] * len(verdicts)
    for task, verdict in zip(tasks, verdicts.values(), strict=True):
        engine_env.run(Complete(task.id, data={"verdict": verdict}))
    return started.id


def test_parallel_multi_instance_opens_one_task_per_reviewer(engine_env):
    engine_env.deploy("multi_instance.bpmn", "verdict.form.json")
    started = engine_env.run(
        StartInstance("multi_instance", variables={"reviewers": ["a", "b", "c"]})
    )

    tasks = open_tasks(engine_env.session_factory, started.id)
    assert [t.name for t in tasks] == ["review", "review", "review"]
    assert len({t.id for t in tasks}) == 3
    assert instance(engine_env.session_factory, started.id).current_activities == ["review"]


def test_multi_instance_waits_for_every_reviewer(engine_env):
    engine_env.deploy("multi_instance.bpmn", "verdict.form.json")
    started = engine_env.run(
        StartInstance("multi_instance", variables={"reviewers": ["a", "b", "c"]})
    )
    first, second, _ = open_tasks(engine_env.session_factory, started.id)

    engine_env.run(Complete(first.id, data={"verdict": "yes"}))
    engine_env.run(Complete(second.id, data={"verdict": "yes"}))

    assert task_names(engine_env.session_factory, started.id) == ["review"]
    assert instance(engine_env.session_factory, started.id).status == "running"


def test_multi_instance_collects_verdicts_and_counts_the_approvals(engine_env):
    engine_env.deploy("multi_instance.bpmn", "verdict.form.json")
    started_id = _review_round(engine_env, {"a": "yes", "b": "no", "c": "yes"})

    done = instance(engine_env.session_factory, started_id)
    assert done.status == "completed"
    assert done.variables["approvals"] == 2
    assert sorted(done.variables["reviews"]) == ["no", "yes", "yes"]
    assert done.variables["reviewers"] == ["a", "b", "c"]
    assert task_names(engine_env.session_factory, started_id) == []


def test_multi_instance_collects_verdicts_in_the_order_they_were_given(engine_env):
    # Spiff appends each instance's ``verdict`` to ``reviews`` when the instance completes,
    # because ``reviews`` is a new list rather than the ``reviewers`` input updated in place.
    engine_env.deploy("multi_instance.bpmn", "verdict.form.json")
    started = engine_env.run(
        StartInstance("multi_instance", variables={"reviewers": ["a", "b", "c"]})
    )
    given = ["no", "yes", "maybe"]
    for verdict in given:
        task = open_tasks(engine_env.session_factory, started.id)[-1]
        engine_env.run(Complete(task.id, data={"verdict": verdict}))

    done = instance(engine_env.session_factory, started.id)
    assert done.variables["reviews"] == given
    assert done.variables["approvals"] == 1


def test_multi_instance_survives_a_restart_between_completions(engine_env):
    engine_env.deploy("multi_instance.bpmn", "verdict.form.json")
    started = engine_env.run(
        StartInstance("multi_instance", variables={"reviewers": ["a", "b", "c"]})
    )
    for verdict in ("yes", "yes", "yes"):
        spec_cache.clear()  # every completion in a freshly started worker
        task = open_tasks(engine_env.session_factory, started.id)[0]
        engine_env.run(Complete(task.id, data={"verdict": verdict}))

    done = instance(engine_env.session_factory, started.id)
    assert done.status == "completed"
    assert done.variables["approvals"] == 3


def test_multi_instance_over_an_empty_list_passes_straight_through(engine_env):
    engine_env.deploy("multi_instance.bpmn", "verdict.form.json")
    started = engine_env.run(StartInstance("multi_instance", variables={"reviewers": []}))

    done = instance(engine_env.session_factory, started.id)
    assert done.status == "completed"
    assert done.variables["approvals"] == 0


@pytest.mark.parametrize(("distance_km", "fee"), [(5, 30), (10, 30), (25, 50)])
def test_business_rule_task_sets_the_visit_fee_from_the_decision_table(
    engine_env, distance_km, fee
):
    engine_env.deploy("fee_rule.bpmn", "visit_fee.dmn")
    started = engine_env.run(StartInstance("fee_rule", variables={"distance_km": distance_km}))

    assert task_names(engine_env.session_factory, started.id) == ["review"]
    decided = instance(engine_env.session_factory, started.id)
    assert decided.status == "running"
    assert decided.variables == {"distance_km": distance_km, "visit_fee": fee}
