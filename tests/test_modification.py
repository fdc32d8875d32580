"""Moving an instance's token and migrating it to a newer version: what works, and what is
refused because it could not be trusted (nothing changes then)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.commands import (
    Deploy,
    MigrateInstance,
    MoveToken,
    SetVariables,
    Suspend,
    execute,
)
from engine.commands import modification as commands
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.identity import SYSTEM_ACTOR, Actor
from engine.models import AuditEntry, HumanTask, ProcessInstance, Timer
from tests.aftersales.world import build

ROOT = Path(__file__).resolve().parents[1]
MANAGER = Actor("boss", roles=frozenset({"manager"}))


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def run(world, command, actor: Actor = MANAGER):  # noqa: ANN001, ANN201
    with world.factory() as session:
        return execute(session, command, actor)


def deploy_repair(world, edit) -> int:  # noqa: ANN001
    """A new version of the repair process, its XML changed by ``edit``; its version."""
    xml = edit((ROOT / "bpmn" / "repair.bpmn").read_text(encoding="utf-8"))
    with world.factory() as session:
        (result,) = [
            r
            for r in execute(session, Deploy([("repair.bpmn", xml.encode())]), SYSTEM_ACTOR)
            if r.key == "repair"
        ]
        return result.version


def test_a_token_moves_forward_to_another_task(world):
    number = world.open_order()
    instance = world.instance(number)
    run(world, MoveToken(instance.id, "phone_support", "review"))
    assert world.open_names(number) == ["review"]
    with world.factory() as session:
        cancelled = session.scalar(
            sa.select(HumanTask.status).where(
                HumanTask.instance_id == instance.id, HumanTask.name == "phone_support"
            )
        )
        entry = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.instance_id == instance.id)
        ).all()[-1]
    assert cancelled != "open"
    assert (entry.command, entry.details) == (
        "move_token",
        {"from": "phone_support", "to": "review"},
    )


def test_the_moved_token_carries_the_data_and_the_process_goes_on(world):
    number = world.open_order()
    run(world, MoveToken(world.instance(number).id, "phone_support", "callback"))
    assert "陈静" in world.task(number, "callback").title  # the order's data came along
    world.complete(number, "callback", "agent", {"VISITED": True, "ATTITUDE": 5})
    assert world.instance(number).status == "completed"


def test_a_token_in_a_call_activity_moves_back_to_an_earlier_task(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    assert world.open_names(number) == ["accept"]  # inside the dispatch process
    run(world, MoveToken(world.instance(number).id, "dispatch", "phone_support"))
    assert world.open_names(number) == ["phone_support"]
    assert world.instance(number).current_activities == ["phone_support"]


def test_moving_from_where_no_token_waits_is_refused(world):
    number = world.open_order()
    with pytest.raises(Conflict, match="no token waits at 'review'"):
        run(world, MoveToken(world.instance(number).id, "review", "callback"))
    assert world.open_names(number) == ["phone_support"]


def test_moving_to_a_gateway_or_an_unknown_id_is_refused(world):
    number = world.open_order()
    instance = world.instance(number)
    for target in ("gw_approved", "nowhere"):
        with pytest.raises(Conflict, match="is not a task or call activity"):
            run(world, MoveToken(instance.id, "phone_support", target))
    assert world.open_names(number) == ["phone_support"]


def test_an_agent_may_not_move_tokens(world):
    number = world.open_order()
    with pytest.raises(Forbidden):
        run(
            world,
            MoveToken(world.instance(number).id, "phone_support", "review"),
            world.actors["agent"],
        )


def test_a_suspended_instance_is_not_moved(world):
    number = world.open_order()
    instance = world.instance(number)
    run(world, Suspend(instance.id))
    with pytest.raises(Conflict, match="suspended"):
        run(world, MoveToken(instance.id, "phone_support", "review"))


def test_an_instance_migrates_to_a_version_that_renamed_nothing(world):
    number = world.open_order()
    version = deploy_repair(
        world, lambda xml: xml.replace('name="电话支持"', 'name="电话支持（新）"')
    )
    instance = world.instance(number)
    run(world, MigrateInstance(instance.id, version))
    migrated = world.instance(number)
    assert (migrated.process_version, migrated.definition_id != instance.definition_id) == (
        version,
        True,
    )
    world.complete(number, "phone_support", "agent", {"solved": True})
    assert world.instance(number).status == "completed"


def without_phone_support(xml: str) -> str:
    """The repair process without its phone-support step: calls go straight to the gateway."""
    xml = re.sub(r'<bpmn:userTask id="phone_support".*?</bpmn:userTask>', "", xml, flags=re.S)
    xml = re.sub(r'<bpmn:sequenceFlow id="f_supported" [^>]*/>', "", xml)
    xml = xml.replace('targetRef="phone_support"', 'targetRef="gw_solved"')
    xml = re.sub(
        r'<bpmndi:BPMN(Shape|Edge) id="[^"]*" '
        r'bpmnElement="(phone_support|f_supported)".*?</bpmndi:BPMN\1>',
        "",
        xml,
        flags=re.S,
    )
    return xml.replace(
        "<bpmn:incoming>f_supported</bpmn:incoming>", "<bpmn:incoming>f_initialized</bpmn:incoming>"
    )


def test_a_renamed_activity_is_found_by_its_place_in_the_flow(world):
    number = world.open_order()
    version = deploy_repair(world, lambda xml: xml.replace('"phone_support"', '"phone_help"'))
    run(world, MigrateInstance(world.instance(number).id, version))
    assert world.open_names(number) == ["phone_help"]


def test_a_removed_activity_migrates_with_a_mapping(world):
    number = world.open_order()
    version = deploy_repair(world, without_phone_support)
    instance = world.instance(number)
    with world.factory() as session:
        before = commands.plan(session, session.get(ProcessInstance, instance.id), version, {})
        after = commands.plan(
            session,
            session.get(ProcessInstance, instance.id),
            version,
            {"phone_support": "callback"},
        )
    assert not before.possible and "phone_support" in before.problems[0]
    assert after.possible and after.moves == {"phone_support": "callback"}
    run(world, MigrateInstance(instance.id, version, {"phone_support": "callback"}))
    assert world.open_names(number) == ["callback"]


def test_a_migration_that_leaves_a_token_nowhere_is_refused_and_changes_nothing(world):
    number = world.open_order()
    version = deploy_repair(world, without_phone_support)
    instance = world.instance(number)
    with pytest.raises(Conflict, match="no counterpart"):
        run(world, MigrateInstance(instance.id, version))
    unchanged = world.instance(number)
    assert (unchanged.process_version, unchanged.revision) == (
        instance.process_version,
        instance.revision,
    )


def test_migrating_to_the_same_or_an_unknown_version_is_refused(world):
    number = world.open_order()
    instance = world.instance(number)
    with pytest.raises(InvalidInput):
        run(world, MigrateInstance(instance.id, instance.process_version))
    with pytest.raises(NotFound):
        run(world, MigrateInstance(instance.id, 99))


def test_a_move_out_of_a_call_activity_drops_its_timers(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    instance = world.instance(number)
    with world.factory() as session:
        assert session.scalar(sa.select(sa.func.count()).where(Timer.instance_id == instance.id))
    run(world, MoveToken(instance.id, "dispatch", "phone_support"))
    with world.factory() as session:
        left = session.scalar(sa.select(sa.func.count()).where(Timer.instance_id == instance.id))
    assert left == 0  # the accept time-out went with the cancelled dispatch


def test_a_manager_of_a_center_cannot_act_outside_it(world):
    number = world.open_order()  # waits at HQ's call center
    instance = world.instance(number)
    center_manager = Actor("cm", roles=frozenset({"manager"}), scope=world.actors["center"].scope)
    for command in (
        Suspend(instance.id),
        MoveToken(instance.id, "phone_support", "review"),
        SetVariables(instance.id, {"x": 1}),
    ):
        with pytest.raises(NotFound):
            run(world, command, center_manager)
    assert world.instance(number).revision == instance.revision


def test_data_may_not_hand_an_instance_to_a_unit_outside_the_scope(world):
    number = world.open_order()
    instance = world.instance(number)
    run(world, Suspend(instance.id), MANAGER)
    center_manager = Actor("cm", roles=frozenset({"manager"}), scope=None)
    with pytest.raises(InvalidInput):
        run(world, SetVariables(instance.id, {"org_unit": "NOWHERE"}), center_manager)
