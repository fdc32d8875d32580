"""A failed step keeps nothing: a service task's writes roll back with it, and a retry starts
clean. Runs on SQLite and PostgreSQL (see tests/conftest.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.commands import RetryIncident, StartInstance
from engine.models import AuditEntry
from engine.services import command_session
from tests.helpers import incidents, instance, task_names


def _rows(engine_env, command: str) -> list[AuditEntry]:  # noqa: ANN001
    with engine_env.session_factory() as session:
        return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.command == command)))


def _register_writer(operations, fail: list[bool]) -> None:  # noqa: ANN001
    """``lookup_price`` inserts a row through the command's session, then fails while
    ``fail[0]`` is true."""

    def lookup_price(model, quantity):  # noqa: ANN001, ANN202
        session = command_session()
        session.add(AuditEntry(command="price_lookup", actor="operation", details={"m": model}))
        session.flush()
        if fail[0]:
            raise RuntimeError("the price list is offline")
        return {"total": quantity * 10}

    operations.register("lookup_price", lookup_price)


def test_an_operation_that_wrote_then_raised_leaves_no_row_and_an_incident(engine_env, operations):
    _register_writer(operations, [True])
    engine_env.deploy("service_task.bpmn")

    started = engine_env.run(StartInstance("service_task", variables={"model": "X", "quantity": 1}))

    assert _rows(engine_env, "price_lookup") == []
    (incident,) = incidents(engine_env.session_factory, started.id)
    assert incident.activity == "price"
    assert "the price list is offline" in incident.message
    assert instance(engine_env.session_factory, started.id).status == "incident"


def test_a_retry_after_a_failed_write_inserts_exactly_one_row(engine_env, operations):
    fail = [True]
    _register_writer(operations, fail)
    engine_env.deploy("service_task.bpmn")
    started = engine_env.run(StartInstance("service_task", variables={"model": "X", "quantity": 1}))
    (incident,) = incidents(engine_env.session_factory, started.id)

    fail[0] = False
    engine_env.run(RetryIncident(incident.id))

    assert [row.details for row in _rows(engine_env, "price_lookup")] == [{"m": "X"}]
    assert task_names(engine_env.session_factory, started.id) == ["confirm"]
    assert instance(engine_env.session_factory, started.id).variables["price"] == {"total": 20}


def test_a_successful_operation_keeps_its_row(engine_env, operations):
    _register_writer(operations, [False])
    engine_env.deploy("service_task.bpmn")

    started = engine_env.run(StartInstance("service_task", variables={"model": "Y", "quantity": 2}))

    assert [row.details for row in _rows(engine_env, "price_lookup")] == [{"m": "Y"}]
    assert instance(engine_env.session_factory, started.id).status == "running"


def test_an_operation_that_breaks_a_constraint_is_an_incident_not_a_failed_command(
    engine_env, operations
):
    def lookup_price(model, quantity):  # noqa: ANN001, ANN202
        session = command_session()
        session.add(AuditEntry(command="price_lookup", actor="operation", instance_id=10**9))
        return {"total": 1}

    operations.register("lookup_price", lookup_price)
    engine_env.deploy("service_task.bpmn")

    started = engine_env.run(StartInstance("service_task", variables={"model": "X", "quantity": 1}))

    (incident,) = incidents(engine_env.session_factory, started.id)
    assert "IntegrityError" in incident.message
    assert _rows(engine_env, "price_lookup") == []


def test_a_savepoint_opened_first_in_a_transaction_does_not_commit_it(session_factory):
    """pysqlite's own transaction handling would let RELEASE commit the whole transaction
    when SAVEPOINT was its first statement; engine.db installs SQLAlchemy's workaround."""
    with session_factory() as session:
        with session.begin_nested():
            session.add(AuditEntry(command="inside_savepoint"))
        session.add(AuditEntry(command="after_savepoint"))
        session.flush()
        session.rollback()
    with session_factory() as session:
        assert session.scalars(sa.select(AuditEntry.command)).all() == []


def test_a_rolled_back_savepoint_keeps_what_came_before_it(session_factory):
    with session_factory() as session:
        session.add(AuditEntry(command="before"))
        session.flush()
        with pytest.raises(RuntimeError), session.begin_nested():
            session.add(AuditEntry(command="inside"))
            session.flush()
            raise RuntimeError("step failed")
        session.commit()
    with session_factory() as session:
        assert session.scalars(sa.select(AuditEntry.command)).all() == ["before"]
