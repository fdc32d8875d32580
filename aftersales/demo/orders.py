"""The demo's service orders, driven through their real processes and stopped at every state.

Each order follows a journey: the steps its people take, in order. Who takes a step is who
would in the product: an agent for phone work and callbacks, the manager of the outlet the
order was dispatched to, the engineer assigned, the staff of that outlet's center. Every
step is an engine command, so the orders, tasks, history and boards are exactly what the
product would have made.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.customers.models import Customer
from aftersales.knowledge.models import KbArticle, KbCategory
from aftersales.orders.models import ServiceOrder
from aftersales.orders.service import create_order
from aftersales.outlets.models import Engineer, OutletProfile
from aftersales.products.models import InstalledProduct, Part
from engine.commands import Complete, execute
from engine.identity import Actor, actor_for
from engine.models import HumanTask, OrgUnit, ProcessInstance, User, clock_set_to, utcnow

SIGNATURE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
FIELD = ["phone_support", "accept", "assign_engineer", "check_in", "work_report"]
CLOSED_FIELD = [*FIELD, "review"]
DEPOT = ["phone_support:depot", "receive_unit", "depot_repair", "return_unit"]
INSTALL = ["accept", "assign_engineer", "check_in", "install_report"]

# (order type, steps, weight): where a share of the orders stops
JOURNEYS: list[tuple[str, list[str], int]] = [
    ("repair", [], 30),
    ("repair", ["phone_support:solved"], 250),
    ("repair", ["phone_support"], 60),
    ("repair", ["phone_support", "accept:refuse"], 20),
    ("repair", FIELD[:2], 40),
    ("repair", FIELD[:3], 50),
    ("repair", FIELD[:4], 60),
    ("repair", FIELD, 90),
    ("repair", [*FIELD, "review:return"], 40),
    ("repair", [*FIELD, "review:return", "rework", "review"], 30),
    ("repair", CLOSED_FIELD, 220),
    ("repair", [*CLOSED_FIELD, "callback"], 900),
    ("repair", [*CLOSED_FIELD, "callback:unhappy"], 40),
    ("repair", [*CLOSED_FIELD, "callback:unhappy", "follow_up"], 40),
    ("repair", DEPOT[:1], 25),
    ("repair", DEPOT[:2], 25),
    ("repair", [*DEPOT, "callback"], 60),
    ("installation", [], 40),
    ("installation", INSTALL[:2], 40),
    ("installation", INSTALL, 60),
    ("installation", [*INSTALL, "callback"], 300),
    ("consultation", [], 30),
    ("consultation", ["answer"], 250),
    ("consultation", ["answer:transfer"], 40),
    ("consultation", ["answer:transfer", "department_reply"], 30),
    ("consultation", ["answer:transfer", "department_reply", "call_back"], 75),
    ("praise", ["identify"], 160),
]

FAULTS = {
    "AC": [
        "空调不制冷，室外机不转",
        "空调开机几分钟后自动停机",
        "空调室内机漏水",
        "空调遥控器失灵",
    ],
    "FR": ["冰箱冷藏室结霜严重", "冰箱不制冷但灯亮", "冰箱噪音大", "冰箱门关不严"],
    "WM": ["洗衣机漏水", "洗衣机不排水", "洗衣机脱水时剧烈震动", "洗衣机显示 E3 故障"],
    "WH": ["热水器不加热", "热水器出水忽冷忽热", "热水器漏电保护跳闸", "热水器点不着火"],
    "TV": ["电视有声音没有图像", "电视开机黑屏", "电视遥控器无反应", "电视画面有竖线"],
    "RH": ["油烟机吸力变小", "油烟机噪音大", "油烟机漏油", "油烟机按键失灵"],
    "GS": ["燃气灶打不着火", "燃气灶火焰发黄", "燃气灶点火后熄火", "燃气灶旋钮松动"],
    "WP": ["净水器出水变慢", "净水器一直排废水", "净水器滤芯提示更换", "净水器漏水"],
}
QUESTIONS = [
    "空调滤网多久清洗一次？",
    "冰箱冷藏室温度设置多少合适？",
    "洗衣机筒自洁怎么用？",
    "热水器镁棒多久更换？",
    "净水器滤芯的更换周期是多久？",
    "油烟机油网怎样清洗？",
    "燃气灶可以改用天然气吗？",
    "延保服务怎么购买？",
]
PRAISE = [
    "工程师上门准时，维修专业，态度很好，特此表扬。",
    "师傅耐心讲解使用方法，还帮忙清理了现场，非常满意。",
    "网点响应很快，当天就修好了，感谢！",
]


@dataclass
class People:
    """Who works where: the actors each step is taken by."""

    agents: list[Actor]
    lead: Actor
    department: Actor
    units: dict[str, OrgUnit]  # by path
    managers: dict[str, Actor]  # by outlet code
    engineers: dict[str, list[Actor]]  # by outlet code
    center_staff: dict[str, Actor]  # by center code
    by_name: dict[str, Actor] = field(default_factory=dict)

    def unit_at(self, path: str) -> OrgUnit | None:
        return self.units.get(path)

    def center_of(self, path: str) -> Actor:
        unit = self.units[path]
        while unit.kind != "center" and unit.parent_id is not None:
            unit = next(u for u in self.units.values() if u.id == unit.parent_id)
        return self.center_staff[unit.code]


def people(session: Session) -> People:
    users = {u.username: u for u in session.scalars(sa.select(User).where(User.active))}
    actors = {name: actor_for(user) for name, user in users.items()}
    units = {u.path: u for u in session.scalars(sa.select(OrgUnit))}
    codes = {u.id: u.code for u in units.values()}
    found = People(
        agents=[a for a in actors.values() if a.roles == {"agent"}],
        lead=actors["lead"],
        department=actors["kb"],
        units=units,
        managers={},
        engineers={},
        center_staff={},
        by_name=actors,
    )
    for name in sorted(users):
        user, actor = users[name], actors[name]
        code = codes.get(user.org_unit_id)
        roles = set(user.roles or [])
        if "outlet_manager" in roles:
            found.managers.setdefault(code, actor)
        if "engineer" in roles:
            found.engineers.setdefault(code, []).append(actor)
        if "center_staff" in roles:
            found.center_staff.setdefault(code, actor)
    return found


class Journeys:
    """Drives orders along their journeys with seeded choices, so the demo repeats exactly."""

    def __init__(self, session: Session, crew: People, rng: random.Random) -> None:
        self.session, self.crew, self.rng = session, crew, rng
        self.articles: dict[str, list[int]] = {}  # by category name (空调, 冰箱, ...)
        for article_id, category in session.execute(
            sa.select(KbArticle.id, KbCategory.name)
            .outerjoin(KbCategory, KbCategory.id == KbArticle.category_id)
            .order_by(KbArticle.id)
        ):
            self.articles.setdefault(category or "", []).append(article_id)
        self.parts: dict[str, list[Part]] = {}
        for part in session.scalars(sa.select(Part).order_by(Part.id)):
            for model in part.models or []:
                self.parts.setdefault(model, []).append(part)

    def open(self, kind: str, customer: Customer) -> ServiceOrder:
        body: dict[str, Any] = {"type": kind, "customer_id": customer.id}
        product = self.rng.choice(customer.products) if customer.products else None
        if kind == "repair" and product is not None:
            body["serial"] = product.serial
            body["description"] = self.rng.choice(FAULTS[product.model.category.code])
        elif kind == "installation":
            model = product.model.code if product else "KFR-35GW"
            body["model"] = model
            body["description"] = f"新购 {model}，预约安装"
        elif kind == "consultation":
            body["description"] = self.rng.choice(QUESTIONS)
        else:
            body["description"] = self.rng.choice(PRAISE)
        return create_order(self.session, self.rng.choice(self.crew.agents), body)

    def take(self, order: ServiceOrder, step: str) -> None:
        name, _, variant = step.partition(":")
        task = self.session.scalar(
            sa.select(HumanTask).where(
                HumanTask.instance_id == order.process_instance_id,
                HumanTask.name == name,
                HumanTask.status == "open",
            )
        )
        if task is None:  # the order went another way (say, no outlet took it)
            raise LookupError(name)
        data = ANSWERS[name](self, order, task, variant)
        execute(self.session, Complete(task.id, data=data), self.actor_for(task))

    def actor_for(self, task: HumanTask) -> Actor:
        crew = self.crew
        groups = {g.strip() for g in (task.candidate_group or "").split(",")}
        if task.assignee:
            return crew.by_name[task.assignee]
        unit = crew.unit_at(task.org_path)
        if "outlet_managers" in groups and unit is not None:
            return crew.managers[unit.code]
        if groups & {"centers", "depots"} and unit is not None:
            return crew.center_of(task.org_path)
        if "team_leads" in groups:
            return crew.lead
        if "departments" in groups:
            return crew.department
        return self.rng.choice(crew.agents)

    def variables(self, order: ServiceOrder) -> dict[str, Any]:
        return self.session.scalar(
            sa.select(ProcessInstance.variables).where(
                ProcessInstance.id == order.process_instance_id
            )
        )

    def parts_for(self, order: ServiceOrder) -> list[dict[str, Any]]:
        model = order.product.model.code if order.product else ""
        fitting = self.parts.get(model, [])
        if not fitting or self.rng.random() < 0.3:
            return []
        part = self.rng.choice(fitting)
        return [{"code": part.code, "name": part.name, "qty": 1, "unit_price": float(part.price)}]

    def article(self, order: ServiceOrder) -> int | None:
        """An article of the order's product category, when the base has one."""
        category = order.product.model.category.name_zh if order.product else ""
        found = self.articles.get(category) or [a for ids in self.articles.values() for a in ids]
        return self.rng.choice(found) if found else None


def _phone_support(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    if variant == "solved":
        return {
            "solved": True,
            "kb_article_id": j.article(order),
            "support_notes": "按知识库指导解决",
        }
    return {"solved": False, "service_mode": "depot" if variant == "depot" else "field"}


def _accept(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    if variant == "refuse":
        return {"accepted": False, "refuse_reason": "工程师已满负荷，无法按时上门"}
    return {"accepted": True}


def _assign(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    unit = j.crew.unit_at(task.org_path)
    return {"engineer": j.rng.choice(j.crew.engineers[unit.code]).username}


def _check_in(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    data: dict[str, Any] = {"checked_in_at": _moment()}
    address = order.customer.addresses[0] if order.customer.addresses else None
    if address is not None and address.latitude is not None and j.rng.random() < 0.7:
        data["latitude"] = round(address.latitude + j.rng.uniform(-0.002, 0.002), 5)
        data["longitude"] = round(address.longitude + j.rng.uniform(-0.002, 0.002), 5)
    return data


def _work_report(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    fee = j.variables(order).get("visit_fee")
    return {
        "check_in_at": _moment(),
        "fault_class": j.rng.choice(["electrical", "mechanical", "refrigeration", "misuse"]),
        "solution": j.rng.choice(
            ["更换启动电容，试机正常", "清洗并更换滤网", "更换电脑板", "紧固管路接头"]
        ),
        "parts_used": j.parts_for(order),
        "visit_fee": fee if isinstance(fee, int | float) else 50,
        "customer_signature": SIGNATURE,
    }


def _review(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    if variant == "return":
        return {"approved": False, "review_comment": "缺少现场照片，请补充"}
    return {"approved": True}


def _callback(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    unhappy = variant == "unhappy"
    answers = {
        "VISITED": True,
        "ATTITUDE": j.rng.choice([1, 2]) if unhappy else j.rng.choice([4, 5, 5]),
        "ONTIME": not unhappy,
        "FIXED": not unhappy or j.rng.random() < 0.5,
        "REMARK": "等了很久，工程师态度一般" if unhappy else "",
    }
    if order.type == "installation":
        del answers["FIXED"]  # the installation survey does not ask it
    return answers


def _receive(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    return {"received_at": _moment(), "unit_condition": "外观完好", "accessories": "遥控器"}


def _depot_repair(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    return {
        "diagnosis": "主板电源模块损坏",
        "solution": "更换主板，老化测试 4 小时通过",
        "parts_used": [{"code": p["code"], "qty": p["qty"]} for p in j.parts_for(order)],
        "test_passed": True,
    }


def _return_unit(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    return {
        "returned_at": _moment(),
        "return_method": "courier",
        "tracking_number": f"SF{1_300_000_000 + order.id}",
    }


def _install_report(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    model = j.variables(order).get("product_model") or "KFR-35GW"
    return {
        "installed_serial": f"SNI{order.id:07d}",
        "installed_model": model,
        "install_date": (utcnow() + LOCAL_OFFSET).date().isoformat(),
        "install_notes": "安装完成，已试机并讲解使用方法",
        "customer_signature": SIGNATURE,
    }


def _answer(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    if variant == "transfer":
        return {"answered": False}
    return {"answered": True, "kb_article_id": j.article(order), "answer": "已按知识库答复客户"}


def _department_reply(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    return {"department_reply": "经质量部确认：可按说明书第 12 页操作，如仍有疑问可预约上门。"}


def _call_back(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    return {"customer_told": True, "callback_notes": "客户表示理解"}


def _identify(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    outlet = j.rng.choice(sorted(j.crew.engineers))
    return {
        "praised_outlet": outlet,
        "praised_engineer": j.rng.choice(j.crew.engineers[outlet]).username,
    }


def _follow_up(j: Journeys, order: ServiceOrder, task: HumanTask, variant: str) -> dict:
    return {}


def _moment() -> str:
    """The step's own time as the people (in China) write it: local, to the minute."""
    local = utcnow() + LOCAL_OFFSET
    return local.strftime("%Y-%m-%dT%H:%M")


ANSWERS: dict[str, Callable[[Journeys, ServiceOrder, HumanTask, str], dict]] = {
    "phone_support": _phone_support,
    "accept": _accept,
    "assign_engineer": _assign,
    "check_in": _check_in,
    "work_report": _work_report,
    "rework": _work_report,
    "review": _review,
    "callback": _callback,
    "follow_up": _follow_up,
    "receive_unit": _receive,
    "depot_repair": _depot_repair,
    "return_unit": _return_unit,
    "install_report": _install_report,
    "answer": _answer,
    "department_reply": _department_reply,
    "call_back": _call_back,
    "identify": _identify,
}


LOCAL_OFFSET = timedelta(hours=8)  # the demo's people work in China
HISTORY_DAYS = 60
# how long people take over each step, in minutes (shortest, longest)
STEP_MINUTES = {
    "phone_support": (3, 20),
    "accept": (5, 90),
    "assign_engineer": (5, 60),
    "check_in": (60, 1440),
    "work_report": (30, 180),
    "rework": (60, 720),
    "review": (30, 1440),
    "callback": (60, 2880),
    "follow_up": (60, 1440),
    "receive_unit": (1440, 4320),
    "depot_repair": (240, 2880),
    "return_unit": (60, 1440),
    "install_report": (60, 240),
    "answer": (2, 15),
    "department_reply": (120, 2880),
    "call_back": (30, 600),
    "identify": (2, 10),
}
FINAL_STEPS = {"callback", "follow_up", "phone_support:solved", "answer", "call_back", "identify"}


def timeline(steps: list[str], rng: random.Random) -> tuple[datetime, list[datetime]]:
    """When the order came in and when each step was taken: a finished journey ended some
    time in the last two months, one still open started within the last two days."""
    minutes = [rng.uniform(*STEP_MINUTES[step.partition(":")[0]]) for step in steps]
    finished = bool(steps) and steps[-1] in FINAL_STEPS
    idle = rng.uniform(30, HISTORY_DAYS * 1440) if finished else rng.uniform(10, 2 * 1440)
    start = utcnow() - timedelta(minutes=sum(minutes) + idle)
    moments, at = [], start
    for step_minutes in minutes:
        at += timedelta(minutes=step_minutes)
        moments.append(at)
    return start, moments


def engineers(session: Session) -> int:
    """The engineer record (outlet, skills, phone) of every engineer login that lacks one."""
    have = set(session.scalars(sa.select(Engineer.user_id)))
    skills = {p.org_unit_id: p.categories for p in session.scalars(sa.select(OutletProfile))}
    made = 0
    for user in session.scalars(sa.select(User).order_by(User.id)):
        if "engineer" not in (user.roles or []) or user.id in have:
            continue
        session.add(
            Engineer(
                user_id=user.id,
                outlet_id=user.org_unit_id,
                skills=list(skills.get(user.org_unit_id, [])),
                phone=f"137{user.id:08d}",
            )
        )
        made += 1
    session.flush()
    return made


def build(session: Session, count: int, seed: int) -> Iterator[str]:
    """``count`` orders spread over the journeys by weight; none when orders exist already."""
    if count <= 0 or session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)):
        return
    rng = random.Random(seed)
    journeys = Journeys(session, people(session), rng)
    # ids, not rows: a session holding every customer would expire them all on each commit
    customer_ids = list(
        session.scalars(
            sa.select(Customer.id)
            .where(Customer.id.in_(sa.select(InstalledProduct.customer_id)))
            .order_by(Customer.id)
        )
    )
    if not customer_ids:
        return
    weights = [w for _, _, w in JOURNEYS]
    stopped: dict[str, int] = {}
    for n in range(count):
        kind, steps, _ = rng.choices(JOURNEYS, weights)[0]
        start, moments = timeline(steps, rng)
        with clock_set_to(start):
            order = journeys.open(kind, session.get(Customer, rng.choice(customer_ids)))
        for step, moment in zip(steps, moments, strict=True):
            try:
                with clock_set_to(moment):
                    journeys.take(order, step)
            except LookupError:
                break
        stopped[order.status] = stopped.get(order.status, 0) + 1
        if (n + 1) % 500 == 0:
            yield f"orders: {n + 1} of {count}"
    yield "orders by status: " + ", ".join(f"{k} {v}" for k, v in sorted(stopped.items()))
