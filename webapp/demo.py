"""Demo data: users in the groups the sample processes name, the processes, a few instances.

Idempotent: users are upserted, unchanged files deploy as no-ops, and instances are started
only when no demo instance exists yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine.commands import Complete, CorrelateMessage, Deploy, StartInstance, execute
from engine.identity import DESIGNER_GROUP, SYSTEM_ACTOR, actor_for, upsert_user
from engine.models import HumanTask, ProcessInstance

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
DEMO_PASSWORD = "demo1234"

USERS = [
    ("admin", "系统管理员", [], True),
    ("designer", "流程设计员", [DESIGNER_GROUP], False),
    ("agent", "座席 王芳", ["agents"], False),
    ("agent2", "座席 李娜", ["agents"], False),
    ("outlet", "网点 张伟", ["outlets"], False),
    ("manager", "经理 刘洋", ["agents", "outlets", "managers"], False),
]

SAMPLES = [
    ("DEMO-0001", {"customer_name": "陈静", "phone": "13800000001", "needs_visit": True}),
    ("DEMO-0002", {"customer_name": "杨磊", "phone": "13800000002", "needs_visit": False}),
    ("DEMO-0003", {"customer_name": "赵敏", "phone": "13800000003", "needs_visit": True}),
]


def load_demo(session: Session) -> Iterator[str]:
    users = {}
    for username, name, groups, admin in USERS:
        users[username] = upsert_user(
            session,
            username=username,
            display_name=name,
            groups=groups,
            is_admin=admin,
            password_hash=generate_password_hash(DEMO_PASSWORD),
        )
    session.commit()
    yield f"users: {', '.join(u for u, *_ in USERS)} (password {DEMO_PASSWORD})"

    files = [(str(p), p.read_bytes()) for p in sorted(BPMN_DIR.glob("*.bpmn"))]
    for result in execute(session, Deploy(files, source="demo"), SYSTEM_ACTOR):
        yield f"{result.key} {result.version} {'new' if result.created else 'unchanged'}"

    exists = session.scalar(
        sa.select(sa.func.count())
        .select_from(ProcessInstance)
        .where(ProcessInstance.business_key.like("DEMO-%"))
    )
    if exists:
        yield "demo instances already present"
        return
    agent = actor_for(users["agent"])
    outlet = actor_for(users["outlet"])
    for business_key, data in SAMPLES:
        instance = execute(
            session,
            StartInstance("demo_service_request", business_key=business_key),
            agent,
        )
        task = _open_task(session, instance.id, "record_request")
        execute(session, Complete(task.id, data=data), agent)
        yield f"started {business_key} as instance {instance.id}"
    first = session.scalar(
        sa.select(ProcessInstance).where(ProcessInstance.business_key == "DEMO-0001")
    )
    visit = _open_task(session, first.id, "visit")
    execute(session, Complete(visit.id, data={"visit_note": "已上门检测"}), outlet)
    execute(
        session,
        CorrelateMessage("work_report_received", "DEMO-0001", {"fault": "压缩机不启动"}),
        SYSTEM_ACTOR,
    )
    yield "DEMO-0001 visited and reported; waiting for the callback"


def _open_task(session: Session, instance_id: int, name: str) -> HumanTask:
    return session.scalar(
        sa.select(HumanTask).where(
            HumanTask.instance_id == instance_id,
            HumanTask.name == name,
            HumanTask.status == "open",
        )
    )
