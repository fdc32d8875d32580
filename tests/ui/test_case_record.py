"""The order is a case every person reads: after a whole repair journey the order page shows
what each step recorded by its form's labels, and each task page shows the case beside its
form (the reviewer the work report, the callback agent what was done and charged, the team
lead's follow-up the survey answers that made it). The API answers the same case."""

from __future__ import annotations

import lxml.html
import sqlalchemy as sa

from aftersales.orders.service import create_order
from engine.models import HumanTask
from tests.security.scope_world import PUDONG, actor, complete, customer, deploy, token
from tests.ui import pages
from tests.ui.pages import World, text
from webapp.demo import SIGNATURE

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

REPORT = {
    "check_in_at": "2026-11-20T10:30",
    "fault_class": "refrigeration",
    "solution": "补充冷媒，更换启动电容",
    "parts_used": [{"code": "CAP-35", "name": "启动电容", "qty": 2, "unit_price": 45.5}],
    "visit_fee": 50,
    "customer_signature": SIGNATURE,
}
UNHAPPY = {
    "VISITED": True,
    "ATTITUDE": 1,
    "ONTIME": False,
    "FIXED": False,
    "REMARK": "师傅迟到两小时",
}


def walk_to(world: World, last: str) -> str:
    """A repair driven by the people whose step it is, up to and including ``last``."""
    deploy(world)
    cid = customer(world, "钱多多", "13800000321", PUDONG, serial="SN-CASE-1")  # in warranty
    with world.session_factory() as session:
        number = create_order(
            session,
            actor(world, "agent"),
            {
                "type": "repair",
                "customer_id": cid,
                "serial": "SN-CASE-1",
                "description": "外机不转",
            },
        ).number
    complete(world, number, "phone_support", "agent", {"solved": False})
    steps = [
        ("accept", "outlet", {"accepted": True}),
        ("assign_engineer", "outlet", {"engineer": "engineer", "appointment": "2026-11-20T09:30"}),
        (
            "check_in",
            "engineer",
            {"checked_in_at": "2026-11-20T10:00", "latitude": 31.2215, "longitude": 121.5447},
        ),
        ("work_report", "engineer", REPORT),
        ("review", "center", {"approved": True, "review_comment": "照片齐全"}),
        ("callback", "agent", UNHAPPY),
    ]
    for name, user, data in steps:
        complete(world, number, name, user, data)
        if name == last:
            break
    return number


def task_page(world: World, number: str, name: str, user: str) -> str:
    with world.session_factory() as session:
        task_id = session.scalar(
            sa.select(HumanTask.id).where(
                HumanTask.business_key == number, HumanTask.name == name, HumanTask.status == "open"
            )
        )
    response = world.client(user).get(f"/tasks/{task_id}")
    assert response.status_code == 200
    return text(response)


def section(page: str, marker: str) -> str:
    doc = lxml.html.fromstring(page)
    (found,) = doc.xpath(f"//*[@{marker}]")
    return " ".join(part.strip() for part in found.itertext() if part.strip())


def test_the_order_page_shows_every_step_by_its_forms_labels(world: World) -> None:
    number = walk_to(world, "callback")
    page = text(world.client("agent").get(f"/orders/{number}"))
    steps = section(page, "data-case-record")
    for shown in ("网点接单", "指派工程师", "上门签到", "填写工单", "中心审核", "回访"):
        assert shown in steps
    assert "故障分类 制冷系统" in steps and "处理措施 补充冷媒，更换启动电容" in steps
    assert "启动电容" in steps and "¥45.50" in steps  # the parts table with its prices
    assert "审核意见（退回时必填） 照片齐全" in steps
    assert "工程师是否确实上门服务？ 是" in steps and "师傅迟到两小时" in steps
    assert "data-signature" in page and 'src="data:image/png;base64,' in page


def test_the_order_page_names_the_engineer_outlet_appointment_and_fees(world: World) -> None:
    number = walk_to(world, "callback")
    page = text(world.client("agent").get(f"/orders/{number}"))
    facts = section(page, "data-case-summary")
    assert "工程师 工程师 赵磊" in facts and "上海浦东网点" in facts
    assert "预约时间 2026-11-20 09:30" in facts and "上门签到 2026-11-20 10:00" in facts
    assert "备件费 ¥91.00" in facts and "上门费 ¥50.00" in facts
    assert "回访评分" in facts


def test_the_reviewer_sees_the_work_report_beside_the_review_form(world: World) -> None:
    number = walk_to(world, "work_report")
    case = section(task_page(world, number, "review", "center"), "data-task-case")
    assert "填写工单" in case and "制冷系统" in case and "启动电容" in case
    assert "工程师 赵磊" in case


def test_the_callback_agent_sees_what_was_done_and_charged(world: World) -> None:
    number = walk_to(world, "review")
    case = section(task_page(world, number, "callback", "agent"), "data-task-case")
    assert "补充冷媒，更换启动电容" in case and "合计" in case and "¥141.00" in case


def test_the_follow_up_shows_the_survey_answers_that_made_it(world: World) -> None:
    number = walk_to(world, "callback")
    case = section(task_page(world, number, "follow_up", "lead"), "data-task-case")
    assert "师傅迟到两小时" in case and "故障是否已经解决？ 否" in case


def test_the_api_answers_the_same_case(world: World) -> None:
    number = walk_to(world, "callback")
    response = world.app.test_client().get(
        f"/api/v1/orders/{number}", headers=token(world, "agent")
    )
    assert response.status_code == 200
    case = response.get_json()["case"]
    assert case["type_name"] == {"zh": "维修单", "en": "Repair"}
    assert case["engineer"] == "engineer" and case["outlet"]["code"] == "O-SH-PD"
    assert case["fees"]["total"] == 141.0
    report = next(s for s in case["steps"] if s["activity"] == "work_report")
    assert report["completed_by"] == "engineer" and report["data"]["fault_class"] == "refrigeration"
    assert [t["activity"] for t in case["open_tasks"]] == ["follow_up"]


def test_someone_outside_the_orders_scope_gets_no_case(world: World) -> None:
    number = walk_to(world, "review")
    assert world.client("outlet2").get(f"/orders/{number}").status_code == 404
    response = world.app.test_client().get(
        f"/api/v1/orders/{number}", headers=token(world, "outlet2")
    )
    assert response.status_code == 404
