"""A repair order's whole journey in a real browser, as the five people who work it.

An agent takes the call on the incoming-call page (the softphone's pop-up), sees the caller
and their product (registering a caller the world does not know), opens a repair order and,
the fault not being fixed on the phone, sends it for a field visit. The Pudong outlet manager
accepts it and assigns the engineer; the engineer, on a phone, checks in (the phone's position
fills the coordinates) and writes the work report with a part and the customer's signature;
the East center approves the report; the agent calls the customer back and answers the survey,
which verifies the visit. Each person has a browser context (own cookies) and signs in on the
login page; the order page shows each of them where the order stands.

The UI is Chinese by default: elements are found by role, label and text as the user reads
them (labels from the form definitions and survey items, the rest from the zh catalog).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from aftersales.customers.models import Customer, CustomerAddress
from aftersales.orders.models import ServiceOrder
from aftersales.products.models import InstalledProduct, ProductCategory, ProductModel
from engine.models import HumanTask
from webapp.demo import DEMO_PASSWORD

from .test_service_request_flow import field, landing, log_in, open_list

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PHONE_VIEWPORT = {"width": 390, "height": 844}
# The phone's position when the engineer checks in: Zhangyang Road, Pudong.
PUDONG_SITE = {"latitude": 31.2286, "longitude": 121.5280}
SERVED = ("AC", "FR", "WM")  # what the Pudong outlet repairs among the demo's categories
NEW_CALLER = {
    "name": "林晓峰",
    "phone": "13962418807",
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "street": "张杨路 500 号 12 楼",
}
NEW_CALLER_MODEL = "KFR-35GW"  # a caller new to us has no registered product yet
FAULT = "空调开机后不制冷，室外机不转"


@dataclass(frozen=True)
class Caller:
    phone: str
    name: str
    serial: str | None  # their AC/FR/WM product, when the world has registered one
    known: bool  # already a customer (else the agent registers them)


def pudong_caller(db: sa.orm.Session) -> Caller:
    """A Pudong customer with an AC, fridge or washer and no open order, if the world has one;
    else the caller the agent registers."""
    busy = sa.select(ServiceOrder.customer_id).where(
        ServiceOrder.status.not_in(("closed", "cancelled"))
    )
    row = db.execute(
        sa.select(Customer, InstalledProduct.serial)
        .join(CustomerAddress, CustomerAddress.customer_id == Customer.id)
        .join(InstalledProduct, InstalledProduct.customer_id == Customer.id)
        .join(ProductModel, ProductModel.id == InstalledProduct.model_id)
        .join(ProductCategory, ProductCategory.id == ProductModel.category_id)
        .where(
            CustomerAddress.district == "浦东新区",
            ProductCategory.code.in_(SERVED),
            Customer.id.not_in(busy),
            Customer.phones.any(),
        )
        .order_by(Customer.id, InstalledProduct.id)
        .limit(1)
    ).first()
    if row is None:
        return Caller(NEW_CALLER["phone"], NEW_CALLER["name"], None, known=False)
    customer, serial = row
    return Caller(customer.phones[0].phone, customer.name, serial, known=True)


@pytest.fixture
def sign_in(browser: Browser, demo_server, request: pytest.FixtureRequest):  # noqa: ANN001, ANN201
    """``sign_in(username, **context_args)``: a page in a new browser context (own cookies)
    where that user signed in on the login page. A failed test leaves a screenshot and the
    HTML of every person's page in test-output/screenshots/<test>-<user>.png / .html."""
    opened: list[tuple[str, object, Page]] = []

    def open_as(username: str, **context_args: object) -> Page:
        args = {"viewport": {"width": 1280, "height": 800}, **context_args}
        context = browser.new_context(base_url=demo_server.url, **args)
        context.set_default_timeout(10_000)
        page = context.new_page()
        opened.append((username, context, page))
        if context_args.get("is_mobile"):
            log_in_on_phone(page, username)
        else:
            log_in(page, username)
        return page

    yield open_as
    report = getattr(request.node, "rep_call", None)
    for username, context, page in opened:
        if report is not None and report.failed:
            _save_failure(page, f"{request.node.name}-{username}")
        context.close()


def log_in_on_phone(page: Page, username: str) -> None:
    """The login of test_service_request_flow on a narrow screen, where the top bar's links
    and the sign-out button sit behind the menu button."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(landing(username))
    expect(page.get_by_role("button", name="退出登录")).to_be_hidden()
    page.get_by_role("button", name="菜单").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    page.get_by_role("button", name="菜单").click()
    expect(page.get_by_role("button", name="退出登录")).to_be_hidden()


def _save_failure(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "_", name)
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        (SCREENSHOTS / f"{name}.html").write_text(page.content())
    except Exception as exc:  # a screenshot must not hide the test's own failure
        print(f"could not save a screenshot of {name}: {exc}", file=sys.stderr)


def inbox_task(page: Page, number: str, title_start: str):  # noqa: ANN201
    """The link of the order's task whose title starts so, in the inbox list shown."""
    row = page.locator("table[data-tasks] tbody tr").filter(has_text=number)
    return row.get_by_role("link", name=re.compile("^" + re.escape(title_start)))


def open_my_task(page: Page, number: str, title_start: str) -> None:
    """Inbox → 我的任务 → the order's task, which came to the user with the step they did
    before it (no claim): its form is theirs to fill."""
    page.get_by_role("navigation").get_by_role("link", name="任务", exact=True).click()
    open_list(page, "我的任务")
    link = inbox_task(page, number, title_start)
    expect(link).to_have_count(1)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^" + title_start))
    expect(page.locator("form[data-task-form]")).to_be_visible()


def claim_from_inbox(page: Page, number: str, title_start: str) -> None:
    """Inbox → 待认领 → the order's task → 认领: its form is then the user's to fill."""
    page.get_by_role("navigation").get_by_role("link", name="任务", exact=True).click()
    open_list(page, "待认领")
    link = inbox_task(page, number, title_start)
    expect(link).to_have_count(1)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^" + title_start))
    expect(page.locator("form[data-task-form]")).to_have_count(0)
    page.get_by_role("button", name="认领", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("您已认领该任务。")
    expect(page.locator("form[data-task-form]")).to_be_visible()


def submit_task(page: Page) -> None:
    page.locator("form[data-task-form]").get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("任务已完成。")
    expect(page).to_have_url(re.compile(r"/tasks$"))


def choose(page: Page, name: str, option: str) -> None:
    """Tick one option of a radio field (yes/no, a score, a decision)."""
    field(page, name).get_by_label(option, exact=True).check()


def order_stands_at(page: Page, number: str, status: str) -> None:
    """The order page: its status badge and the step the progress bar marks as current."""
    page.goto(f"/orders/{number}")
    expect(page.locator("[data-order] [data-status]")).to_have_text(status)
    expect(page.locator("[data-steps] [aria-current=step]")).to_have_text(status)


def sign_on_pad(page: Page) -> None:
    """A signature drawn across the pad, whatever size the screen makes it."""
    canvas = page.locator("[data-field=customer_signature] canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()

    def at(fx: float, fy: float) -> tuple[float, float]:
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    page.mouse.move(*at(0.1, 0.7))
    page.mouse.down()
    for point in ((0.25, 0.25), (0.45, 0.75), (0.65, 0.3), (0.85, 0.6)):
        page.mouse.move(*at(*point), steps=8)
    page.mouse.up()


def test_repair_order_from_call_to_verified_callback(
    sign_in: Callable[..., Page],
    db: sa.orm.Session,
) -> None:
    caller = pudong_caller(db)

    # 1. the agent: the incoming call's pop-up, the caller and their product, a repair order
    agent = sign_in("agent")
    agent.goto(f"/calls/incoming?phone={caller.phone}")
    expect(agent.get_by_role("heading", level=1)).to_have_text(f"来电 {caller.phone}")
    if not caller.known:
        new = agent.locator("section[data-new-customer]")
        expect(new.get_by_role("heading", name="新客户")).to_be_visible()
        expect(new.get_by_label("电话")).to_have_value(caller.phone)
        for name, label in [
            ("name", "名称"),
            ("province", "省"),
            ("city", "市"),
            ("district", "区县"),
            ("street", "街道门牌"),
        ]:
            new.get_by_label(label, exact=True).fill(NEW_CALLER[name])
        new.get_by_role("button", name="新建客户").click()
        expect(agent.get_by_role("status")).to_have_text(f"已新建客户 {caller.name}。")
        expect(agent.get_by_role("heading", level=1)).to_have_text(f"来电 {caller.phone}")
    card = agent.locator("section[data-customer]").filter(
        has=agent.get_by_role("heading", name=caller.name, exact=True)
    )
    expect(card).to_have_count(1)
    expect(card.locator("[data-phones]")).to_contain_text(caller.phone)
    expect(card.locator("[data-addresses]")).to_contain_text("浦东新区")
    request_form = card.locator("[data-request-form]")
    request_form.get_by_label("类型", exact=True).select_option(label="维修单")
    if caller.serial:
        expect(card.locator(f"[data-products] tr[data-product='{caller.serial}']")).to_be_visible()
        product = request_form.get_by_label("产品", exact=True)
        product.select_option(value=caller.serial)
    else:
        expect(card.locator("[data-no-products]")).to_have_text("没有登记的产品。")
        request_form.get_by_label("或产品型号").fill(NEW_CALLER_MODEL)
    request_form.get_by_label("问题描述").fill(FAULT)
    request_form.get_by_role("button", name="创建工单").click()
    expect(agent).to_have_url(re.compile(r"/orders/R\d+$"))
    number = agent.url.rsplit("/", 1)[1]
    expect(agent.get_by_role("status")).to_have_text(f"已创建工单 {number}。")
    expect(agent.locator("[data-order] [data-status]")).to_have_text("已受理")
    expect(agent.locator("[data-description]")).to_have_text(FAULT)
    expect(agent.locator("[data-order-customer]")).to_contain_text(caller.name)
    expect(agent.locator("[data-order-product]")).to_contain_text(caller.serial or NEW_CALLER_MODEL)

    # … not solved on the phone: a field visit, dispatched to the Pudong outlet
    open_my_task(agent, number, f"电话支持：{caller.name}")  # the agent who opened the order
    choose(agent, "solved", "否")
    expect(field(agent, "service_mode").get_by_label("上门服务")).to_be_checked()
    agent.get_by_label("沟通记录").fill("指导客户清洗滤网并重启，仍不制冷，需上门检修")
    if not caller.serial:  # a product no one registered: the caller's receipt proves it
        choose(agent, "warranty_decision", "过保（收费）")
    submit_task(agent)
    expect(inbox_task(agent, number, "电话支持：")).to_have_count(0)
    order_stands_at(agent, number, "已派单")
    expect(agent.locator("[data-order-outlet]")).to_have_text("上海浦东网点")

    # 2. the Pudong outlet manager accepts the order and assigns the engineer
    outlet = sign_in("outlet")
    claim_from_inbox(outlet, number, f"接单：{number}")
    expect(outlet.locator("aside")).to_contain_text(FAULT)
    choose(outlet, "accepted", "是")
    submit_task(outlet)
    order_stands_at(outlet, number, "已接单")
    open_my_task(outlet, number, f"指派工程师：{number}")  # who accepted it assigns it
    outlet.get_by_label("工程师").fill("engineer")
    submit_task(outlet)
    order_stands_at(outlet, number, "已接单")
    expect(outlet.locator("[data-open-tasks]")).to_contain_text(f"上门：{caller.name}")

    # 3. the engineer, on a phone: check in (the position comes from the phone), then report
    engineer = sign_in(
        "engineer",
        viewport=PHONE_VIEWPORT,
        is_mobile=True,
        has_touch=True,
        geolocation=PUDONG_SITE,
        permissions=["geolocation"],
    )
    engineer.goto("/engineer")
    expect(engineer.get_by_role("heading", level=1)).to_have_text("我的工作")
    job = engineer.locator("[data-job][data-task-name=check_in]").filter(has_text=number)
    expect(job).to_have_count(1)
    expect(job.locator("[data-customer]")).to_have_text(caller.name)
    expect(job.locator("[data-phone]")).to_have_text(caller.phone)
    expect(job.locator("[data-address]")).to_contain_text("浦东新区")
    job.get_by_role("link", name="上门签到").click()
    expect(engineer.locator("form[data-task-form]")).to_be_visible()
    expect(engineer.get_by_label("纬度")).to_have_value("31.228600")
    expect(engineer.get_by_label("经度")).to_have_value("121.528000")
    checked_in = datetime.now().strftime("%Y-%m-%dT%H:%M")
    engineer.get_by_label("签到时间").fill(checked_in)
    submit_task(engineer)

    engineer.goto("/engineer")
    expect(engineer.locator("[data-job]").filter(has_text=number)).to_have_count(1)
    job = engineer.locator("[data-job][data-task-name=work_report]").filter(has_text=number)
    job.get_by_role("link", name="填写工单").click()
    report = engineer.locator("form[data-task-form]")
    expect(report).to_be_visible()
    expect(engineer.get_by_label("签到时间")).to_have_value(checked_in)  # from the check-in
    engineer.get_by_label("故障分类").select_option(label="制冷系统")
    engineer.get_by_label("处理措施").fill("更换压缩机启动电容，补充冷媒后制冷正常")
    part = engineer.locator("table[data-rows=parts_used] tbody tr").first
    part.locator("[name$='-code']").fill("CAP-35")  # a part of the catalogue
    part.locator("[name$='-name']").fill("启动电容")
    part.locator("[name$='-qty']").fill("1")
    part.locator("[name$='-unit_price']").fill("45")
    # the fee standard priced the visit from the check-in's distance to the outlet
    expect(engineer.get_by_label("上门费（元）")).not_to_have_value("")
    signature = engineer.locator("input[name=customer_signature]")
    expect(signature).to_have_value("")
    sign_on_pad(engineer)
    expect(signature).to_have_value(re.compile(r"^data:image/png;base64,"))
    submit_task(engineer)
    engineer.goto("/engineer")
    expect(engineer.locator("[data-job]").filter(has_text=number)).to_have_count(0)
    expect(engineer.locator("[data-count=done]")).not_to_have_text("0")
    order_stands_at(engineer, number, "审核中")

    # 4. the East center approves the report: the order closes
    center = sign_in("center")
    claim_from_inbox(center, number, f"审核工单：{number}")
    expect(field(center, "approved").get_by_role("radio")).to_have_count(2)
    field(center, "approved").get_by_label("通过").check()
    submit_task(center)
    order_stands_at(center, number, "已关闭")
    expect(center.locator("[data-verified]")).to_have_text("否")

    # 5. the agent calls the customer back: the survey confirms the visit
    claim_from_inbox(agent, number, f"回访：{caller.name} {number}")
    choose(agent, "VISITED", "是")
    choose(agent, "ATTITUDE", "5")
    choose(agent, "ONTIME", "是")
    choose(agent, "FIXED", "是")
    agent.get_by_label("您还有什么意见或建议？").fill("师傅很专业，谢谢")
    submit_task(agent)

    order_stands_at(agent, number, "已关闭")
    facts = agent.locator("[data-order-facts]")
    expect(facts.locator("[data-verified]")).to_have_text("是")
    expect(agent.locator("[data-open-tasks] li")).to_have_text(["无。"])
    timeline = agent.locator("[data-timeline] li")
    for who, step in [
        ("座席 王芳", "电话支持"),
        ("浦东网点 张伟", "网点接单"),
        ("浦东网点 张伟", "指派工程师"),
        ("工程师 赵磊", "上门签到"),
        ("工程师 赵磊", "填写工单"),
        ("华东中心 吴强", "中心审核"),
        ("座席 王芳", "回访"),
    ]:
        expect(timeline.filter(has_text=re.compile(rf"{who} · 完成 · {step}$"))).to_have_count(1)
    # the case record: every step's data by its form's labels, the engineer and the fees
    record = agent.locator("[data-case-record]")
    expect(record.locator("[data-case-step=work_report]")).to_contain_text("制冷系统")
    expect(agent.locator("[data-case-summary] [data-case-engineer]")).to_have_text("工程师 赵磊")
    expect(agent.locator("[data-case-summary] [data-fee=total]")).to_contain_text("¥")
    agent.screenshot(path=str(SCREENSHOTS / "case_record.png"), full_page=True)


def test_the_engineer_cannot_open_another_outlets_job(
    sign_in: Callable[..., Page],
    db: sa.orm.Session,
) -> None:
    # DEMO-0003's visit waits at the Guangzhou Tianhe outlet
    task = db.scalar(
        sa.select(HumanTask).where(
            HumanTask.business_key == "DEMO-0003", HumanTask.status == "open"
        )
    )
    engineer = sign_in("engineer", viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    engineer.goto("/engineer")
    expect(engineer.locator("[data-job]").filter(has_text="DEMO-0003")).to_have_count(0)
    for path in (f"/tasks/{task.id}", f"/instances/{task.instance_id}"):
        response = engineer.goto(path)
        assert response.status == 404, path
        expect(engineer.get_by_role("heading", level=1)).to_have_text("页面不存在")
        expect(engineer.get_by_role("button", name="认领")).to_have_count(0)
