"""A designer adds a service type in the browser; an agent opens it from the caller page at
once, the responsible department answers it, the agent calls back, and the order page shows
every step with what it recorded."""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from aftersales.customers.service import create_customer
from engine.models import HumanTask

from .test_repair_journey import SCREENSHOTS, order_stands_at, sign_in  # noqa: F401  (fixture)
from .test_service_request_flow import field

STATUSES = [
    ("received", "已受理", "Received", False),
    ("transferred", "已转责任部门", "With the department", False),
    ("closed", "已关闭", "Closed", True),
]
REPLY = "该型号支持 WiFi 远程控制，请在应用商店下载官方 App 配网。"


def open_task(page: Page, db: sa.orm.Session, number: str, name: str) -> None:
    """The order's open task of that step, claimed if it still waits in its group."""
    db.expire_all()
    task_id = db.scalar(
        sa.select(HumanTask.id).where(
            HumanTask.business_key == number, HumanTask.name == name, HumanTask.status == "open"
        )
    )
    assert task_id, f"no open {name} task"
    page.goto(f"/tasks/{task_id}")
    claim = page.get_by_role("button", name="认领", exact=True)
    if claim.count():
        claim.click()
        expect(page.get_by_role("status")).to_have_text("您已认领该任务。")
    expect(page.locator("form[data-task-form]")).to_be_visible()


def submit(page: Page) -> None:
    page.locator("form[data-task-form]").get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("任务已完成。")


def test_a_type_designed_in_the_browser_is_opened_worked_and_recorded(
    sign_in: Callable[..., Page],  # noqa: F811
    db: sa.orm.Session,
) -> None:
    # the designer: a new type on the consultation process, numbered PQ
    designer = sign_in("designer")
    designer.goto("/admin/service-types")
    designer.get_by_role("link", name="新建单据类型").click()
    form = designer.locator("form[data-service-type-form]")
    form.locator("[data-field=key]").get_by_label("标识").fill("product_question")
    form.locator("[data-field=name]").get_by_label("名称（中文）").fill("产品咨询单")
    form.locator("[data-field=name_en]").get_by_label("名称（英文）").fill("Product question")
    form.get_by_label("单号前缀").fill("PQ")
    form.get_by_label("流程", exact=True).select_option("consultation")
    form.get_by_label("座席", exact=True).check()
    for i, (key, zh, en, final) in enumerate(STATUSES):
        row = form.locator(f"[data-status-row='{i}']")
        row.get_by_label("标识").fill(key)
        row.get_by_label("名称（中文）").fill(zh)
        row.get_by_label("名称（英文）").fill(en)
        if final:
            row.get_by_label("终态").check()
    form.get_by_role("button", name="另存为新版本").click()
    expect(designer.get_by_role("status")).to_have_text("已保存为第 1 版。")
    expect(designer).to_have_url(re.compile(r"/admin/service-types/product_question$"))
    designer.screenshot(path=str(SCREENSHOTS / "service_type_designer.png"), full_page=True)

    # the agent: the new type is on the caller page, with nothing restarted
    phone = "13700001234"
    customer = create_customer(
        db,
        name="周敏",
        phone=phone,
        address={
            "province": "上海市",
            "city": "上海市",
            "district": "浦东新区",
            "street": "锦绣路 8 号",
        },
    )
    db.commit()
    agent = sign_in("agent")
    agent.goto(f"/calls/incoming?phone={phone}")
    card = agent.locator("section[data-customer]").filter(
        has=agent.get_by_role("heading", name=customer.name, exact=True)
    )
    request_form = card.locator("[data-request-form]")
    request_form.get_by_label("类型", exact=True).select_option(label="产品咨询单")
    expect(request_form.locator("[data-start-form=product_question]")).to_be_visible()
    expect(request_form.locator("[data-start-form=repair]")).to_be_hidden()
    request_form.get_by_label("问题描述").fill("这款空调能用手机控制吗？")
    request_form.get_by_role("button", name="创建工单").click()
    expect(agent).to_have_url(re.compile(r"/orders/PQ\d+$"))
    number = agent.url.rsplit("/", 1)[1]
    expect(agent.locator("[data-order] [data-status]")).to_have_text("已受理")

    # not answerable on the phone: the responsible department answers
    open_task(agent, db, number, "answer")
    field(agent, "answered").get_by_label("否", exact=True).check()
    submit(agent)
    order_stands_at(agent, number, "已转责任部门")
    department = sign_in("kb")
    open_task(department, db, number, "department_reply")
    expect(department.locator("[data-task-case]")).to_contain_text("产品咨询单")
    department.get_by_label("答复内容").fill(REPLY)
    submit(department)

    # the agent calls the customer back with the department's answer, shown beside the form
    open_task(agent, db, number, "call_back")
    expect(agent.locator("[data-task-case] [data-case-step=department_reply]")).to_contain_text(
        REPLY
    )
    field(agent, "customer_told").get_by_label("已将答复告知客户").check()
    submit(agent)

    order_stands_at(agent, number, "已关闭")
    record = agent.locator("[data-case-record]")
    expect(record.locator("[data-case-step]")).to_have_count(3)
    expect(record.locator("[data-case-step=department_reply]")).to_contain_text(REPLY)
    expect(record.locator("[data-case-step=department_reply]")).to_contain_text("质量部 钱红")
    agent.screenshot(path=str(SCREENSHOTS / "service_type_case.png"), full_page=True)
