"""Small helpers for reading engine state in tests, through the same tables the API reads."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from engine.models import AuditEntry, HumanTask, Incident, ProcessInstance, Timer


def instance(factory: sessionmaker[Session], instance_id: int) -> ProcessInstance:
    with factory() as session:
        return session.get(ProcessInstance, instance_id)


def open_tasks(factory: sessionmaker[Session], instance_id: int) -> list[HumanTask]:
    with factory() as session:
        return list(
            session.scalars(
                sa.select(HumanTask)
                .where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
                .order_by(HumanTask.name)
            )
        )


def open_task(factory: sessionmaker[Session], instance_id: int, name: str) -> HumanTask:
    found = [t for t in open_tasks(factory, instance_id) if t.name == name]
    assert found, (
        f"no open task {name!r}; open: {[t.name for t in open_tasks(factory, instance_id)]}"
    )
    return found[0]


def task_names(factory: sessionmaker[Session], instance_id: int) -> list[str]:
    return [t.name for t in open_tasks(factory, instance_id)]


def timers(factory: sessionmaker[Session], instance_id: int) -> list[Timer]:
    with factory() as session:
        return list(
            session.scalars(
                sa.select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at)
            )
        )


def incidents(
    factory: sessionmaker[Session], instance_id: int, status: str = "open"
) -> list[Incident]:
    with factory() as session:
        return list(
            session.scalars(
                sa.select(Incident).where(
                    Incident.instance_id == instance_id, Incident.status == status
                )
            )
        )


def audit(factory: sessionmaker[Session], instance_id: int) -> list[AuditEntry]:
    with factory() as session:
        return list(
            session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.instance_id == instance_id)
                .order_by(AuditEntry.id)
            )
        )


def redeploy_type(factory: sessionmaker[Session], key: str, **changes: object) -> int:
    """Deploy the product's service type ``key`` with some members changed (who may open it,
    its statuses...) as its next version; the version number."""
    import json

    from engine.commands import Deploy, execute
    from engine.identity import SYSTEM_ACTOR
    from tests.environment import REPO_DIR

    document = json.loads((REPO_DIR / "bpmn" / f"{key}.service.json").read_text("utf-8"))
    document.update(changes)
    with factory() as session:
        (result,) = execute(
            session, Deploy([(f"{key}.service.json", json.dumps(document).encode())]), SYSTEM_ACTOR
        )
    return result.version
