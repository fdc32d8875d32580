"""The retail CRM's entries (the brochure's 咨询信息录入, 退换货录入, 快速退货, 价格保障补差
and VIP上门退款) added as data only: a ``*.service.json``, its process and its forms each.

Each goes to a responsible department with a deadline (a late department is chased by the
team lead) and ends with the agent calling the customer back and recording satisfaction;
the order's status follows the ``orderStatus`` of the elements its tokens reach.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from aftersales.orders.models import ServiceOrder
from aftersales.orders.types import get_type
from engine.commands import Deploy, execute
from engine.errors import DeploymentError
from engine.identity import SYSTEM_ACTOR, issue_token
from engine.models import HumanTask, User, utcnow
from engine.scheduler import fire_due_timers
from tests import worlds
from tests.aftersales.world import RETAIL_TYPES, ROOT
from tests.worlds import World

SIGNATURE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
CALLER = {"name": "陈静", "phone": "13800138000"}
# the forms the five processes name besides their start forms
TASK_FORMS = (
    "department_reply",
    "return_exchange_review",
    "price_protection_approval",
    "home_refund_report",
    "retail_callback",
)
world = worlds.world  # the fixture: the demo world on SQLite and PostgreSQL
PREFIXES = {
    "consultation_entry": "CE",
    "return_exchange": "RX",
    "quick_return": "QR",
    "price_protection": "PP",
    "vip_home_refund": "VR",
}
START_DATA: dict[str, dict[str, Any]] = {
    "consultation_entry": {
        "contact_channel": "phone",
        "consultation_type": "product",
        "consultation_count": 2,
        "consultation_content": "变频空调和定频空调哪个更省电？",
        "product_category": "AC",
        "brand": "gree",
        "responsible_department": "merchandising",
    },
    "return_exchange": {
        "identity_verified": True,
        "pickup_method": "home_delivery",
        "exchange_result": "exchanged",
        "responsible_department": "logistics",
        "reason_class": "transport_damage",
        "reason": "送货途中外壳磕碰变形",
        "product_category": "FR",
        "brand": "haier",
        "quantity": 1,
        "amount": 3299.0,
    },
    "quick_return": {
        "brand": "midea",
        "coordination_matter": "顾客明天出国，需今天办完退款",
        "pickup_number": "TD20261120001",
        "coordinating_department": "finance",
        "product_code": "KFR-35GW",
    },
    "price_protection": {
        "product_category": "TV",
        "compensation_reason": "price_drop",
        "compensation_amount": 300,
    },
    "vip_home_refund": {
        "pickup_number": "TD20261118007",
        "purchase_date": "2026-11-18",
        "purchase_store": "浦东旗舰店",
        "product_category": "WM",
        "brand": "siemens",
        "product_code": "XQG100-D3",
        "quantity": 1,
        "paid_amount": 4599,
        "refund_amount": 4599,
        "payment_method": "bank_card",
        "refund_reason": "顾客急需退货，无暇到店",
        "visit_date": "2026-11-21",
        "visit_period": "morning",
    },
}
# who does the department's task, what they submit, and the status the order takes then
DEPARTMENT: dict[str, tuple[str, dict[str, Any], str]] = {
    "consultation_entry": ("kb", {"department_reply": "变频空调长期使用更省电"}, "calling_back"),
    "return_exchange": (
        "kb",
        {"responsibility_accepted": True, "department_opinion": "物流责任，已安排换新"},
        "calling_back",
    ),
    "quick_return": ("kb", {"department_reply": "财务今日 16 点前退款到原卡"}, "calling_back"),
    "price_protection": (
        "finance",
        {"approved": True, "paid_amount": 300, "payment_reference": "FK-001"},
        "compensated",
    ),
    "vip_home_refund": (
        "kb",
        {
            "refunded_at": "2026-11-21T10:30",
            "refunded_amount": 4599,
            "goods_collected": True,
            "customer_signature": SIGNATURE,
        },
        "refunded",
    ),
}
# a required start field per type, and what answers when it is missing
REQUIRED_FIELD = {
    "consultation_entry": "consultation_content",
    "return_exchange": "pickup_method",
    "quick_return": "pickup_number",
    "price_protection": "compensation_amount",
    "vip_home_refund": "refund_amount",
}


def files(*keys: str) -> list[tuple[str, bytes]]:
    """The types' files as ``csm deploy`` reads them: process, type, start and task forms."""
    paths = []
    for key in keys:
        start = json.loads((ROOT / "bpmn" / f"{key}.service.json").read_text("utf-8"))
        paths += [
            ROOT / "bpmn" / f"{key}.bpmn",
            ROOT / "bpmn" / f"{key}.service.json",
            ROOT / "forms" / f"{start['start_form']}.form.json",
        ]
    paths += [ROOT / "forms" / f"{name}.form.json" for name in TASK_FORMS]
    return [(str(p), p.read_bytes()) for p in paths]


# ---- deploying


def test_the_five_types_deploy_from_their_files_alone(session_factory):  # noqa: ANN001
    with session_factory() as session:
        results = execute(session, Deploy(files(*RETAIL_TYPES)), SYSTEM_ACTOR)
        assert all(r.created for r in results)
        specs = {key: get_type(session, key) for key in RETAIL_TYPES}
    assert {k: s.prefix for k, s in specs.items()} == PREFIXES
    for key, spec in specs.items():
        assert spec.process == key and spec.start_form
        assert spec.first_status == "received"
        assert [s.key for s in spec.statuses if s.final] == ["closed"]
        assert {"agent", "team_lead"} <= spec.open_roles
        assert all(s.name_zh and s.name_en for s in spec.statuses)
    with session_factory() as session:  # unchanged files deploy as no-ops
        again = execute(session, Deploy(files(*RETAIL_TYPES)), SYSTEM_ACTOR)
    assert not any(r.created for r in again)


def test_the_prefixes_are_their_own(session_factory):  # noqa: ANN001
    taken = {
        json.loads(p.read_text("utf-8"))["prefix"]
        for p in (ROOT / "bpmn").glob("*.service.json")
        if p.name.split(".")[0] not in RETAIL_TYPES
    }
    assert taken.isdisjoint(PREFIXES.values()) and len(set(PREFIXES.values())) == 5


def test_a_type_that_leaves_out_a_status_its_process_sets_is_refused(session_factory):  # noqa: ANN001
    document = json.loads((ROOT / "bpmn" / "return_exchange.service.json").read_text("utf-8"))
    document["statuses"] = [s for s in document["statuses"] if s["key"] != "overdue"]
    changed = [
        (name, json.dumps(document).encode())
        if name.endswith("return_exchange.service.json")
        else (name, content)
        for name, content in files("return_exchange")
    ]
    with session_factory() as session, pytest.raises(DeploymentError, match="overdue"):
        execute(session, Deploy(changed), SYSTEM_ACTOR)


# ---- working them through the API, as their people


def headers(world: World, username: str) -> dict[str, str]:
    with world.session_factory() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        value = issue_token(session, user, "test")
        session.commit()
    return {"Authorization": f"Bearer {value}"}


class Desk:
    """The API as the demo's people use it: an agent, the department, finance, the lead."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client = world.app.test_client()
        self.tokens = {u: headers(world, u) for u in ("agent", "kb", "finance", "lead")}

    def open(self, key: str, data: dict[str, Any]):  # noqa: ANN201
        body = {"type": key, "customer": CALLER, "description": "门店来电", "data": data}
        return self.client.post("/api/v1/orders", headers=self.tokens["agent"], json=body)

    def order(self, number: str) -> dict:
        response = self.client.get(f"/api/v1/orders/{number}", headers=self.tokens["agent"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def task(self, number: str, name: str) -> HumanTask:
        with self.world.session_factory() as session:
            task = session.scalar(
                sa.select(HumanTask).where(
                    HumanTask.business_key == number,
                    HumanTask.name == name,
                    HumanTask.status == "open",
                )
            )
            assert task is not None, f"no open {name} task of {number}"
            session.expunge(task)
            return task

    def open_tasks(self, number: str) -> list[str]:
        with self.world.session_factory() as session:
            return sorted(
                session.scalars(
                    sa.select(HumanTask.name).where(
                        HumanTask.business_key == number, HumanTask.status == "open"
                    )
                )
            )

    def complete(self, number: str, name: str, user: str, data: dict[str, Any]):  # noqa: ANN201
        task = self.task(number, name)
        return self.client.post(
            f"/api/v1/tasks/{task.id}/complete", headers=self.tokens[user], json={"data": data}
        )


def opened(desk: Desk, key: str) -> dict:
    response = desk.open(key, START_DATA[key])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("key", RETAIL_TYPES)
def test_opening_one_numbers_it_with_its_prefix_in_its_first_status(world: World, key: str):
    desk = Desk(world)
    order = opened(desk, key)
    assert order["number"].startswith(PREFIXES[key] + utcnow().strftime("%Y%m%d"))
    assert (order["type"], order["status"], order["process_status"]) == (
        key,
        "received",
        "running",
    )
    assert "department" in order["current_activities"]
    task = desk.task(order["number"], "department")
    group = "finance" if key == "price_protection" else "departments"
    assert (task.candidate_group, task.form_key) == (group, DEPARTMENT_FORMS[key])
    assert task.due_at is not None


DEPARTMENT_FORMS = {
    "consultation_entry": "department_reply",
    "return_exchange": "return_exchange_review",
    "quick_return": "department_reply",
    "price_protection": "price_protection_approval",
    "vip_home_refund": "home_refund_report",
}


@pytest.mark.parametrize("key", RETAIL_TYPES)
def test_start_data_without_a_required_field_answers_422_naming_it(world: World, key: str):
    desk = Desk(world)
    field = REQUIRED_FIELD[key]
    data = {k: v for k, v in START_DATA[key].items() if k != field}
    response = desk.open(key, data)
    assert response.status_code == 422, response.get_json()
    assert field in json.dumps(response.get_json())
    with world.session_factory() as session:
        assert not session.scalar(sa.select(ServiceOrder.id).where(ServiceOrder.type == key))


def test_start_data_outside_a_list_answers_422_naming_the_field(world: World):
    data = {**START_DATA["return_exchange"], "pickup_method": "by_drone", "quantity": 0}
    response = Desk(world).open("return_exchange", data)
    assert response.status_code == 422
    body = json.dumps(response.get_json())
    assert "pickup_method" in body and "quantity" in body


def test_a_product_question_needs_its_category_and_brand(world: World):
    data = {
        k: v
        for k, v in START_DATA["consultation_entry"].items()
        if k not in ("product_category", "brand")
    }
    response = Desk(world).open("consultation_entry", data)
    assert response.status_code == 422
    assert {"product_category", "brand"} <= set(json.dumps(response.get_json()).split('"'))
    other = {**data, "consultation_type": "store_info"}
    assert Desk(world).open("consultation_entry", other).status_code == 201


@pytest.mark.parametrize("key", RETAIL_TYPES)
def test_the_department_then_the_callback_close_it(world: World, key: str):
    desk = Desk(world)
    number = opened(desk, key)["number"]
    user, reply, status = DEPARTMENT[key]
    response = desk.complete(number, "department", user, reply)
    assert response.status_code == 200, response.get_json()
    assert desk.order(number)["status"] == status
    assert desk.task(number, "call_back").candidate_group == "agents"
    refused = desk.complete(number, "call_back", "agent", {"satisfaction": "dissatisfied"})
    assert refused.status_code == 422 and "callback_notes" in json.dumps(refused.get_json())
    response = desk.complete(number, "call_back", "agent", {"satisfaction": "satisfied"})
    assert response.status_code == 200, response.get_json()
    order = desk.order(number)
    assert (order["status"], order["closed_at"] is not None) == ("closed", True)
    assert desk.open_tasks(number) == []
    with world.session_factory() as session:
        assert (
            session.scalar(sa.select(ServiceOrder.is_open).where(ServiceOrder.number == number))
            is False
        )


def test_a_refused_compensation_is_told_the_customer_with_the_reason(world: World):
    desk = Desk(world)
    number = opened(desk, "price_protection")["number"]
    incomplete = desk.complete(number, "department", "finance", {"approved": False})
    assert incomplete.status_code == 422 and "finance_note" in json.dumps(incomplete.get_json())
    refused = {"approved": False, "finance_note": "购买已超过 30 天保价期"}
    assert desk.complete(number, "department", "finance", refused).status_code == 200
    assert desk.order(number)["status"] == "refused"
    done = desk.complete(number, "call_back", "agent", {"satisfaction": "basically_satisfied"})
    assert done.status_code == 200
    assert desk.order(number)["status"] == "closed"


def test_only_finance_approves_a_compensation(world: World):
    desk = Desk(world)
    number = opened(desk, "price_protection")["number"]
    response = desk.complete(number, "department", "kb", DEPARTMENT["price_protection"][1])
    assert response.status_code in (403, 404)
    assert desk.order(number)["status"] == "received"


DEADLINES = {
    "consultation_entry": timedelta(days=1),
    "return_exchange": timedelta(days=2),
    "quick_return": timedelta(hours=4),
    "price_protection": timedelta(days=3),
    "vip_home_refund": timedelta(days=1),
}


@pytest.mark.parametrize("key", RETAIL_TYPES)
def test_a_late_department_is_chased_by_the_team_lead(world: World, key: str):
    desk = Desk(world)
    number = opened(desk, key)["number"]
    deadline = DEADLINES[key]
    with time_machine.travel(utcnow() + deadline - timedelta(minutes=5), tick=False):
        fire_due_timers(world.session_factory)
    assert desk.open_tasks(number) == ["department"]
    with time_machine.travel(utcnow() + deadline + timedelta(minutes=5), tick=False):
        fire_due_timers(world.session_factory)
    assert desk.open_tasks(number) == ["chase_department", "department"]
    assert desk.task(number, "chase_department").candidate_group == "team_leads"
    assert desk.order(number)["status"] == "overdue"
    assert desk.complete(number, "chase_department", "lead", {}).status_code == 200
    user, reply, status = DEPARTMENT[key]
    assert desk.complete(number, "department", user, reply).status_code == 200
    assert desk.order(number)["status"] == status
    done = desk.complete(number, "call_back", "agent", {"satisfaction": "satisfied"})
    assert (done.status_code, desk.order(number)["status"]) == (200, "closed")
