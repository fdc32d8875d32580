"""Demo data: an organisation tree, its people, the processes and forms, a few instances.

Idempotent: users are upserted, unchanged files deploy as no-ops, and instances are started
only when no demo instance exists yet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from aftersales import demo_world
from aftersales.models import Customer, CustomerAddress, Engineer
from aftersales.orders import create_order
from engine.commands import Complete, CorrelateMessage, Deploy, StartInstance, execute
from engine.identity import SYSTEM_ACTOR, actor_for, upsert_user
from engine.models import HumanTask, ProcessInstance
from engine.org import upsert_unit
from forms import survey

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "bpmn"
FORMS_DIR = ROOT / "forms"
DEMO_PASSWORD = "demo1234"

UNITS = [
    ("HQ", "总部", "hq", None),
    ("HQ-CC", "呼叫中心", "department", "HQ"),
    ("HQ-QA", "质量管理部", "department", "HQ"),
    ("C-EAST", "华东服务中心", "center", "HQ"),
    ("C-SOUTH", "华南服务中心", "center", "HQ"),
    ("O-SH-PD", "上海浦东网点", "outlet", "C-EAST"),
    ("O-HZ-XH", "杭州西湖网点", "outlet", "C-EAST"),
    ("O-GZ-TH", "广州天河网点", "outlet", "C-SOUTH"),
]

# username, display name, unit, roles, candidate groups, admin
USERS = [
    ("admin", "系统管理员", "HQ", ["admin"], [], True),
    ("designer", "流程设计员 周涛", "HQ", ["process_designer"], [], False),
    ("manager", "经理 刘洋", "HQ", ["manager"], ["managers"], False),
    ("lead", "座席组长 孙丽", "HQ-CC", ["team_lead", "agent"], ["agents", "team_leads"], False),
    ("agent", "座席 王芳", "HQ-CC", ["agent"], ["agents"], False),
    ("agent2", "座席 李娜", "HQ-CC", ["agent"], ["agents"], False),
    ("center", "华东中心 吴强", "C-EAST", ["center_staff"], ["centers", "depots"], False),
    (
        "outlet",
        "浦东网点 张伟",
        "O-SH-PD",
        ["outlet_manager"],
        ["outlets", "outlet_managers"],
        False,
    ),
    ("engineer", "工程师 赵磊", "O-SH-PD", ["engineer"], ["outlets", "engineers"], False),
    (
        "outlet2",
        "天河网点 黄敏",
        "O-GZ-TH",
        ["outlet_manager"],
        ["outlets", "outlet_managers"],
        False,
    ),
    (
        "kb",
        "质量部 钱红",
        "HQ-QA",
        ["knowledge_editor", "responsible_department"],
        ["departments"],
        False,
    ),
]

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
    """The BPMN, DMN and form files a fresh installation deploys."""
    paths = sorted(BPMN_DIR.glob("*.bpmn")) + sorted(BPMN_DIR.glob("*.dmn"))
    paths += sorted(FORMS_DIR.glob("*.form.json"))
    return [(str(p), p.read_bytes()) for p in paths]


def load_demo(session: Session, size: demo_world.Size | None = None) -> Iterator[str]:
    size = size or demo_world.Size()
    for code, name, kind, parent in UNITS:
        upsert_unit(session, code, name=name, kind=kind, parent_code=parent)
    users = {}
    password = generate_password_hash(DEMO_PASSWORD)
    for username, name, unit, roles, groups, admin in USERS:
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
    _engineers(session, users)
    yield f"units: {', '.join(u[0] for u in UNITS)}"
    yield f"users: {', '.join(u[0] for u in USERS)} (password {DEMO_PASSWORD})"

    files = demo_files()
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
    first = session.scalar(
        sa.select(ProcessInstance).where(ProcessInstance.business_key == "DEMO-0001")
    )
    visit = _open_task(session, first.id, "visit")
    execute(session, Complete(visit.id, data=WORK_REPORT), engineer)
    execute(
        session,
        CorrelateMessage("work_report_received", "DEMO-0001", {"fault": "压缩机不启动"}),
        SYSTEM_ACTOR,
    )
    yield "DEMO-0001 visited and reported; waiting for the callback"
    if size.orders:
        yield from _repair_orders(session, users, size.repair_orders)


def _task_of(session: Session, number: str, name: str) -> HumanTask:
    return session.scalar(
        sa.select(HumanTask).where(
            HumanTask.business_key == number, HumanTask.name == name, HumanTask.status == "open"
        )
    )


def _repair_orders(session: Session, users: dict, count: int) -> Iterator[str]:
    """Repair orders of demo customers in Pudong, stopped at steps in turn (waiting for
    phone support, solved on the phone, dispatched, accepted, reported)."""
    served = ("AC", "FR", "WM")
    customers = [
        c
        for c in session.scalars(
            sa.select(Customer)
            .join(CustomerAddress)
            .where(CustomerAddress.district == "浦东新区")
            .order_by(Customer.id)
        )
        if any(p.model.category.code in served for p in c.products)
    ]
    agent, outlet, engineer = (actor_for(users[name]) for name in ("agent", "outlet", "engineer"))
    steps = [
        [],
        [("phone_support", agent, {"solved": True})],
        [("phone_support", agent, {"solved": False})],
        [
            ("phone_support", agent, {"solved": False}),
            ("accept", outlet, {"accepted": True}),
            ("assign_engineer", outlet, {"engineer": "engineer"}),
        ],
        [
            ("phone_support", agent, {"solved": False}),
            ("accept", outlet, {"accepted": True}),
            ("assign_engineer", outlet, {"engineer": "engineer"}),
            ("check_in", engineer, {"checked_in_at": "2026-11-20T09:30"}),
            ("work_report", engineer, WORK_REPORT),
        ],
    ]
    if not customers:
        return
    for i in range(count):
        customer, path = customers[i % len(customers)], steps[i % len(steps)]
        product = next(p for p in customer.products if p.model.category.code in served)
        order = create_order(
            session,
            agent,
            {
                "type": "repair",
                "customer_id": customer.id,
                "serial": product.serial,
                "description": "空调不制冷，室外机不转" if path else "冰箱冷藏室结霜",
            },
        )
        for name, actor, data in path:
            execute(session, Complete(_task_of(session, order.number, name).id, data=data), actor)
        if i < 10 or i == count - 1:
            yield f"repair order {order.number}: {order.status}"


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


def _engineers(session: Session, users: dict) -> None:
    """The engineer rows of the demo's engineers (their outlet and skills)."""
    for username in ("engineer",):
        user = users[username]
        if session.scalar(sa.select(Engineer).where(Engineer.user_id == user.id)) is None:
            session.add(
                Engineer(
                    user_id=user.id,
                    outlet_id=user.org_unit_id,
                    skills=["AC", "FR", "WM"],
                    phone="13700000001",
                )
            )
    session.commit()


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


def _open_task(session: Session, instance_id: int, name: str) -> HumanTask:
    return session.scalar(
        sa.select(HumanTask).where(
            HumanTask.instance_id == instance_id,
            HumanTask.name == name,
            HumanTask.status == "open",
        )
    )
