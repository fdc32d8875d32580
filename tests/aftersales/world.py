"""A small after-sales world for process tests: two outlets in Shanghai, their people,
a customer with an air conditioner in warranty, the repair callback survey."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from aftersales.customers.service import create_customer
from aftersales.orders.models import ServiceOrder
from aftersales.orders.service import create_order
from aftersales.outlets.models import OutletProfile
from aftersales.products.models import InstalledProduct, ProductCategory, ProductModel
from engine.commands import Complete, Deploy, execute
from engine.identity import SYSTEM_ACTOR, Actor, actor_for, upsert_user
from engine.models import HumanTask, ProcessInstance
from engine.org import upsert_unit
from forms import survey

ROOT = Path(__file__).resolve().parents[2]
# the retail CRM's entries (tests/aftersales/test_retail_entries.py): types that are data only
RETAIL_TYPES = (
    "consultation_entry",
    "return_exchange",
    "quick_return",
    "price_protection",
    "vip_home_refund",
)
PUDONG = "上海市/上海市/浦东新区"
SIGNATURE = "data:image/png;base64,iVBORw0KGgo="
REPORT = {
    "check_in_at": "2026-11-20T10:30",
    "fault_class": "refrigeration",
    "solution": "补充冷媒",
    "visit_fee": 50,
    "customer_signature": SIGNATURE,
}


@dataclass
class World:
    factory: sessionmaker[Session]
    actors: dict[str, Actor] = field(default_factory=dict)
    customer_id: int = 0

    def open_order(self, **body: Any) -> str:
        with self.factory() as session:
            order = create_order(
                session,
                self.actors["agent"],
                {
                    "type": "repair",
                    "customer_id": self.customer_id,
                    "serial": "SN-1",
                    "description": "空调不制冷",
                    **body,
                },
            )
            return order.number

    def task(self, number: str, name: str) -> HumanTask:
        with self.factory() as session:
            task = session.scalar(
                sa.select(HumanTask).where(
                    HumanTask.business_key == number,
                    HumanTask.name == name,
                    HumanTask.status == "open",
                )
            )
            assert task is not None, f"no open {name} task"
            return task

    def instance(self, number: str) -> ProcessInstance:
        """The process instance of order ``number``."""
        with self.factory() as session:
            return session.scalar(
                sa.select(ProcessInstance)
                .join(ServiceOrder, ServiceOrder.process_instance_id == ProcessInstance.id)
                .where(ServiceOrder.number == number)
            )

    def open_names(self, number: str) -> list[str]:
        with self.factory() as session:
            return sorted(
                session.scalars(
                    sa.select(HumanTask.name).where(
                        HumanTask.business_key == number, HumanTask.status == "open"
                    )
                )
            )

    def complete(self, number: str, name: str, user: str, data: dict) -> HumanTask:
        task = self.task(number, name)
        with self.factory() as session:
            return execute(session, Complete(task.id, data=data), self.actors[user])


def build(factory: sessionmaker[Session]) -> World:
    world = World(factory)
    with factory() as session:
        upsert_unit(session, "C1", name="华东中心", kind="center")
        for code, name in (("O1", "浦东网点"), ("O2", "浦东二网点")):
            unit = upsert_unit(session, code, name=name, kind="outlet", parent_code="C1")
            session.add(OutletProfile(org_unit_id=unit.id, districts=[PUDONG], categories=["AC"]))
        people = {
            "agent": ("HQ", ["agents"], ["agent"]),
            "lead": ("HQ", ["agents", "team_leads"], ["team_lead"]),
            "center": ("C1", ["centers"], ["center_staff"]),
            "depot": ("C1", ["depots"], ["center_staff"]),
            "boss1": ("O1", ["outlet_managers"], ["outlet_manager"]),
            "eng1": ("O1", ["engineers"], ["engineer"]),
            "boss2": ("O2", ["outlet_managers"], ["outlet_manager"]),
            "quality": ("HQ", ["departments"], ["responsible_department"]),
        }
        for name, (unit, groups, roles) in people.items():
            user = upsert_user(session, username=name, org_code=unit, groups=groups, roles=roles)
            session.flush()
            world.actors[name] = actor_for(user)
        aircon = ProductCategory(
            code="AC", name_zh="空调", name_en="Air conditioner", warranty_months=72
        )
        model = ProductModel(code="KFR-35GW", name="壁挂式空调", category=aircon)
        customer = create_customer(
            session,
            name="陈静",
            phone="13800138000",
            address={
                "province": "上海市",
                "city": "上海市",
                "district": "浦东新区",
                "street": "世纪大道 1 号",
            },
        )
        session.add(
            InstalledProduct(
                customer=customer,
                model=model,
                serial="SN-1",
                purchase_date=date(2025, 1, 1),
                warranty_end=date(2031, 1, 1),
            )
        )
        session.add(
            InstalledProduct(
                customer=customer,
                model=model,
                serial="SN-OLD",
                purchase_date=date(2015, 1, 1),
                warranty_end=date(2018, 1, 1),
            )
        )
        survey.create_item(
            session,
            "VISITED",
            "工程师是否上门？",
            "Did the engineer visit?",
            "yes_no",
            required=True,
        )
        survey.create_item(
            session, "ATTITUDE", "服务态度", "Manner", "score", weight=3.0, required=True
        )
        session.flush()
        survey.bind(session, "repair", ["VISITED", "ATTITUDE"])
        survey.bind(session, "installation", ["VISITED", "ATTITUDE"])
        session.commit()
        world.customer_id = customer.id
        files = [
            (str(p), p.read_bytes())
            for p in [
                ROOT / "bpmn" / "repair.bpmn",
                ROOT / "bpmn" / "service_fee.dmn",
                ROOT / "bpmn" / "visit_fee.dmn",
                ROOT / "bpmn" / "dispatch.bpmn",
                ROOT / "bpmn" / "installation.bpmn",
                ROOT / "bpmn" / "consultation.bpmn",
                ROOT / "bpmn" / "praise.bpmn",
                *(ROOT / "bpmn" / f"{key}.bpmn" for key in RETAIL_TYPES),
                *sorted((ROOT / "forms").glob("*.form.json")),
                *sorted((ROOT / "bpmn").glob("*.service.json")),
            ]
        ]
        execute(session, Deploy(files), SYSTEM_ACTOR)
    return world
