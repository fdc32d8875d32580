"""The repair journey through the engine: phone support, dispatch, field work, review,
callback — and each way it can turn."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
import time_machine

from aftersales.knowledge.models import KbArticle
from aftersales.orders.models import ServiceOrder
from aftersales.products.models import Part
from engine.errors import InvalidInput
from engine.models import ProcessInstance, utcnow
from engine.scheduler import fire_due_timers
from tests.aftersales.world import REPORT, build


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def order(world, number: str) -> ServiceOrder:  # noqa: ANN001
    with world.factory() as session:
        return session.scalar(sa.select(ServiceOrder).where(ServiceOrder.number == number))


def field_work(world, number: str) -> None:  # noqa: ANN001
    """From a dispatched order to the work report the center reviews."""
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(number, "check_in", "eng1", {"checked_in_at": "2026-11-20T10:00"})
    world.complete(number, "work_report", "eng1", REPORT)


def test_a_new_order_waits_for_phone_support_by_an_agent(world):
    number = world.open_order()
    assert number.startswith("R")
    assert world.open_names(number) == ["phone_support"]
    assert order(world, number).in_warranty is True


def test_the_agent_who_opens_the_order_has_its_phone_support_without_claiming(world):
    number = world.open_order()
    assert world.task(number, "phone_support").assignee == "agent"


def test_the_outlet_manager_who_accepts_the_job_goes_on_to_assign_its_engineer(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    assert world.task(number, "accept").assignee is None  # the agent is no outlet manager
    world.complete(number, "accept", "boss1", {"accepted": True})
    assert world.task(number, "assign_engineer").assignee == "boss1"


def test_the_engineer_who_checks_in_writes_the_work_report(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(number, "check_in", "eng1", {"checked_in_at": "2026-11-20T10:00"})
    assert world.task(number, "work_report").assignee == "eng1"


def solved_with(world, active: bool) -> tuple[int, ServiceOrder]:  # noqa: ANN001
    """An agent solves a new call on the phone with an article (active or taken out)."""
    with world.factory() as session:
        article = KbArticle(title="空调不制冷怎么办", body="检查遥控器模式", active=active)
        session.add(article)
        session.commit()
        article_id = article.id
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": True, "kb_article_id": article_id})
    return article_id, order(world, number)


def test_solved_on_the_phone_closes_the_order_and_counts_the_article(world):
    article_id, closed = solved_with(world, active=True)
    assert (closed.status, closed.kb_article_id) == ("closed", article_id)
    with world.factory() as session:
        assert session.get(KbArticle, article_id).solved_count == 1


def test_a_deactivated_article_is_not_counted_nor_linked_but_the_order_closes(world):
    article_id, closed = solved_with(world, active=False)
    assert (closed.status, closed.kb_article_id) == ("closed", None)
    with world.factory() as session:
        assert session.get(KbArticle, article_id).solved_count == 0


def test_an_unsolved_call_is_dispatched_to_the_outlet_serving_the_district(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    accept = world.task(number, "accept")
    assert accept.org_path.endswith(f"/{world.actors['boss1'].unit_id}/")
    assert order(world, number).status == "dispatched"


def test_the_whole_field_journey_ends_verified_and_closed(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    field_work(world, number)
    world.complete(number, "review", "center", {"approved": True})
    world.complete(number, "callback", "agent", {"VISITED": True, "ATTITUDE": 5})
    done = order(world, number)
    assert (done.status, done.verified) == ("closed", True)
    with world.factory() as session:
        instance = session.get(ProcessInstance, done.process_instance_id)
        assert instance.status == "completed"


def test_the_engineer_gets_the_visit_directly(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    assert world.task(number, "check_in").assignee == "eng1"


def test_the_work_report_starts_from_the_check_in_time(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(number, "check_in", "eng1", {"checked_in_at": "2026-11-20T09:45"})
    with world.factory() as session:
        instance = session.get(ProcessInstance, order(world, number).process_instance_id)
        assert instance.variables["check_in_at"] == "2026-11-20T09:45"


def test_a_refusal_sends_the_order_to_the_next_outlet(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": False, "refuse_reason": "人手不足"})
    accept = world.task(number, "accept")
    assert accept.org_path.endswith(f"/{world.actors['boss2'].unit_id}/")


def test_a_refused_job_is_not_handed_to_the_refuser_at_the_next_outlet(world):
    """boss1 is an outlet manager too, but the next outlet is outside boss1's scope."""
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": False, "refuse_reason": "人手不足"})
    assert world.task(number, "accept").assignee is None


def test_a_refusal_needs_a_reason(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    with pytest.raises(Exception, match="form has errors"):
        world.complete(number, "accept", "boss1", {"accepted": False})


def test_an_accept_time_out_sends_the_order_on(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    with time_machine.travel(utcnow() + timedelta(hours=3), tick=False):
        assert fire_due_timers(world.factory) == 1
    accept = world.task(number, "accept")
    assert accept.org_path.endswith(f"/{world.actors['boss2'].unit_id}/")


def test_when_every_outlet_refused_an_agent_dispatches_by_hand(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": False, "refuse_reason": "太忙"})
    world.complete(number, "accept", "boss2", {"accepted": False, "refuse_reason": "太忙"})
    assert world.open_names(number) == ["manual_dispatch"]
    world.complete(number, "manual_dispatch", "agent", {"chosen_outlet": "O1"})
    assert world.open_names(number) == ["accept"]


def test_a_mistyped_outlet_in_manual_dispatch_is_a_field_error_not_an_incident(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": False, "refuse_reason": "太忙"})
    world.complete(number, "accept", "boss2", {"accepted": False, "refuse_reason": "太忙"})
    with pytest.raises(InvalidInput) as refused:
        world.complete(number, "manual_dispatch", "agent", {"chosen_outlet": "O9"})
    assert refused.value.details["fields"] == {"chosen_outlet": ["没有这个网点，请从列表中选择"]}
    assert world.open_names(number) == ["manual_dispatch"]
    assert world.instance(number).status == "running"


def test_a_work_report_naming_a_part_not_in_the_catalogue_is_refused_on_that_row(world):
    with world.factory() as session:
        session.add(Part(code="CAP-35", name="启动电容", price=Decimal("45.00"), models=[]))
        session.commit()
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    world.complete(number, "accept", "boss1", {"accepted": True})
    world.complete(number, "assign_engineer", "boss1", {"engineer": "eng1"})
    world.complete(number, "check_in", "eng1", {"checked_in_at": "2026-11-20T10:00"})
    rows = [{"code": "CAP-35", "qty": 1}, {"code": "CAP-99", "qty": 2}]
    with pytest.raises(InvalidInput) as refused:
        world.complete(number, "work_report", "eng1", {**REPORT, "parts_used": rows})
    assert list(refused.value.details["fields"]) == ["parts_used.1.code"]
    world.complete(number, "work_report", "eng1", {**REPORT, "parts_used": rows[:1]})
    assert world.open_names(number) == ["review"]


def test_phone_support_naming_no_article_is_refused_on_the_field(world):
    number = world.open_order()
    with pytest.raises(InvalidInput) as refused:
        world.complete(number, "phone_support", "agent", {"solved": True, "kb_article_id": 999})
    assert list(refused.value.details["fields"]) == ["kb_article_id"]


def test_a_returned_report_goes_back_to_the_engineer_and_is_reviewed_again(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    field_work(world, number)
    world.complete(number, "review", "center", {"approved": False, "review_comment": "缺照片"})
    rework = world.task(number, "rework")
    assert rework.assignee == "eng1" and "缺照片" in rework.title
    world.complete(number, "rework", "eng1", REPORT)
    assert world.open_names(number) == ["review"]


def test_a_dissatisfied_callback_gives_the_team_lead_a_follow_up(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    field_work(world, number)
    world.complete(number, "review", "center", {"approved": True})
    world.complete(number, "callback", "agent", {"VISITED": True, "ATTITUDE": 1})
    assert world.open_names(number) == ["follow_up"]
    assert world.task(number, "follow_up").candidate_group == "team_leads"


def test_a_callback_that_denies_the_visit_leaves_the_order_unverified(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    field_work(world, number)
    world.complete(number, "review", "center", {"approved": True})
    world.complete(number, "callback", "agent", {"VISITED": False, "ATTITUDE": 5})
    assert order(world, number).verified is False


def test_an_order_for_someone_elses_serial_is_refused_and_nothing_is_kept(world):
    with pytest.raises(Exception, match="serial"):
        world.open_order(serial="SN-NOT-HERS")
    with world.factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) == 0


def depot_order(world) -> str:  # noqa: ANN001
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False, "service_mode": "depot"})
    world.complete(
        number,
        "receive_unit",
        "depot",
        {"received_at": "2026-11-21T10:00", "unit_condition": "外壳完好"},
    )
    return number


def test_a_depot_repair_travels_under_an_rma_number_to_the_depot(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False, "service_mode": "depot"})
    receive = world.task(number, "receive_unit")
    assert (receive.candidate_group, receive.title.split(" ")[0]) == (
        "depots",
        f"收机：RMA-{number}",
    )


def test_a_failed_test_sends_the_unit_back_to_the_bench(world):
    number = depot_order(world)
    world.complete(
        number,
        "depot_repair",
        "depot",
        {"diagnosis": "压缩机异响", "solution": "更换压缩机", "test_passed": False},
    )
    assert world.open_names(number) == ["depot_repair"]


def test_a_returned_depot_repair_closes_and_is_called_back(world):
    number = depot_order(world)
    world.complete(
        number,
        "depot_repair",
        "depot",
        {"diagnosis": "压缩机异响", "solution": "更换压缩机", "test_passed": True},
    )
    world.complete(
        number,
        "return_unit",
        "depot",
        {
            "returned_at": "2026-11-23T15:00",
            "return_method": "courier",
            "tracking_number": "SF1234567890",
        },
    )
    assert order(world, number).status == "closed"
    assert world.open_names(number) == ["callback"]


def test_a_courier_return_needs_its_tracking_number(world):
    number = depot_order(world)
    world.complete(
        number, "depot_repair", "depot", {"diagnosis": "x", "solution": "y", "test_passed": True}
    )
    with pytest.raises(Exception, match="form has errors"):
        world.complete(
            number,
            "return_unit",
            "depot",
            {"returned_at": "2026-11-23T15:00", "return_method": "courier"},
        )


def reviewed_data(world, number: str) -> dict:  # noqa: ANN001
    with world.factory() as session:
        instance = session.get(ProcessInstance, order(world, number).process_instance_id)
        return instance.variables


def test_in_warranty_the_fee_standard_charges_no_service_fee(world):
    number = world.open_order()
    world.complete(number, "phone_support", "agent", {"solved": False})
    field_work(world, number)
    assert reviewed_data(world, number)["service_fee"] == 0


def test_out_of_warranty_the_fee_standard_prices_the_fault_class(world):
    number = world.open_order(serial="SN-OLD")
    world.complete(number, "phone_support", "agent", {"solved": False})
    field_work(world, number)  # the report classes the fault as refrigeration
    assert reviewed_data(world, number)["service_fee"] == 150
