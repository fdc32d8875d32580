"""The import pages: a team lead uploads a file, watches its progress and reads the result —
the counts when every row was stored, the problems by row and column when none was."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from aftersales.customers.imports import advance_imports
from aftersales.customers.models import Customer

from . import pages
from .pages import World, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

HEADER = "姓名,电话,省,市,区县,序列号,型号,购买日期\n"
GOOD = HEADER + "周杰,13512340001,上海市,上海市,浦东新区,SN-UI-1,KFR-35GW,2024-02-02\n"


def _upload(client, content: str, name: str = "客户.csv"):  # noqa: ANN001, ANN202
    return post(
        client,
        "/customers/imports",
        {"file": (io.BytesIO(content.encode()), name)},
        content_type="multipart/form-data",
    )


def _customers(world: World, name: str) -> int:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(sa.func.count()).select_from(Customer).where(Customer.name == name)
        )


def test_a_team_lead_imports_a_file_and_sees_its_progress_and_result(world: World):
    client = world.client("lead")
    assert "data-import-link" in text(client.get("/calls/incoming"))
    response = _upload(client, GOOD)
    assert response.status_code == 303
    page_url = response.headers["Location"]
    assert re.fullmatch(r"/customers/imports/\d+", page_url)
    page = text(client.get(page_url))
    assert 'data-import-status="waiting"' in page and "等待中" in page
    assert "<progress" in page and 'hx-trigger="every 2s"' in page  # polls until finished
    assert advance_imports(world.session_factory) == 1  # the background worker
    block = text(client.get(page_url, headers={"HX-Request": "true"}))
    assert 'data-import-status="completed"' in block and "hx-trigger" not in block
    assert "已导入 1 个客户和 1 件产品。" in block and 'data-import-percent="100"' in block
    assert _customers(world, "周杰") == 1
    listing = text(client.get("/customers/imports"))
    assert "客户.csv" in listing and "已导入" in listing


def test_a_bad_row_is_listed_by_row_and_column_and_nothing_is_stored(world: World):
    client = world.client("admin")
    bad = GOOD + "<b>吴</b>,12,上海市,上海市,浦东新区,,,\n"
    page_url = _upload(client, bad).headers["Location"]
    advance_imports(world.session_factory)
    page = text(client.get(page_url))
    assert 'data-import-status="refused"' in page and "已拒绝：未保存任何数据" in page
    row = page[page.index('data-error-row="3"') :]
    assert "电话" in row[: row.index("</tr>")] and "位数太少" in row[: row.index("</tr>")]
    assert _customers(world, "周杰") == 0  # the good row is not stored either


def test_only_team_leads_and_administrators_import(world: World):
    agent = world.client("agent")
    assert agent.get("/customers/imports").status_code == 403
    assert _upload(agent, GOOD).status_code == 403
    assert "data-import-link" not in text(agent.get("/calls/incoming"))


def test_a_file_that_is_no_table_is_refused_at_once(world: World):
    client = world.client("lead")
    response = _upload(client, "hello", name="notes.txt")
    assert response.status_code == 422
    assert "请选择不超过 64 MB 的 .csv 或 .xlsx 文件。" in flashes(text(response))
