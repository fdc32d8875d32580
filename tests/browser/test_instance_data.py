"""An operator edits a suspended instance's data in a real browser.

The data section of the instance page has a field per variable of its kind (webapp/ui/
data_editor.py): the manager changes a text, a number and a yes/no value and saves, and exactly
those change. In the JSON view the whole object is one text area: JSON that does not parse is
refused at that field with where it goes wrong, what was typed stays to be corrected, and
nothing changes until it is.

The module suspends a demo instance, so it runs against a server and database of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from engine.commands import SetVariables, Suspend, execute
from engine.db import make_engine, make_session_factory
from engine.identity import SYSTEM_ACTOR
from engine.models import ProcessInstance

from .conftest import LiveServer, serve
from .test_service_request_flow import log_in

DATA = {"note": "客户改约到周六上午", "visits": 3, "paid": True, "parts": ["滤网", "电容"]}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory, "live-server-instance-data", demo=True) as server:
        yield server


@pytest.fixture
def db(live_server: LiveServer) -> Iterator[Session]:
    engine = make_engine(live_server.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def reread(db: Session, instance_id: int) -> ProcessInstance:
    db.expire_all()
    return db.get(ProcessInstance, instance_id)


@pytest.fixture
def suspended(db: Session) -> ProcessInstance:
    """DEMO-0003 suspended, with data of every kind."""
    instance = db.scalar(
        sa.select(ProcessInstance).where(ProcessInstance.business_key == "DEMO-0003")
    )
    if instance.status != "suspended":
        execute(db, Suspend(instance.id), SYSTEM_ACTOR)
    execute(db, SetVariables(instance.id, DATA), SYSTEM_ACTOR)
    return reread(db, instance.id)


def test_a_manager_edits_typed_fields_and_only_those_change(
    page: Page, db: Session, suspended: ProcessInstance
) -> None:
    log_in(page, "manager")
    page.goto(f"/instances/{suspended.id}")
    editor = page.locator("form[data-edit-variables]")
    note = editor.get_by_label(re.compile("^note"))
    expect(note).to_have_value("客户改约到周六上午")  # the text itself, not JSON
    expect(editor.get_by_label(re.compile("^visits"))).to_have_value("3")
    expect(editor.get_by_label(re.compile("^paid"))).to_have_value("true")

    note.fill("客户说：周日也行")
    editor.get_by_label(re.compile("^visits")).fill("4")
    editor.get_by_label(re.compile("^paid")).select_option(label="否")
    editor.get_by_role("button", name="保存数据").click()
    expect(page.get_by_role("status")).to_have_text("已修改 note, paid, visits。")

    after = reread(db, suspended.id).variables
    assert (after["note"], after["visits"], after["paid"]) == ("客户说：周日也行", 4, False)
    assert after["parts"] == ["滤网", "电容"]
    expect(
        page.locator("form[data-edit-variables]").get_by_label(re.compile("^note"))
    ).to_have_value("客户说：周日也行")


def test_the_json_view_refuses_broken_json_at_its_field_and_keeps_it(
    page: Page, db: Session, suspended: ProcessInstance
) -> None:
    log_in(page, "manager")
    page.goto(f"/instances/{suspended.id}")
    page.get_by_role("link", name="JSON 视图").click()
    expect(page).to_have_url(re.compile(r"\?data=json#data$"))
    whole = page.get_by_label("全部变量（一个 JSON 对象）")
    shown = json.loads(whole.input_value())
    assert {k: shown[k] for k in DATA} == DATA

    broken = whole.input_value().replace('"visits": 3', '"visits": ')
    whole.fill(broken)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="保存数据").click()
    assert posted.value.status == 422
    row = page.locator("[data-field=variables]")
    expect(row.locator(".field-error")).to_contain_text("这不是有效的 JSON：请查看第")
    expect(page.get_by_label("全部变量（一个 JSON 对象）")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_label("全部变量（一个 JSON 对象）")).to_have_value(broken)
    assert reread(db, suspended.id).revision == suspended.revision  # nothing changed

    page.get_by_label("全部变量（一个 JSON 对象）").fill(
        broken.replace('"visits": ', '"visits": 7')
    )
    page.get_by_role("button", name="保存数据").click()
    expect(page.get_by_role("status")).to_have_text("已修改 visits。")
    assert reread(db, suspended.id).variables["visits"] == 7
