"""The demo service request end to end in a real browser, as its users work it.

An agent records a call that needs a visit and dispatches it to the Pudong outlet; the outlet
manager claims the visit, is told what is wrong with a bad work report, then completes it with
a parts row and a signature drawn with the mouse; the inbox follows in both languages. Another
outlet (Guangzhou Tianhe) never sees the task.

The UI is Chinese by default: elements are found by role, label and text as the user reads
them (labels, options and validation messages come from the form definitions, the rest from the
zh catalog), scoped by the page's ``data-*`` hooks where a name repeats.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from engine.models import HumanTask, ProcessInstance
from webapp.demo import DEMO_PASSWORD

PROCESS_NAME = "服务请求（演示）"
VISIT_PREFIX = "上门服务："


# where each demo user lands after signing in (webapp/ui/auth_views.py LANDINGS)
LANDINGS = {
    "agent": "/calls/incoming",
    "agent2": "/calls/incoming",
    "lead": "/calls/incoming",
    "engineer": "/engineer",
    "manager": "/definitions",
}


def landing(username: str) -> re.Pattern[str]:
    return re.compile(re.escape(LANDINGS.get(username, "/tasks")) + "$")


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(landing(username))
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("button", name="退出登录")).to_have_count(0)


def start_service_request(page: Page, customer: str, outlet: str) -> str:
    """As the signed-in agent: Start → the demo process → fill and submit its start form.

    Returns the path of the visit task, read from the order page the form leads to. The
    page's own "所属单位" stays at "本单位": the form's "派往网点" alone moves the order.
    """
    page.get_by_role("navigation").get_by_role("link", name="发起", exact=True).click()
    expect(page).to_have_url(re.compile(r"/processes$"))
    page.get_by_role("link", name=PROCESS_NAME, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROCESS_NAME)

    page.get_by_label("客户姓名").fill(customer)
    page.get_by_label("手机号码").fill("13912345678")
    page.get_by_label("地址").fill("上海市浦东新区张杨路 500 号 12 楼")
    page.get_by_label("产品型号").fill("KFR-35GW")
    page.get_by_label("故障描述").fill("空调开机后不制冷，室外机不转")
    page.get_by_label("紧急", exact=True).check()
    page.get_by_label("需要上门服务").check()
    page.get_by_label("派往网点").select_option(label=outlet)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="发起", exact=True).click()
    if posted.value.status != 302:
        expect(page.get_by_role("alert")).to_be_visible()  # the page with the errors
        errors = page.locator("[data-field]:has(.field-error)").all_inner_texts()
        raise AssertionError(f"the start form was refused ({posted.value.status}): {errors}")
    expect(page).to_have_url(re.compile(r"/instances/\d+$"))
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^已发起 #\d+。$"))
    visit = page.get_by_role("link", name=VISIT_PREFIX + customer, exact=True)
    expect(visit).to_be_visible()
    return visit.get_attribute("href")


LISTS = ("我的任务", "待认领", "我已完成")  # the inbox's lists, in their order


def list_link(page: Page, name: str):  # noqa: ANN201
    """The inbox's link to one of its lists (its name is followed by a count)."""
    return page.get_by_role("navigation", name="任务列表").get_by_role(
        "link", name=re.compile("^" + re.escape(name))
    )


def open_list(page: Page, name: str) -> None:
    """One of the inbox's lists by its Chinese name: 我的任务, 待认领 or 我已完成."""
    list_link(page, name).click()
    expect(list_link(page, name)).to_have_attribute("aria-current", "page")


def task_link(page: Page, title: str):  # noqa: ANN201
    return page.locator("table[data-tasks]").get_by_role("link", name=title, exact=True)


def field(page: Page, name: str):  # noqa: ANN201
    """The row of one form field: its label, input, help and errors."""
    return page.locator(f"form[data-task-form] [data-field={name}]")


def draw_signature(page: Page) -> None:
    canvas = page.locator("[data-field=customer_signature] canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + 100)
    page.mouse.down()
    page.mouse.move(x + 90, y + 40, steps=8)
    page.mouse.move(x + 160, y + 110, steps=8)
    page.mouse.move(x + 240, y + 50, steps=8)
    page.mouse.up()


def test_service_request_from_call_to_work_report(page: Page, db, demo_server) -> None:  # noqa: ANN001
    customer = "钱多多"
    title = VISIT_PREFIX + customer

    # 1. the agent records the call and dispatches it to the Pudong outlet
    log_in(page, "agent")
    task_path = start_service_request(page, customer, "上海浦东网点")
    log_out(page)

    # 2. the Pudong outlet manager finds it among the tasks to claim, opens it and claims it
    log_in(page, "outlet")
    open_list(page, "待认领")
    task_link(page, title).click()
    expect(page).to_have_url(re.compile(re.escape(task_path) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("form[data-task-form]")).to_have_count(0)
    page.get_by_role("button", name="认领", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("您已认领该任务。")
    expect(page.get_by_role("button", name="认领", exact=True)).to_have_count(0)
    report = page.locator("form[data-task-form]")
    expect(report).to_be_visible()

    # 3. an incomplete report with a fee that is no number: errors next to those fields
    field(page, "visit_fee").get_by_label("上门费（元）").fill("abc")
    report.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("请修改标出的字段。")
    expect(field(page, "solution").locator(".field-error")).to_have_text("此项为必填")
    expect(field(page, "solution")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(field(page, "visit_fee").locator(".field-error")).to_have_text("请输入数字")
    expect(page.get_by_label("上门费（元）")).to_have_value("abc")
    expect(page.get_by_label("上门费（元）")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "customer_signature").locator(".field-error")).to_have_text("此项为必填")
    expect(field(page, "parts_used").locator(".field-error")).to_have_count(0)
    task = db.scalar(sa.select(HumanTask).where(HumanTask.title == title))
    assert (task.status, task.assignee) == ("open", "outlet")
    assert page.url.endswith(task_path + "/complete")

    # 4. the corrected report: check-in, fault class, solution, parts, fee, signature
    page.get_by_label("签到时间").fill("2026-11-20T10:30")
    page.get_by_label("故障分类").select_option(label="制冷系统")
    page.get_by_label("处理措施").fill("补充冷媒，更换压缩机启动电容")
    parts = page.locator("table[data-rows=parts_used] tbody tr")
    expect(parts).to_have_count(1)
    parts.nth(0).locator("[name$='-code']").fill("CAP-35")
    parts.nth(0).locator("[name$='-name']").fill("启动电容")
    parts.nth(0).locator("[name$='-qty']").fill("1")
    parts.nth(0).locator("[name$='-unit_price']").fill("45")
    page.get_by_role("button", name="添加一行").click()
    expect(parts).to_have_count(2)
    expect(parts.nth(1).locator("[name$='-code']")).to_have_value("")
    # the part picker of the added row searches the catalogue as one types
    added = parts.nth(1).locator("[name$='-code']")
    added.press_sequentially("R32")
    offered = parts.nth(1).locator("datalist option")
    expect(offered).to_have_count(1)
    expect(offered).to_have_attribute("value", "R32-1KG")
    added.fill("R32-1KG")
    parts.nth(1).locator("[name$='-qty']").fill("2")
    page.get_by_label("上门费（元）").fill("50")
    signature = page.locator("input[name=customer_signature]")
    expect(signature).to_have_value("")
    draw_signature(page)
    expect(signature).to_have_value(re.compile(r"^data:image/png;base64,"))
    report.get_by_role("button", name="提交", exact=True).click()

    expect(page).to_have_url(re.compile(r"/tasks$"))
    expect(page.get_by_role("status")).to_have_text("任务已完成。")
    expect(list_link(page, "我的任务")).to_have_attribute("aria-current", "page")
    expect(page.locator("table[data-tasks]")).to_be_visible()
    expect(task_link(page, title)).to_have_count(0)
    db.expire_all()
    task = db.scalar(sa.select(HumanTask).where(HumanTask.title == title))
    assert (task.status, task.completed_by) == ("completed", "outlet")
    variables = db.get(ProcessInstance, task.instance_id).variables
    assert variables["fault_class"] == "refrigeration"
    assert variables["visit_fee"] == 50
    assert variables["parts_used"] == [
        {"code": "CAP-35", "name": "启动电容", "qty": 1, "unit_price": 45},
        {"code": "R32-1KG", "qty": 2},
    ]
    assert variables["customer_signature"].startswith("data:image/png;base64,")
    open_list(page, "我已完成")
    expect(task_link(page, title)).to_be_visible()

    # 5. the inbox in English and back
    open_list(page, "我的任务")
    lists = page.locator("a[data-list]")
    expect(lists).to_have_text([re.compile(rf"^\s*{name}\s+\d+\s*$") for name in LISTS])
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/tasks\?list=mine$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
    english = ["My tasks", "To claim", "Completed by me"]
    expect(lists).to_have_text([re.compile(rf"^\s*{name}\s+\d+\s*$") for name in english])
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_url(re.compile(r"/tasks\?list=mine$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("任务")
    expect(lists).to_have_text([re.compile(rf"^\s*{name}\s+\d+\s*$") for name in LISTS])


def test_another_outlet_does_not_see_the_visit(page: Page, demo_server) -> None:  # noqa: ANN001
    customer = "孙悟空"
    log_in(page, "agent")
    task_path = start_service_request(page, customer, "上海浦东网点")
    log_out(page)

    log_in(page, "outlet2")
    open_list(page, "待认领")
    # its own demo visit (DEMO-0003, dispatched to Tianhe) is there; Pudong's new one is not
    expect(task_link(page, VISIT_PREFIX + "赵敏")).to_be_visible()
    expect(task_link(page, VISIT_PREFIX + customer)).to_have_count(0)
    response = page.goto(task_path)
    assert response.status == 404


def test_the_dispatch_outlet_alone_starts_the_visit(page: Page, demo_server) -> None:  # noqa: ANN001
    log_in(page, "agent")
    start_service_request(page, "周八", "上海浦东网点")
