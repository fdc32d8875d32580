"""Demo data: an organisation tree, its people, the processes and forms, a few instances.

Idempotent: users are upserted, unchanged files deploy as no-ops, and instances are started
only when no demo instance exists yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from faker import Faker
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

import forms
from aftersales.demo import orders as demo_orders
from aftersales.demo import world as demo_world
from aftersales.products.models import Part
from engine.commands import (
    Complete,
    CorrelateMessage,
    Deploy,
    GrantStart,
    StartInstance,
    Unclaim,
    execute,
)
from engine.identity import SYSTEM_ACTOR, actor_for, upsert_user
from engine.models import HumanTask, ProcessInstance, StartGrant
from engine.org import upsert_unit
from forms import survey

# the repository's bpmn/ folder, installed as the package csm_bpmn (pyproject.toml)
BPMN_DIR = Path(str(resources.files("csm_bpmn")))
FORMS_DIR = Path(forms.__file__).resolve().parent
DEMO_PASSWORD = "demo1234"

UNITS = [
    ("HQ", "总部", "hq", None),
    ("HQ-CC", "呼叫中心", "department", "HQ"),
    ("HQ-QA", "质量管理部", "department", "HQ"),
    ("HQ-FIN", "财务部", "department", "HQ"),
    *((code, name, "center", "HQ") for code, name in demo_world.CENTERS),
    *((o.code, o.name, "outlet", o.center) for o in demo_world.OUTLETS),
]

AGENT = (["agent"], ["agents"])
CENTER_STAFF = (["center_staff"], ["centers", "depots"])
OUTLET_MANAGER = (["outlet_manager"], ["outlets", "outlet_managers"])
ENGINEER = (["engineer"], ["outlets", "engineers"])

# username, display name, unit, roles, candidate groups, admin: the logins the README lists
USERS = [
    ("admin", "系统管理员", "HQ", ["admin"], [], True),
    ("designer", "流程设计员 周涛", "HQ", ["process_designer"], [], False),
    ("manager", "经理 刘洋", "HQ", ["manager"], ["managers"], False),
    ("lead", "座席组长 孙丽", "HQ-CC", ["team_lead", "agent"], ["agents", "team_leads"], False),
    ("agent", "座席 王芳", "HQ-CC", *AGENT, False),
    ("agent2", "座席 李娜", "HQ-CC", *AGENT, False),
    ("center", "华东中心 吴强", "C-EAST", *CENTER_STAFF, False),
    ("outlet", "浦东网点 张伟", "O-SH-PD", *OUTLET_MANAGER, False),
    ("engineer", "工程师 赵磊", "O-SH-PD", *ENGINEER, False),
    ("outlet2", "天河网点 黄敏", "O-GZ-TH", *OUTLET_MANAGER, False),
    ("complaints", "投诉主管 郑洁", "HQ-QA", ["complaint_supervisor"], ["complaints"], False),
    ("warehouse", "备件仓库 冯刚", "C-EAST", ["warehouse"], ["warehouse"], False),
    ("finance", "财务 陈丽", "HQ-FIN", ["finance"], ["finance"], False),
    (
        "kb",
        "质量部 钱红",
        "HQ-QA",
        ["knowledge_editor", "responsible_department"],
        ["departments"],
        False,
    ),
]
AGENTS = 20
ENGINEERS = 40


def staff() -> list[tuple]:
    """Everyone else the demo's outlets and call center need, named deterministically:
    agents agent03.., a staff member per other center, a manager per other outlet, and
    engineers eng-<outlet>-<n> so that there are 40 in all (3 or 4 per outlet)."""
    fake = Faker("zh_CN")
    fake.seed_instance(7)
    people = [
        (f"agent{n:02d}", f"座席 {fake.name()}", "HQ-CC", *AGENT, False)
        for n in range(3, AGENTS + 1)
    ]
    for code, name in demo_world.CENTERS[1:]:
        short = code.split("-")[1].lower()
        people.append(
            (f"center-{short}", f"{name[:2]}中心 {fake.name()}", code, *CENTER_STAFF, False)
        )
    named_managers = {unit for _, _, unit, roles, *_ in USERS if "outlet_manager" in roles}
    per_outlet, extra = divmod(ENGINEERS, len(demo_world.OUTLETS))
    for index, outlet in enumerate(demo_world.OUTLETS):
        short = outlet.code.removeprefix("O-").lower()
        if outlet.code not in named_managers:
            people.append(
                (
                    f"mgr-{short}",
                    f"{outlet.name[2:4]}网点 {fake.name()}",
                    outlet.code,
                    *OUTLET_MANAGER,
                    False,
                )
            )
        named = 1 if outlet.code == "O-SH-PD" else 0  # the README's "engineer" works there
        for n in range(named + 1, per_outlet + (index < extra) + 1):
            people.append(
                (f"eng-{short}-{n}", f"工程师 {fake.name()}", outlet.code, *ENGINEER, False)
            )
    return people


_REQUEST = {
    "address": "上海市浦东新区世纪大道 100 号",
    "product_model": "KFR-35GW",
    "urgency": "normal",
}
SAMPLES = [
    (
        "DEMO-0001",
        {
            **_REQUEST,
            "customer_name": "陈静",
            "phone": "13800000001",
            "fault_description": "空调不制冷",
            "needs_visit": True,
            "org_unit": "O-SH-PD",
        },
    ),
    (
        "DEMO-0002",
        {
            **_REQUEST,
            "customer_name": "杨磊",
            "phone": "13800000002",
            "fault_description": "遥控器失灵，电话指导已解决",
            "needs_visit": False,
        },
    ),
    (
        "DEMO-0003",
        {
            **_REQUEST,
            "customer_name": "赵敏",
            "phone": "13800000003",
            "address": "广州市天河区体育西路 20 号",
            "fault_description": "洗衣机漏水",
            "needs_visit": True,
            "org_unit": "O-GZ-TH",
        },
    ),
]


def demo_files() -> list[tuple[str, bytes]]:
    """The BPMN, DMN, form and service-type files a fresh installation deploys."""
    paths = sorted(BPMN_DIR.glob("*.bpmn")) + sorted(BPMN_DIR.glob("*.dmn"))
    paths += sorted(FORMS_DIR.glob("*.form.json")) + sorted(BPMN_DIR.glob("*.service.json"))
    return [(str(p), p.read_bytes()) for p in paths]


def load_demo(session: Session, size: demo_world.Size | None = None) -> Iterator[str]:
    size = size or demo_world.Size()
    for code, name, kind, parent in UNITS:
        upsert_unit(session, code, name=name, kind=kind, parent_code=parent)
    users = {}
    password = generate_password_hash(DEMO_PASSWORD)
    for username, name, unit, roles, groups, admin in USERS + staff():
        users[username] = upsert_user(
            session,
            username=username,
            display_name=name,
            groups=groups,
            is_admin=admin,
            org_code=unit,
            roles=roles,
            password_hash=password,
        )
    session.commit()
    yield from demo_world.build(session, size)
    yield f"engineers: {demo_orders.engineers(session)} new records"
    session.commit()
    yield f"units: {', '.join(u[0] for u in UNITS)}"
    yield f"users: {', '.join(u[0] for u in USERS)} (password {DEMO_PASSWORD})"

    files = demo_files()
    for result in execute(session, Deploy(files, source="demo"), SYSTEM_ACTOR):
        yield f"{result.key} {result.version} {'new' if result.created else 'unchanged'}"
    # an outlet's hotline opens repairs for the callers it takes (brochure: 派工任务处理)
    if not session.scalar(sa.select(StartGrant).where(StartGrant.process_key == "repair")):
        execute(session, GrantStart("repair", ["outlet_managers"]), SYSTEM_ACTOR)
        yield "outlet managers may open repair orders from their hotline"

    exists = session.scalar(
        sa.select(sa.func.count())
        .select_from(ProcessInstance)
        .where(ProcessInstance.business_key.like("DEMO-%"))
    )
    if exists:
        yield "demo instances already present"
        return
    _survey(session)
    session.commit()
    agent = actor_for(users["agent"])
    engineer = actor_for(users["engineer"])
    for business_key, data in SAMPLES:
        instance = execute(
            session,
            StartInstance("demo_service_request", business_key=business_key, variables=data),
            agent,
        )
        yield f"started {business_key} as instance {instance.id}"
        for task in _assigned(session, instance.id, agent.username):
            # the agent who took the call would keep its callback; the demo leaves it in
            # the agents' queue, so the inbox has work to claim
            execute(session, Unclaim(task.id), agent)
            yield f"{business_key}: {task.name} left to the {task.candidate_group} queue"
    first = session.scalar(
        sa.select(ProcessInstance).where(ProcessInstance.business_key == "DEMO-0001")
    )
    visit = _open_task(session, first.id, "visit")
    report = {**WORK_REPORT, "parts_used": [_sample_part(session)]}
    execute(session, Complete(visit.id, data=report), engineer)
    execute(
        session,
        CorrelateMessage("work_report_received", "DEMO-0001", {"fault": "压缩机不启动"}),
        SYSTEM_ACTOR,
    )
    yield "DEMO-0001 visited and reported; waiting for the callback"
    yield from demo_orders.build(session, size.orders, size.seed)
    session.commit()


# the parts a demo without the generated catalogue (no customers and orders) still stocks
BARE_PARTS = [
    ("CAP-35", "启动电容", Decimal("45.00")),
    ("R32-1KG", "R32 冷媒（1 kg）", Decimal("80.00")),
]


def _sample_part(session: Session) -> dict:
    """The part the sample work report used, as a row of its parts table: a work report
    names parts of the catalogue, so an air-conditioner part of the demo catalogue, or
    without one the starting capacitor of the few parts a bare demo stocks."""
    part = session.scalar(
        sa.select(Part).where(Part.code.startswith("P-AC-")).order_by(Part.code).limit(1)
    )
    if part is None:
        known = set(session.scalars(sa.select(Part.code)))
        for code, name, price in BARE_PARTS:
            if code not in known:
                session.add(Part(code=code, name=name, price=price, models=[]))
        session.flush()
        part = session.scalar(sa.select(Part).where(Part.code == BARE_PARTS[0][0]))
    return {"code": part.code, "name": part.name, "qty": 1, "unit_price": float(part.price)}


# A 1x1 transparent PNG: the shape of what the signature pad sends.
SIGNATURE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WORK_REPORT = {
    "check_in_at": "2026-11-20T10:30",
    "fault_class": "refrigeration",
    "solution": "补充冷媒，更换压缩机启动电容",
    "parts_used": [{"code": "CAP-35", "name": "启动电容", "qty": 1, "unit_price": 45.0}],
    "visit_fee": 50,
    "customer_signature": SIGNATURE,
}

SURVEY_ITEMS = [
    ("VISITED", "工程师是否确实上门服务？", "Did the engineer really visit?", "yes_no", 1.0),
    (
        "ATTITUDE",
        "您对工程师的服务态度是否满意？",
        "Were you satisfied with the engineer's manner?",
        "score",
        2.0,
    ),
    (
        "ONTIME",
        "工程师是否按约定时间上门？",
        "Did the engineer arrive at the agreed time?",
        "yes_no",
        1.0,
    ),
    ("FIXED", "故障是否已经解决？", "Was the fault fixed?", "yes_no", 2.0),
    ("REMARK", "您还有什么意见或建议？", "Any other remarks?", "text", 1.0),
]


def _survey(session: Session) -> None:
    """The callback survey of repair orders: items and their binding, created once."""
    codes = []
    existing = {item.code for item in survey.list_items(session, include_inactive=True)}
    for code, zh, en, kind, weight in SURVEY_ITEMS:
        codes.append(code)
        if code not in existing:
            survey.create_item(session, code, zh, en, kind, weight=weight, required=kind != "text")
    session.flush()
    survey.bind(session, "repair", codes)
    survey.bind(session, "installation", [c for c in codes if c != "FIXED"])


def _assigned(session: Session, instance_id: int, username: str) -> list[HumanTask]:
    return list(
        session.scalars(
            sa.select(HumanTask).where(
                HumanTask.instance_id == instance_id,
                HumanTask.assignee == username,
                HumanTask.status == "open",
            )
        )
    )


def _open_task(session: Session, instance_id: int, name: str) -> HumanTask:
    return session.scalar(
        sa.select(HumanTask).where(
            HumanTask.instance_id == instance_id,
            HumanTask.name == name,
            HumanTask.status == "open",
        )
    )
