"""Which processes a user may start: lane members, granted groups or roles, admins."""

from __future__ import annotations

from engine.commands import Deploy, GrantStart, execute
from engine.deployment import latest_definitions
from engine.identity import SYSTEM_ACTOR, Actor, startable_definitions
from tests.conftest import BPMN_DIR


def keys(engine_env, actor: Actor) -> list[str]:  # noqa: ANN001
    with engine_env.session_factory() as session:
        found = startable_definitions(session, actor, latest_definitions(session))
        return [d.key for d in found]


def test_lane_members_start_and_others_do_not(engine_env):
    engine_env.deploy("exclusive.bpmn", "parallel.bpmn")
    assert "exclusive" in keys(engine_env, engine_env.actors["agent"])
    assert "exclusive" not in keys(engine_env, engine_env.actors["outlet"])


def test_a_granted_role_may_start(engine_env):
    engine_env.deploy("exclusive.bpmn")
    engine_env.run(GrantStart("exclusive", ["team_lead"]))
    lead = Actor("lead", frozenset(), roles=frozenset({"team_lead"}))
    assert keys(engine_env, lead) == ["exclusive"]


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
