"""Service-task operations act on the order of the instance that calls them.

The engine hands an operation the calling instance (``engine.services.invocation``); the
order is the one linked to that instance. No operation takes an order's number or id as a
parameter, so variables a process was started with, or a form smuggled in, name nothing
an operation reaches. An order has no unit of its own: it is its instance's.
"""

from __future__ import annotations

from io import BytesIO

import sqlalchemy as sa

from aftersales.orders.models import ServiceOrder
from engine.commands import MoveOrgUnit, execute
from engine.identity import SYSTEM_ACTOR
from engine.models import Incident, ProcessInstance
from engine.org import find_unit
from engine.services import registry
from tests.ui.pages import World

from .scope_world import PUDONG, customer, dispatched_order, token, unit_of

CASE_NAMES = {"order_number", "order_id", "order", "number", "customer_id", "instance_id"}


def rogue_process(params: str = "") -> bytes:
    """A designer's process whose service tasks close and verify an order."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="rogue" name="rogue" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="close" />
    <bpmn:serviceTask id="close" name="close">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="credit_article" resultVariable="closed">
          <spiffworkflow:parameters>{params}</spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="close" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>""".encode()


def deploy_rogue(world: World, params: str = ""):  # noqa: ANN201
    return world.app.test_client().post(
        "/api/v1/deployments",
        headers=token(world, "admin"),
        data={"files": [(BytesIO(rogue_process(params)), "rogue.bpmn")]},
        content_type="multipart/form-data",
    )


def order_row(world: World, number: str) -> tuple[str, bool]:
    with world.session_factory() as session:
        order = session.scalar(sa.select(ServiceOrder).where(ServiceOrder.number == number))
        return order.status, order.verified


def test_a_process_started_with_another_orders_number_changes_nothing_of_it(
    world: World,
) -> None:
    number = dispatched_order(world, customer(world, "王五", "13800000101", PUDONG))
    before = order_row(world, number)
    assert deploy_rogue(world).status_code == 201
    response = world.app.test_client().post(
        "/api/v1/process-instances",
        headers=token(world, "admin"),
        json={
            "process_key": "rogue",
            "business_key": number,
            "variables": {"order_number": number},
        },
    )
    assert response.status_code == 201, response.get_json()
    assert order_row(world, number) == before
    with world.session_factory() as session:
        incident = session.scalar(
            sa.select(Incident).where(Incident.instance_id == response.get_json()["id"])
        )
        assert incident is not None and "belongs to no service order" in incident.message


def test_a_service_task_that_passes_an_order_number_is_refused_at_deploy(world: World) -> None:
    param = '<spiffworkflow:parameter id="order_number" type="str" value="order_number" />'
    response = deploy_rogue(world, param)
    assert response.status_code == 422
    assert "takes no parameter 'order_number'" in response.get_data(as_text=True)


def test_no_operation_takes_its_case_from_its_parameters() -> None:
    import aftersales  # noqa: F401  (registers the domain's operations)

    for name in registry.names():
        operation = registry.get(name)
        assert not operation.takes_any, f"{name} takes any parameter"
        assert not CASE_NAMES & set(operation.parameters), (
            f"operation {name} names its case by a parameter; find it through "
            "engine.services.invocation() (aftersales.orders.of_this_instance) instead"
        )


def test_an_order_has_no_unit_of_its_own() -> None:
    assert "org_path" not in ServiceOrder.__table__.columns


def test_an_order_moves_with_its_instance_when_its_unit_moves(world: World) -> None:
    number = dispatched_order(world, customer(world, "赵六", "13800000102", PUDONG))
    assert unit_of(world, number) == "O-SH-PD"
    east, south = token(world, "center"), token(world, "admin")
    client = world.app.test_client()
    assert client.get(f"/api/v1/orders/{number}", headers=east).status_code == 200
    with world.session_factory() as session:
        execute(session, MoveOrgUnit("O-SH-PD", "C-SOUTH"), SYSTEM_ACTOR)
    assert client.get(f"/api/v1/orders/{number}", headers=east).status_code == 404
    assert client.get(f"/api/v1/orders/{number}", headers=south).status_code == 200
    assert unit_of(world, number) == "O-SH-PD"  # its instance moved with the outlet
    with world.session_factory() as session:
        instance = session.scalar(
            sa.select(ProcessInstance)
            .join(ServiceOrder, ServiceOrder.process_instance_id == ProcessInstance.id)
            .where(ServiceOrder.number == number)
        )
        assert instance.org_path == find_unit(session, "O-SH-PD").path
