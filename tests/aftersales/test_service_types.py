"""Service form types are data: deployed and versioned like forms, checked against their
process, opened by whoever their ``open`` names, and an order's status follows the
``orderStatus`` properties its tokens reach."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from aftersales.orders.models import ServiceOrder, ServiceType
from engine.commands import Deploy, StartInstance, execute
from engine.errors import DeploymentError, Forbidden, InvalidInput
from engine.identity import SYSTEM_ACTOR
from engine.models import ProcessInstance
from tests.aftersales.world import REPORT, ROOT, build


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def document(key: str = "repair", **changes: object) -> dict:
    found = json.loads((ROOT / "bpmn" / f"{key}.service.json").read_text("utf-8"))
    found.update(changes)
    return found


def deploy(world, *files: tuple[str, bytes]) -> list:  # noqa: ANN001
    with world.factory() as session:
        return execute(session, Deploy(list(files)), SYSTEM_ACTOR)


def type_file(doc: dict) -> tuple[str, bytes]:
    return (f"{doc['key']}.service.json", json.dumps(doc, ensure_ascii=False).encode())


def refusal(world, *files: tuple[str, bytes]) -> str:  # noqa: ANN001
    with pytest.raises(DeploymentError) as caught:
        deploy(world, *files)
    return str(caught.value)


def versions(world, key: str) -> list[int]:  # noqa: ANN001
    with world.factory() as session:
        return list(
            session.scalars(
                sa.select(ServiceType.version)
                .where(ServiceType.key == key)
                .order_by(ServiceType.version)
            )
        )


def order(world, number: str) -> ServiceOrder:  # noqa: ANN001
    with world.factory() as session:
        return session.scalar(sa.select(ServiceOrder).where(ServiceOrder.number == number))


def test_every_product_type_is_deployed_as_its_first_version(world) -> None:  # noqa: ANN001
    for key in ("repair", "installation", "consultation", "praise"):
        assert versions(world, key) == [1]


def test_redeploying_an_unchanged_type_makes_no_version(world) -> None:  # noqa: ANN001
    (result,) = deploy(world, type_file(document()))
    assert (result.kind, result.version, result.created) == ("service_type", 1, False)
    assert versions(world, "repair") == [1]


def test_a_changed_type_is_the_next_version_and_open_orders_keep_theirs(world) -> None:  # noqa: ANN001
    first = world.open_order()
    renamed = document(name={"zh": "报修单", "en": "Repair request"})
    (result,) = deploy(world, type_file(renamed))
    assert (result.version, result.created) == (2, True)
    second = world.open_order()
    assert (order(world, first).type_version, order(world, second).type_version) == (1, 2)


def test_an_order_number_is_the_types_prefix_the_day_and_a_sequence(world) -> None:  # noqa: ANN001
    deploy(world, type_file(document(prefix="WX")))
    number = world.open_order()
    assert re.fullmatch(r"WX\d{8}\d{6}", number), number


def test_a_status_the_process_names_but_the_type_does_not_list_is_refused(world) -> None:  # noqa: ANN001
    statuses = [s for s in document()["statuses"] if s["key"] != "reviewing"]
    message = refusal(world, type_file(document(statuses=statuses)))
    assert "repair/mark_reviewing" in message and "'reviewing'" in message
    assert versions(world, "repair") == [1]


def test_a_status_named_in_a_called_process_counts_too(world) -> None:  # noqa: ANN001
    statuses = [s for s in document()["statuses"] if s["key"] != "accepted"]
    assert "dispatch/mark_accepted" in refusal(world, type_file(document(statuses=statuses)))


def test_a_new_process_version_naming_an_unlisted_status_is_refused(world) -> None:  # noqa: ANN001
    xml = (ROOT / "bpmn" / "repair.bpmn").read_text("utf-8")
    changed = xml.replace('value="reviewing"', 'value="audited"')
    message = refusal(world, ("repair.bpmn", changed.encode()))
    assert "'audited'" in message and "repair.service.json" in message


def test_an_unknown_process_or_form_is_refused(world) -> None:  # noqa: ANN001
    assert "process 'no_such'" in refusal(world, type_file(document(process="no_such")))
    assert "form 'no_such'" in refusal(world, type_file(document(start_form="no_such")))


def test_a_process_only_others_call_cannot_be_a_types_process(world) -> None:  # noqa: ANN001
    doc = {**document(), "key": "dispatch_only", "prefix": "DO", "process": "dispatch"}
    assert "only called by other processes" in refusal(world, type_file(doc))


@pytest.mark.parametrize("prefix", ["r", "RXYZW", "R1", "", None])
def test_a_bad_prefix_is_refused(world, prefix) -> None:  # noqa: ANN001
    assert "prefix" in refusal(world, type_file(document(prefix=prefix)))


def test_another_types_prefix_is_refused(world) -> None:  # noqa: ANN001
    assert "already used by type 'installation'" in refusal(world, type_file(document(prefix="I")))


def test_unknown_members_and_roles_are_refused(world) -> None:  # noqa: ANN001
    assert "unknown member 'colour'" in refusal(world, type_file(document(colour="red")))
    bad_open = document(open={"roles": ["wizard"], "groups": []})
    assert "unknown role 'wizard'" in refusal(world, type_file(bad_open))


def test_a_final_first_status_is_refused(world) -> None:  # noqa: ANN001
    statuses = document()["statuses"]
    statuses[0] = {**statuses[0], "final": True}
    assert "first status" in refusal(world, type_file(document(statuses=statuses)))


def test_a_refused_deployment_keeps_none_of_its_files(world) -> None:  # noqa: ANN001
    good = document("praise", name={"zh": "表扬单", "en": "Praise"})
    refusal(world, type_file(good), type_file(document(prefix="bad")))
    assert versions(world, "praise") == [1]


def test_someone_the_type_does_not_name_may_not_open_it(world) -> None:  # noqa: ANN001
    deploy(world, type_file(document(open={"roles": ["team_lead"], "groups": []})))
    with pytest.raises(Forbidden):
        world.open_order()


def test_a_group_the_type_names_may_open_it(world) -> None:  # noqa: ANN001
    deploy(world, type_file(document(open={"roles": [], "groups": ["agents"]})))
    assert world.open_order()


def test_start_data_outside_the_start_form_is_refused(world) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as caught:
        world.open_order(data={"urgency": "tomorrow"})
    assert "urgency" in caught.value.details
    with pytest.raises(InvalidInput) as caught:
        world.open_order(data={"org_unit": "O-SH-XH"})
    assert "org_unit" in caught.value.details


def test_the_start_forms_data_become_process_variables(world) -> None:  # noqa: ANN001
    number = world.open_order(data={"urgency": "urgent", "visit_period": "evening"})
    with world.factory() as session:
        instance = session.get(ProcessInstance, order(world, number).process_instance_id)
        assert (instance.variables["urgency"], instance.variables["visit_period"]) == (
            "urgent",
            "evening",
        )


def test_an_unknown_type_is_a_field_error(world) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as caught:
        world.open_order(type="teleport")
    assert caught.value.details == {"type": "unknown"}


def test_the_order_status_follows_the_tokens_through_a_whole_repair(world) -> None:  # noqa: ANN001
    number = world.open_order()
    seen = [order(world, number).status]
    world.complete(number, "phone_support", "agent", {"solved": False})
    seen.append(order(world, number).status)
    for name, user, data in (
        ("accept", "boss1", {"accepted": True}),
        ("assign_engineer", "boss1", {"engineer": "eng1"}),
        ("check_in", "eng1", {"checked_in_at": "2026-11-20T10:00"}),
        ("work_report", "eng1", REPORT),
    ):
        world.complete(number, name, user, data)
        seen.append(order(world, number).status)
    world.complete(number, "review", "center", {"approved": True})
    seen.append(order(world, number).status)
    assert list(dict.fromkeys(seen)) == [
        "received",
        "dispatched",
        "accepted",
        "on_site",
        "reviewing",
        "closed",
    ]
    closed = order(world, number)
    assert closed.closed_at is not None and not closed.is_open
    with world.factory() as session:
        instance = session.get(ProcessInstance, closed.process_instance_id)
        assert instance.business_status == "closed"


def test_a_process_of_no_order_moves_no_order_by_its_statuses(world) -> None:  # noqa: ANN001
    number = world.open_order()
    rogue = (ROOT / "tests" / "bpmn" / "status_only.bpmn").read_bytes()
    deploy(world, ("status_only.bpmn", rogue))
    with world.factory() as session:
        instance = execute(
            session,
            StartInstance("status_only", business_key=number, variables={"order_number": number}),
            SYSTEM_ACTOR,
        )
        assert instance.business_status == "closed"
    assert order(world, number).status == "received"


def test_order_numbers_stay_unique_when_opened_at_once(world) -> None:  # noqa: ANN001
    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(lambda _i: world.open_order(), range(12)))
    assert len(set(numbers)) == 12
