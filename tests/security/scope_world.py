"""Helpers of the scope tests (the ``world`` fixture is in conftest.py): customers whose
orders the real dispatch has placed at an outlet (the caller's district decides which),
completing steps as the people whose step it is, API tokens.

Setting up goes through the engine's commands as the people whose step it is; what a test
states is asked through HTTP, as the role it names.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from aftersales.customers.service import create_customer
from aftersales.orders.models import ServiceOrder
from aftersales.orders.service import create_order
from aftersales.products.models import InstalledProduct, ProductModel
from engine.commands import Complete, Deploy, GrantStart, execute
from engine.identity import SYSTEM_ACTOR, actor_for, issue_token
from engine.models import HumanTask, OrgUnit, ProcessInstance, User
from tests.ui.pages import World
from tests.worlds import product_files

PUDONG = {"province": "上海市", "city": "上海市", "district": "浦东新区", "street": "世纪大道 1 号"}
TIANHE = {"province": "广东省", "city": "广州市", "district": "天河区", "street": "天河路 2 号"}


def deploy(world: World) -> None:
    """The product's processes and forms, as an installation deploys them."""
    with world.session_factory() as session:
        execute(session, Deploy(product_files()), SYSTEM_ACTOR)


def let_outlets_open_repairs(world: World) -> None:
    """What an administrator grants an outlet's hotline: opening repair orders."""
    with world.session_factory() as session:
        execute(session, GrantStart("repair", ["agents", "outlet_manager"]), SYSTEM_ACTOR)


def customer(world: World, name: str, phone: str, address: dict, serial: str | None = None) -> int:
    """A customer (with an air conditioner ``serial`` when given), as the call center has it."""
    with world.session_factory() as session:
        found = create_customer(session, name=name, phone=phone, address=address)
        if serial:
            model = session.scalar(sa.select(ProductModel).where(ProductModel.code == "KFR-35GW"))
            session.add(
                InstalledProduct(
                    customer=found,
                    model=model,
                    serial=serial,
                    purchase_date=date(2025, 1, 1),
                    warranty_end=date(2031, 1, 1),
                )
            )
        session.commit()
        return found.id


def actor(world: World, username: str):  # noqa: ANN201
    with world.session_factory() as session:
        return actor_for(session.scalar(sa.select(User).where(User.username == username)))


def open_task(world: World, number: str, name: str) -> HumanTask:
    with world.session_factory() as session:
        task = session.scalar(
            sa.select(HumanTask).where(
                HumanTask.business_key == number,
                HumanTask.name == name,
                HumanTask.status == "open",
            )
        )
        assert task is not None, f"{number} has no open {name} task"
        session.expunge(task)
        return task


def complete(world: World, number: str, name: str, username: str, data: dict) -> HumanTask:
    task = open_task(world, number, name)
    with world.session_factory() as session:
        return execute(session, Complete(task.id, data=data), actor(world, username))


def dispatched_order(world: World, customer_id: int, description: str = "空调不制冷") -> str:
    """An agent opens a repair and, phone support not solving it, dispatch places it at the
    outlet serving the caller's district (Pudong: 上海浦东网点, Tianhe: 广州天河网点)."""
    with world.session_factory() as session:
        order = create_order(
            session,
            actor(world, "agent"),
            {
                "type": "repair",
                "customer_id": customer_id,
                "model": "KFR-35GW",  # an air conditioner: every outlet here repairs those
                "description": description,
            },
        )
        number = order.number
    # by its model only, the product's warranty is unknown: the agent decides it on the phone
    decided = {"solved": False, "warranty_decision": "in_warranty"}
    complete(world, number, "phone_support", "agent", decided)
    return number


def refused(world: World, number: str, username: str) -> str:
    """The outlet manager refuses the order; dispatch hands it to the next outlet."""
    complete(world, number, "accept", username, {"accepted": False, "refuse_reason": "人手不足"})
    return unit_of(world, number)


def unit_of(world: World, number: str) -> str:
    """The code of the unit the order's process instance lies at."""
    with world.session_factory() as session:
        return session.scalar(
            sa.select(OrgUnit.code)
            .join(ProcessInstance, ProcessInstance.org_path == OrgUnit.path)
            .join(ServiceOrder, ServiceOrder.process_instance_id == ProcessInstance.id)
            .where(ServiceOrder.number == number)
        )


def token(world: World, username: str) -> dict[str, str]:
    with world.session_factory() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        value = issue_token(session, user, "test")
        session.commit()
    return {"Authorization": f"Bearer {value}"}


def count(world: World, model: type) -> int:
    with world.session_factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))
