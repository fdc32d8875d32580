"""Message correlation: waiting instances found by message name and business key."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.commands import Complete, CorrelateMessage, StartInstance
from engine.errors import Conflict, NotFound
from engine.models import AuditEntry, MessageSubscription, ProcessInstance
from tests.helpers import audit, instance, open_task, task_names


def subscriptions(engine_env) -> list[tuple[int, str, str | None]]:  # noqa: ANN001
    with engine_env.session_factory() as session:
        rows = session.scalars(sa.select(MessageSubscription).order_by(MessageSubscription.id))
        return [(r.instance_id, r.message_name, r.business_key) for r in rows]


def instance_count(engine_env) -> int:  # noqa: ANN001
    with engine_env.session_factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance))


def correlate_audit_rows(engine_env) -> int:  # noqa: ANN001
    with engine_env.session_factory() as session:
        return session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.command == "correlate_message")
        )


def test_waiting_instance_subscribes_with_its_business_key(engine_env):
    engine_env.deploy("messages.bpmn")
    started = engine_env.run(StartInstance("await_payment", business_key="ORD-1"))

    assert subscriptions(engine_env) == [(started.id, "payment_received", "ORD-1")]
    assert instance(engine_env.session_factory, started.id).current_activities == ["wait_paid"]
    assert task_names(engine_env.session_factory, started.id) == []


def test_message_with_business_key_moves_the_instance_on_to_ship(engine_env):
    engine_env.deploy("messages.bpmn")
    other = engine_env.run(StartInstance("await_payment", business_key="ORD-2"))
    started = engine_env.run(
        StartInstance("await_payment", business_key="ORD-1", variables={"customer": "Li"})
    )

    result = engine_env.run(
        CorrelateMessage(
            "payment_received", correlation_key="ORD-1", variables={"amount": 99, "paid": True}
        )
    )

    assert result.id == started.id
    assert task_names(engine_env.session_factory, started.id) == ["ship"]
    moved = instance(engine_env.session_factory, started.id)
    assert moved.status == "running"
    assert moved.variables == {"customer": "Li", "amount": 99, "paid": True}
    assert subscriptions(engine_env) == [(other.id, "payment_received", "ORD-2")]
    assert task_names(engine_env.session_factory, other.id) == []
    (row,) = [a for a in audit(engine_env.session_factory, started.id) if a.command != "start"]
    assert row.command == "correlate_message"
    assert row.details == {"message": "payment_received"}
    assert row.changes["amount"] == {"old": None, "new": 99}


def test_message_data_reaches_the_end_of_the_process(engine_env):
    engine_env.deploy("messages.bpmn", "shipping.form.json")
    started = engine_env.run(StartInstance("await_payment", business_key="ORD-1"))
    engine_env.run(
        CorrelateMessage("payment_received", correlation_key="ORD-1", variables={"amount": 99})
    )
    ship = open_task(engine_env.session_factory, started.id, "ship")
    engine_env.run(Complete(ship.id, data={"tracking": "SF123"}))

    done = instance(engine_env.session_factory, started.id)
    assert done.status == "completed"
    assert done.variables == {"amount": 99, "tracking": "SF123"}


def test_message_to_an_unknown_name_raises_not_found_and_changes_nothing(engine_env):
    engine_env.deploy("messages.bpmn")
    started = engine_env.run(StartInstance("await_payment", business_key="ORD-1"))
    before = instance(engine_env.session_factory, started.id)

    with pytest.raises(NotFound):
        engine_env.run(
            CorrelateMessage("no_such_message", correlation_key="ORD-1", variables={"x": 1})
        )

    after = instance(engine_env.session_factory, started.id)
    assert (after.revision, after.state, after.variables) == (
        before.revision,
        before.state,
        before.variables,
    )
    assert subscriptions(engine_env) == [(started.id, "payment_received", "ORD-1")]
    assert instance_count(engine_env) == 1
    assert correlate_audit_rows(engine_env) == 0


def test_message_with_a_key_no_instance_has_raises_not_found(engine_env):
    engine_env.deploy("messages.bpmn")
    started = engine_env.run(StartInstance("await_payment", business_key="ORD-1"))

    with pytest.raises(NotFound):
        engine_env.run(CorrelateMessage("payment_received", correlation_key="ORD-404"))

    assert subscriptions(engine_env) == [(started.id, "payment_received", "ORD-1")]
    assert instance_count(engine_env) == 1
    assert correlate_audit_rows(engine_env) == 0


def test_message_without_key_to_two_waiting_instances_is_a_conflict(engine_env):
    engine_env.deploy("messages.bpmn")
    first = engine_env.run(StartInstance("await_payment", business_key="ORD-1"))
    second = engine_env.run(StartInstance("await_payment", business_key="ORD-2"))
    states = {i: instance(engine_env.session_factory, i).state for i in (first.id, second.id)}

    with pytest.raises(Conflict) as raised:
        engine_env.run(CorrelateMessage("payment_received", variables={"amount": 1}))

    assert raised.value.details == {"instances": [first.id, second.id]}
    for instance_id in (first.id, second.id):
        unchanged = instance(engine_env.session_factory, instance_id)
        assert unchanged.state == states[instance_id]
        assert "amount" not in unchanged.variables
        assert task_names(engine_env.session_factory, instance_id) == []
    assert subscriptions(engine_env) == [
        (first.id, "payment_received", "ORD-1"),
        (second.id, "payment_received", "ORD-2"),
    ]
    assert correlate_audit_rows(engine_env) == 0


def test_message_without_key_reaches_the_only_waiting_instance(engine_env):
    engine_env.deploy("messages.bpmn")
    started = engine_env.run(StartInstance("await_payment"))

    engine_env.run(CorrelateMessage("payment_received", variables={"amount": 5}))

    assert task_names(engine_env.session_factory, started.id) == ["ship"]
    assert instance(engine_env.session_factory, started.id).variables == {"amount": 5}


def test_message_start_event_starts_an_instance_keyed_by_the_correlation_key(engine_env):
    engine_env.deploy("messages.bpmn")

    started = engine_env.run(
        CorrelateMessage("order_placed", correlation_key="ORD-9", variables={"items": 3})
    )

    assert started.process_key == "order_intake"
    assert started.business_key == "ORD-9"
    created = instance(engine_env.session_factory, started.id)
    assert created.status == "running"
    assert created.variables == {"items": 3}
    review = open_task(engine_env.session_factory, started.id, "o_review")
    assert review.business_key == "ORD-9"
    assert instance_count(engine_env) == 1
    assert [a.command for a in audit(engine_env.session_factory, started.id)] == [
        "start",
        "correlate_message",
    ]


def test_message_start_event_starts_a_new_instance_per_message(engine_env):
    engine_env.deploy("messages.bpmn")

    first = engine_env.run(CorrelateMessage("order_placed", correlation_key="ORD-9"))
    second = engine_env.run(CorrelateMessage("order_placed", correlation_key="ORD-10"))

    assert first.id != second.id
    assert task_names(engine_env.session_factory, first.id) == ["o_review"]
    assert task_names(engine_env.session_factory, second.id) == ["o_review"]
    assert instance(engine_env.session_factory, second.id).business_key == "ORD-10"
