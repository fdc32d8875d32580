"""A team lead imports customers from a file in a real browser: the upload leads to the
import's page, which shows its progress while a worker carries it out in the background and
then the result, without a reload.

The module adds customers, so it runs against a server and database of its own. The worker
here is the test itself calling ``advance_imports`` on the server's database, as a Celery
worker or the embedded thread would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from aftersales.customers.imports import advance_imports
from aftersales.customers.models import Customer
from engine.db import make_engine, make_session_factory

from .conftest import LiveServer, serve
from .test_service_request_flow import log_in

CSV = (
    "会员编号,姓名,电话,省,市,区县,详细地址,序列号,型号,购买日期\n"
    "IMP-1,导入客户甲,13511110001,上海市,上海市,浦东新区,张杨路 1 号,SN-BR-1,KFR-35GW,2024-03-01\n"
    "IMP-2,导入客户乙,13511110002；02164880002,浙江省,杭州市,西湖区,,SN-BR-2,KFR-26GW,2023-07-15\n"
    "IMP-3,导入客户丙,13511110003,,,,,,,\n"
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory, "live-server-customer-import", demo=True) as server:
        yield server


def test_an_uploaded_file_shows_its_progress_and_then_the_result(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, "lead")
    page.goto("/calls/incoming")
    page.get_by_role("link", name="导入客户").click()
    expect(page).to_have_url(re.compile(r"/customers/imports$"))
    page.get_by_label("文件（.csv 或 .xlsx）").set_input_files(
        {"name": "老系统客户.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page).to_have_url(re.compile(r"/customers/imports/\d+$"))
    progress = page.locator("[data-import-progress]")
    expect(progress).to_have_attribute("data-import-status", "waiting")
    expect(progress.locator("progress")).to_be_visible()
    expect(progress.get_by_role("heading")).to_have_text("等待中")

    engine = make_engine(live_server.database_url)
    try:
        assert advance_imports(make_session_factory(engine)) == 1  # the background worker
        # the page polls its progress block and shows the result by itself
        expect(progress).to_have_attribute("data-import-status", "completed", timeout=10_000)
        expect(page.locator("[data-import-result]")).to_have_text("已导入 3 个客户和 2 件产品。")
        expect(progress.locator("progress")).to_have_attribute("value", "100")
        with make_session_factory(engine)() as session:
            names = session.scalars(
                sa.select(Customer.name).where(Customer.member_no.like("IMP-%"))
            ).all()
            assert sorted(names) == ["导入客户丙", "导入客户乙", "导入客户甲"]
    finally:
        engine.dispose()
    page.goto("/customers/imports")
    expect(page.locator("[data-imports]")).to_contain_text("老系统客户.csv")
    expect(page.locator("[data-imports]")).to_contain_text("已导入")
