"""Messages respect scope and role: a message reaches only an instance in the sender's scope
(one outside it is not found, as if it did not exist, and nothing changes); the waiting event
names the groups or roles that may send it (``messageSenders``), anyone else gets 403, and an
event that names no one takes messages from administrators only; the answer is the instance
as the sender's own GET shows it. Sent through the API as the role each test names."""

from __future__ import annotations

import sqlalchemy as sa

from engine.commands import Complete, StartInstance
from engine.models import AuditEntry, MessageSubscription, ProcessInstance
from tests.conftest import BPMN_DIR
from tests.ui.pages import World
from webapp.demo import SAMPLES, WORK_REPORT

from .scope_world import count, token

MESSAGE = "work_report_received"  # the demo request waits for it after the visit


def _waiting_for_the_report(world: World, key: str, unit: str, visitor: str) -> int:
    """A demo service request at ``unit`` whose visit ``visitor`` has done: it waits for the
    work report message."""
    data = {**dict(SAMPLES)["DEMO-0001"], "org_unit": unit}
    started = world.run(
        StartInstance("demo_service_request", business_key=key, variables=data), "agent"
    )
    visit = world.task(key, "visit")
    world.run(Complete(visit.id, data=WORK_REPORT), visitor)
    return started.id


def _send(world: World, username: str, **body: object):  # noqa: ANN202
    return world.app.test_client().post(
        "/api/v1/messages", headers=token(world, username), json={"name": MESSAGE, **body}
    )


def _state(world: World, instance_id: int) -> tuple:
    with world.session_factory() as session:
        instance = session.get(ProcessInstance, instance_id)
        waiting = session.scalar(
            sa.select(sa.func.count())
            .select_from(MessageSubscription)
            .where(MessageSubscription.instance_id == instance_id)
        )
        delivered = session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.instance_id == instance_id, AuditEntry.command == "correlate_message")
        )
        return instance.revision, instance.state, instance.variables, waiting, delivered


def test_a_message_to_an_instance_outside_the_senders_scope_is_404_and_changes_nothing(
    world: World,
) -> None:
    pudong = _waiting_for_the_report(world, "SR-PD-1", "O-SH-PD", "engineer")
    before = _state(world, pudong)
    response = _send(world, "outlet2", correlation_key="SR-PD-1", variables={"fault": "x"})
    assert response.status_code == 404
    assert "SR-PD-1" not in response.get_data(as_text=True)
    assert _state(world, pudong) == before


def test_an_outside_instance_answers_exactly_as_a_key_no_instance_has(world: World) -> None:
    _waiting_for_the_report(world, "SR-PD-1", "O-SH-PD", "engineer")
    hidden = _send(world, "outlet2", correlation_key="SR-PD-1").get_json()
    missing = _send(world, "outlet2", correlation_key="SR-NONE").get_json()
    assert hidden == missing


def test_a_message_without_a_key_reaches_only_the_instance_in_the_senders_scope(
    world: World,
) -> None:
    pudong = _waiting_for_the_report(world, "SR-PD-1", "O-SH-PD", "engineer")
    tianhe = _waiting_for_the_report(world, "SR-TH-1", "O-GZ-TH", "outlet2")
    before = _state(world, tianhe)
    response = _send(world, "outlet", variables={"fault": "压缩机不启动"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == pudong
    assert _state(world, tianhe) == before


def test_a_role_the_event_does_not_name_gets_403_and_changes_nothing(world: World) -> None:
    pudong = _waiting_for_the_report(world, "SR-PD-1", "O-SH-PD", "engineer")
    before = _state(world, pudong)
    response = _send(world, "agent", correlation_key="SR-PD-1", variables={"fault": "x"})
    assert response.status_code == 403
    assert response.get_json()["details"] == {"reason": "not_a_sender"}
    assert _state(world, pudong) == before


def test_a_named_role_in_scope_gets_200_with_the_instance_as_its_own_get_shows_it(
    world: World,
) -> None:
    pudong = _waiting_for_the_report(world, "SR-PD-1", "O-SH-PD", "engineer")
    response = _send(world, "engineer", correlation_key="SR-PD-1", variables={"fault": "漏氟"})
    assert response.status_code == 200, response.get_json()
    answered = response.get_json()
    seen = world.app.test_client().get(
        f"/api/v1/process-instances/{pudong}", headers=token(world, "engineer")
    )
    assert answered == seen.get_json()
    assert answered["current_activities"] == ["callback"]
    assert answered["variables"]["fault"] == "漏氟"


def _deploy_test_messages(world: World) -> None:
    """The tests' messages.bpmn: its events name no senders, its processes no lanes."""
    with (BPMN_DIR / "messages.bpmn").open("rb") as file:
        response = world.app.test_client().post(
            "/api/v1/deployments",
            headers=token(world, "admin"),
            data={"files": [(file, "messages.bpmn")]},
            content_type="multipart/form-data",
        )
    assert response.status_code == 201, response.get_json()


def test_an_event_that_names_no_senders_takes_messages_from_administrators_only(
    world: World,
) -> None:
    _deploy_test_messages(world)
    started = world.run(StartInstance("await_payment", business_key="ORD-1"), "admin")
    before = _state(world, started.id)
    client = world.app.test_client()
    body = {"name": "payment_received", "correlation_key": "ORD-1", "variables": {"amount": 9}}
    refused = client.post("/api/v1/messages", headers=token(world, "manager"), json=body)
    assert refused.status_code == 403
    assert _state(world, started.id) == before
    accepted = client.post("/api/v1/messages", headers=token(world, "admin"), json=body)
    assert accepted.status_code == 200
    assert accepted.get_json()["variables"]["amount"] == 9


def test_a_message_that_starts_a_process_follows_its_start_rules(world: World) -> None:
    _deploy_test_messages(world)
    before = count(world, ProcessInstance)
    client = world.app.test_client()
    body = {"name": "order_placed", "correlation_key": "ORD-9"}
    refused = client.post("/api/v1/messages", headers=token(world, "manager"), json=body)
    assert refused.status_code == 403
    assert refused.get_json()["details"] == {"reason": "not_granted"}
    assert count(world, ProcessInstance) == before
    started = client.post("/api/v1/messages", headers=token(world, "admin"), json=body)
    assert started.status_code == 200
    assert started.get_json()["business_key"] == "ORD-9"
