"""Service orders in different states on the demo organisation, for the board and the
engineer's view: driven through the real repair and dispatch processes as the people do."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from aftersales.customers.service import create_customer
from aftersales.orders.service import create_order
from engine.commands import Complete, execute
from engine.identity import actor_for, upsert_user
from engine.models import HumanTask, User
from webapp.demo import DEMO_PASSWORD

from .pages import World

REPORT = {
    "check_in_at": "2026-11-20T10:30",
    "fault_class": "refrigeration",
    "solution": "补充冷媒",
    "visit_fee": 50,
    "customer_signature": "data:image/png;base64,iVBORw0KGgo=",
}
PLACES = {
    "PD": ("上海市", "上海市", "浦东新区"),  # O-SH-PD, East center
    "XH": ("浙江省", "杭州市", "西湖区"),  # O-HZ-XH, East center
    "TH": ("广东省", "广州市", "天河区"),  # O-GZ-TH, South center
}


@dataclass
class Orders:
    """Order numbers by their role in the tests."""

    numbers: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.numbers[key]


def _actor(world: World, username: str):  # noqa: ANN202
    with world.session_factory() as session:
        return actor_for(session.scalar(sa.select(User).where(User.username == username)))


def _open(world: World, place: str, name: str, phone: str) -> str:
    province, city, district = PLACES[place]
    with world.session_factory() as session:
        customer = create_customer(
            session,
            name=name,
            phone=phone,
            address={"province": province, "city": city, "district": district, "street": "1 号"},
        )
        session.commit()
        order = create_order(
            session,
            _actor(world, "agent"),
            {
                "type": "repair",
                "customer_id": customer.id,
                "model": "KFR-35GW",
                "description": f"{name}家空调不制冷",
            },
        )
        return order.number


def complete(world: World, number: str, name: str, user: str, data: dict) -> None:
    with world.session_factory() as session:
        task = session.scalar(
            sa.select(HumanTask).where(
                HumanTask.business_key == number,
                HumanTask.name == name,
                HumanTask.status == "open",
            )
        )
        assert task is not None, f"no open {name} in {number}"
        execute(session, Complete(task.id, data=data), actor_for_user(session, user))


def actor_for_user(session, username: str):  # noqa: ANN001, ANN201
    return actor_for(session.scalar(sa.select(User).where(User.username == username)))


def build(world: World) -> Orders:
    """received: A · dispatched: B (Pudong), F (Tianhe), G (Xihu) · accepted: C (engineer's
    check-in), E (engineer2's check-in) · on_site: D (engineer's report) · closed: H."""
    with world.session_factory() as session:
        upsert_user(
            session,
            username="engineer2",
            display_name="工程师 钱进",
            org_code="O-SH-PD",
            roles=["engineer"],
            groups=["outlets", "engineers"],
            password_hash=generate_password_hash(DEMO_PASSWORD),
        )
        session.commit()
    orders = Orders()
    people = {
        "A": ("PD", "顾客甲"),
        "B": ("PD", "顾客乙"),
        "C": ("PD", "顾客丙"),
        "D": ("PD", "顾客丁"),
        "E": ("PD", "顾客戊"),
        "F": ("TH", "顾客己"),
        "G": ("XH", "顾客庚"),
        "H": ("PD", "顾客辛"),
    }
    for i, (key, (place, name)) in enumerate(people.items()):
        orders.numbers[key] = _open(world, place, name, f"1390000{i:04d}")
    for key in "BCDEFG":  # a product by its model only: the agent decides its warranty
        complete(
            world,
            orders[key],
            "phone_support",
            "agent",
            {"solved": False, "warranty_decision": "in_warranty"},
        )
    complete(world, orders["H"], "phone_support", "agent", {"solved": True})
    for key, engineer in (("C", "engineer"), ("D", "engineer"), ("E", "engineer2")):
        complete(world, orders[key], "accept", "outlet", {"accepted": True})
        complete(world, orders[key], "assign_engineer", "outlet", {"engineer": engineer})
    complete(world, orders["D"], "check_in", "engineer", {"checked_in_at": "2026-11-20T10:00"})
    return orders
