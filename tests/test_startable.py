"""Which processes a user may start: lane members, granted groups or roles, admins; a process
with neither lanes nor grants is for admins; a process declared ``startable`` false is started
by no one on its own; a start guard the domain registers refuses for everyone."""

from __future__ import annotations

import pytest

from engine.commands import Deploy, GrantStart, StartInstance, execute
from engine.deployment import latest_definitions
from engine.errors import DeploymentError, Forbidden
from engine.identity import (
    SYSTEM_ACTOR,
    Actor,
    StartRefusal,
    register_start_guard,
    startable_definitions,
    unregister_start_guard,
)
from tests.conftest import BPMN_DIR

CALLED_ONLY = b"""<bpmn:process id="parallel" name="Two checks in parallel" isExecutable="true">
    <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startable" value="%s" />
    </spiffworkflow:properties></bpmn:extensionElements>"""


def keys(engine_env, actor: Actor) -> list[str]:  # noqa: ANN001
    with engine_env.session_factory() as session:
        found = startable_definitions(session, actor, latest_definitions(session))
        return [d.key for d in found]


def deploy_parallel(engine_env, startable: bytes) -> None:  # noqa: ANN001
    """parallel.bpmn with its process declared ``startable`` as given."""
    content = (
        (BPMN_DIR / "parallel.bpmn")
        .read_bytes()
        .replace(
            b'<bpmn:process id="parallel" name="Two checks in parallel" isExecutable="true">',
            CALLED_ONLY % startable,
        )
    )
    with engine_env.session_factory() as session:
        execute(session, Deploy([("parallel.bpmn", content)]), SYSTEM_ACTOR)


def test_lane_members_start_and_others_do_not(engine_env):
    engine_env.deploy("exclusive.bpmn", "parallel.bpmn")
    assert "exclusive" in keys(engine_env, engine_env.actors["agent"])
    assert "exclusive" not in keys(engine_env, engine_env.actors["outlet"])


def test_a_granted_role_may_start(engine_env):
    engine_env.deploy("exclusive.bpmn")
    engine_env.run(GrantStart("exclusive", ["team_lead"]))
    lead = Actor("lead", frozenset(), roles=frozenset({"team_lead"}))
    assert keys(engine_env, lead) == ["exclusive"]


def test_a_process_without_lanes_or_grants_is_offered_to_admins_only(engine_env):
    engine_env.deploy("parallel.bpmn")
    assert keys(engine_env, engine_env.actors["admin"]) == ["parallel"]
    assert keys(engine_env, engine_env.actors["nobody"]) == []
    with pytest.raises(Forbidden):
        engine_env.run(StartInstance("parallel"), "nobody")


def test_a_called_only_process_is_offered_to_no_one_and_refused_to_admins(engine_env):
    deploy_parallel(engine_env, b"false")
    assert keys(engine_env, engine_env.actors["admin"]) == []
    with pytest.raises(Forbidden) as refused:
        engine_env.run(StartInstance("parallel"), "admin")
    assert refused.value.details == {"reason": "called_only"}


def test_an_older_version_follows_the_newest_versions_called_only_declaration(engine_env):
    engine_env.deploy("parallel.bpmn")
    deploy_parallel(engine_env, b"false")
    with pytest.raises(Forbidden):
        engine_env.run(StartInstance("parallel", version=1), "admin")


def test_a_start_guard_refuses_everyone_unless_the_start_comes_its_way(engine_env):
    def only_via_the_desk(definition, via):  # noqa: ANN001, ANN202
        if definition.key == "parallel" and via != "desk":
            return StartRefusal("desk_only", "parallel starts at the desk")
        return None

    engine_env.deploy("parallel.bpmn")
    register_start_guard(only_via_the_desk)
    try:
        assert keys(engine_env, engine_env.actors["admin"]) == []
        with pytest.raises(Forbidden) as refused:
            engine_env.run(StartInstance("parallel"), "admin")
        assert refused.value.details == {"reason": "desk_only"}
        assert engine_env.run(StartInstance("parallel", via="desk"), "admin").status == "running"
    finally:
        unregister_start_guard(only_via_the_desk)


def test_a_startable_value_other_than_true_or_false_is_refused_at_deploy(engine_env):
    with pytest.raises(DeploymentError) as refused:
        deploy_parallel(engine_env, b"no")
    assert "startable" in str(refused.value)


def test_message_senders_that_are_not_names_are_refused_at_deploy(engine_env):
    content = (
        (BPMN_DIR / "messages.bpmn")
        .read_bytes()
        .replace(
            b'<bpmn:startEvent id="start">',
            b'<bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>'
            b'<spiffworkflow:property name="messageSenders" value="outlets; drop" />'
            b"</spiffworkflow:properties></bpmn:extensionElements>",
        )
    )
    with pytest.raises(DeploymentError) as refused, engine_env.session_factory() as session:
        execute(session, Deploy([("messages.bpmn", content)]), SYSTEM_ACTOR)
    assert "messageSenders" in str(refused.value)


def test_only_the_newest_version_of_each_key_is_offered(engine_env):
    engine_env.deploy("exclusive.bpmn")
    changed = (
        (BPMN_DIR / "exclusive.bpmn")
        .read_bytes()
        .replace(b'name="Approve by amount"', b'name="Approve by amount, v2"')
    )
    with engine_env.session_factory() as session:
        execute(session, Deploy([("exclusive.bpmn", changed)]), SYSTEM_ACTOR)
    with engine_env.session_factory() as session:
        assert [(d.key, d.version) for d in latest_definitions(session)] == [("exclusive", 2)]
