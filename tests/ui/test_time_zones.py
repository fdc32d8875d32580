"""One time zone per user: every page shows a time in the user's zone (Asia/Shanghai unless the
user chose another on the profile page), exports name the zone, and the API answers in UTC."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from engine.models import HumanTask, ProcessInstance, User

from . import pages
from .board_world import Orders, build
from .pages import World, field_block, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

DUE = datetime(2030, 1, 15, 16, 30)  # naive UTC, as stored: past midnight in Shanghai
STAMP = "2030-01-15T16:30:00Z"


@pytest.fixture
def orders(world: World) -> Orders:
    return build(world)


def _check_in(world: World, orders: Orders) -> str:
    """The engineer's open check-in of order C, due at ``DUE``."""
    with world.session_factory() as session:
        task = session.scalar(
            sa.select(HumanTask).where(
                HumanTask.business_key == orders["C"],
                HumanTask.name == "check_in",
                HumanTask.status == "open",
            )
        )
        task.due_at = DUE
        session.commit()
        return task.id


def shown(page: str, stamp: str = STAMP) -> list[tuple[str, str]]:
    """(title, text) of every ``<time>`` of the instant ``stamp`` on the page."""
    pattern = rf'<time datetime="{re.escape(stamp)}" title="([^"]*)">([^<]*)</time>'
    return re.findall(pattern, page)


def _set_zone(world: World, username: str, zone: str | None) -> None:
    with world.session_factory() as session:
        session.scalar(sa.select(User).where(User.username == username)).time_zone = zone
        session.commit()


def test_a_due_time_reads_the_same_on_the_engineers_view_the_inbox_and_the_task(
    world: World, orders: Orders
) -> None:
    task_id = _check_in(world, orders)
    client = world.client("engineer")
    # 16:30 UTC is 00:30 the next day in Shanghai, wherever the engineer looks
    assert shown(text(client.get("/engineer"))) == [("中国（上海）时间 GMT+08:00", "01-16 00:30")]
    assert shown(text(client.get("/tasks"))) == [("中国（上海）时间 GMT+08:00", "2030-01-16 00:30")]
    [(_title, due)] = shown(text(client.get(f"/tasks/{task_id}")))
    assert due == "2030-01-16 00:30 (GMT+08:00)"  # the task page names the offset


def test_a_user_in_berlin_reads_berlin_time_everywhere(world: World, orders: Orders) -> None:
    task_id = _check_in(world, orders)
    client = world.client("engineer")
    response = post(client, "/profile/time-zone", {"time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    page = text(client.get("/profile"))
    assert "现在按 德国（柏林）时间 显示时间。" in flashes(page)
    assert '<option value="Europe/Berlin" selected>' in page
    assert world.user("engineer").time_zone == "Europe/Berlin"
    berlin = ("德国（柏林）时间 GMT+01:00", "01-15 17:30")  # winter: UTC+1
    assert shown(text(client.get("/engineer"))) == [berlin]
    assert shown(text(client.get("/tasks"))) == [(berlin[0], "2030-01-15 17:30")]
    assert shown(text(client.get(f"/tasks/{task_id}")))[0][1] == "2030-01-15 17:30 (GMT+01:00)"
    assert "德国（柏林）时间" in text(client.get("/tasks")).split("data-user-zone", 1)[1][:80]
    # someone else keeps the default: the manager on the order's page
    with world.session_factory() as session:
        instance_id = session.get(HumanTask, task_id).instance_id
    page = text(world.client("manager").get(f"/instances/{instance_id}"))
    assert shown(page) == [("中国（上海）时间 GMT+08:00", "2030-01-16 00:30")]


def test_summer_time_follows_the_zones_rules(world: World, orders: Orders) -> None:
    task_id = _check_in(world, orders)
    with world.session_factory() as session:
        session.get(HumanTask, task_id).due_at = datetime(2030, 7, 15, 16, 30)
        session.commit()
    _set_zone(world, "engineer", "Europe/Berlin")
    page = text(world.client("engineer").get("/tasks"))
    summer = ("德国（柏林）时间 GMT+02:00", "2030-07-15 18:30")
    assert shown(page, "2030-07-15T16:30:00Z") == [summer]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "US/Eastern", "asia/shanghai"])
def test_a_zone_not_offered_is_refused_on_the_profile_form(world: World, zone: str) -> None:
    client = world.client("agent")
    response = post(client, "/profile/time-zone", {"time_zone": zone})
    assert response.status_code == 422
    page = text(response)
    block = field_block(page, "time_zone")
    assert 'aria-invalid="true"' in block and "请从列表中选择一个时区。" in block
    assert '<option value="Asia/Shanghai" selected>' in block  # the zone still in force
    assert world.user("agent").time_zone is None  # nothing saved
    assert shown(text(client.get("/profile")), STAMP) == []  # and the page still renders


def test_the_profile_offers_iana_zones_labelled_in_the_users_language(world: World) -> None:
    client = world.client("agent")
    page = text(client.get("/profile"))
    assert "<h2>时区</h2>" in page
    shanghai = "Asia/Shanghai · 中国（上海）时间"
    assert f'<option value="Asia/Shanghai" selected>{shanghai}</option>' in page
    assert re.search(r'<option value="Europe/Berlin"\s*>Europe/Berlin · 德国（柏林）时间<', page)
    assert 'value="US/Eastern"' not in page  # legacy aliases are not offered
    post(client, "/locale", {"locale": "en", "next": "/profile"})
    page = text(client.get("/profile"))
    assert "<h2>Time zone</h2>" in page
    assert ">Europe/Berlin · Germany (Berlin) Time</option>" in page


def test_the_export_writes_local_times_and_names_the_zone(world: World) -> None:
    with world.session_factory() as session:
        instance = session.scalar(
            sa.select(ProcessInstance).where(ProcessInstance.business_key == "DEMO-0003")
        )
        instance.started_at = DUE
        session.commit()
    _set_zone(world, "manager", "Europe/Berlin")
    response = world.client("manager").get("/instances.xlsx?business_key=DEMO-0003")
    rows = list(load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][7:9] == ("发起时间（Europe/Berlin）", "结束时间（Europe/Berlin）")
    assert rows[1][7] == datetime(2030, 1, 15, 17, 30)
    _set_zone(world, "manager", None)
    response = world.client("manager").get("/instances.xlsx?business_key=DEMO-0003")
    rows = list(load_workbook(BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][7] == "发起时间（Asia/Shanghai）"
    assert rows[1][7] == datetime(2030, 1, 16, 0, 30)


def test_the_api_answers_in_utc_whatever_the_users_zone(world: World, orders: Orders) -> None:
    task_id = _check_in(world, orders)
    _set_zone(world, "engineer", "Europe/Berlin")
    client = world.client("engineer")
    created = text(post(client, "/profile/tokens", {"name": "api"}))
    token = re.search(r"data-new-token>([^<]+)<", created).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    answer = world.app.test_client().get(f"/api/v1/tasks/{task_id}", headers=headers).get_json()
    assert answer["due"] == STAMP
    definitions = world.app.test_client().get("/api/v1/process-definitions", headers=headers)
    stamps = [v["deployed_at"] for d in definitions.get_json()["items"] for v in d["versions"]]
    assert stamps and all(s.endswith("Z") for s in stamps)


def test_the_board_reads_dates_in_the_users_zone(world: World, orders: Orders) -> None:
    with world.session_factory() as session:
        session.execute(
            sa.update(User).where(User.username == "manager").values(time_zone="Pacific/Kiritimati")
        )
        session.execute(sa.text("UPDATE service_order SET created_at = :at"), {"at": DUE})
        session.commit()
    client = world.client("manager")
    # 16:30 UTC on the 15th is 06:30 on the 16th at UTC+14
    assert 'data-order="' in text(client.get("/board?from=2030-01-16&to=2030-01-16"))
    assert 'data-order="' not in text(client.get("/board?from=2030-01-15&to=2030-01-15"))
