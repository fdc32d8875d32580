"""Pickers instead of typed codes: the forms' outlet, part, article and user fields search
as one types (htmx, no inline script) and the completion refuses a value that names nothing
the user may pick with an error on that field (422), never an incident."""

from __future__ import annotations

import re

import sqlalchemy as sa

from aftersales.knowledge.models import KbArticle
from aftersales.outlets.service import unknown_outlets
from engine.models import Incident
from tests.security.scope_world import (
    actor,
    customer,
    deploy,
    dispatched_order,
    open_task,
    token,
    unit_of,
)

from . import pages
from .pages import World, field_block, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

LHASA = {
    "province": "西藏自治区",
    "city": "拉萨市",
    "district": "城关区",
    "street": "北京中路 1 号",
}


def offered(world: World, username: str, kind: str, **typed: str) -> list[str]:
    """The values a picker offers ``username`` for what was typed (the input's name=value)."""
    response = world.client(username).get(f"/pickers/{kind}", query_string=typed)
    assert response.status_code == 200
    return re.findall(r'<option value="([^"]*)"', response.get_data(as_text=True))


def unplaced_order(world: World) -> str:
    """A repair in a district no outlet serves: dispatch leaves it to an agent by hand."""
    deploy(world)
    number = dispatched_order(world, customer(world, "扎西", "13800138077", LHASA))
    assert open_task(world, number, "manual_dispatch").assignee == "agent"  # who took the call
    return number


def test_manual_dispatch_shows_an_outlet_picker(world: World) -> None:
    task = open_task(world, unplaced_order(world), "manual_dispatch")
    row = field_block(text(world.client("agent").get(f"/tasks/{task.id}")), "chosen_outlet")
    assert 'data-picker="outlet"' in row and 'hx-get="/pickers/outlet"' in row
    assert 'list="f-chosen_outlet-options"' in row and 'id="f-chosen_outlet-options"' in row
    assert "onkeyup" not in row and "<script" not in row


def test_a_mistyped_outlet_is_a_field_error_and_the_task_stays_open(world: World) -> None:
    number = unplaced_order(world)
    task = open_task(world, number, "manual_dispatch")
    client = world.client("agent")
    response = post(client, f"/tasks/{task.id}/complete", {"chosen_outlet": "O-SH-XX"})
    assert response.status_code == 422
    row = field_block(text(response), "chosen_outlet")
    assert "没有这个网点，请从列表中选择" in row and 'value="O-SH-XX"' in row
    assert open_task(world, number, "manual_dispatch").id == task.id
    with world.session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Incident)) == 0

    response = post(client, f"/tasks/{task.id}/complete", {"chosen_outlet": "O-SH-PD"})
    assert response.status_code == 302
    assert unit_of(world, number) == "O-SH-PD"
    assert open_task(world, number, "accept")


def test_the_api_names_the_field_of_an_unknown_outlet(world: World) -> None:
    task = open_task(world, unplaced_order(world), "manual_dispatch")
    response = world.app.test_client().post(
        f"/api/v1/tasks/{task.id}/complete",
        json={"data": {"chosen_outlet": "NOPE"}},
        headers=token(world, "agent"),
    )
    assert response.status_code == 422
    assert list(response.get_json()["details"]["fields"]) == ["chosen_outlet"]


def test_the_outlet_picker_offers_the_outlets_the_user_sees(world: World) -> None:
    assert offered(world, "outlet", "outlet", chosen_outlet="O-") == ["O-SH-PD"]
    centers = offered(world, "center", "outlet", chosen_outlet="O-")
    assert "O-SH-PD" in centers and "O-GZ-TH" not in centers
    everywhere = offered(world, "agent", "outlet", chosen_outlet="O-")
    assert {"O-SH-PD", "O-GZ-TH"} <= set(everywhere)
    assert offered(world, "agent", "outlet", chosen_outlet="天河") == ["O-GZ-TH"]
    assert offered(world, "agent", "outlet", chosen_outlet="%") == []


def test_an_outlet_out_of_the_users_scope_is_refused_like_an_unknown_one(world: World) -> None:
    # the check every outlet field meets, asked as the Pudong outlet's manager
    with world.session_factory() as session:
        found = unknown_outlets(session, actor(world, "outlet"), ["O-SH-PD", "O-GZ-TH", "NOPE"])
    assert found == {"O-GZ-TH", "NOPE"}


def test_the_part_picker_searches_the_catalogue_by_code_and_name_in_a_table_row(
    world: World,
) -> None:
    assert offered(world, "engineer", "part", **{"parts_used-3-code": "cap"}) == ["CAP-35"]
    assert offered(world, "engineer", "part", **{"parts_used-0-code": "电容"}) == ["CAP-35"]
    assert offered(world, "engineer", "part", **{"parts_used-0-code": "ZZZ"}) == []


def test_the_article_picker_offers_active_articles_by_title_or_number(world: World) -> None:
    with world.session_factory() as session:
        live = KbArticle(title="空调不制冷的排查", body="先看遥控器模式", active=True)
        gone = KbArticle(title="空调不制冷（旧版）", body="已过时", active=False)
        session.add_all([live, gone])
        session.commit()
        live_id, gone_id = live.id, gone.id
    assert offered(world, "agent", "kb_article", kb_article_id="空调不制冷") == [str(live_id)]
    assert offered(world, "agent", "kb_article", kb_article_id=str(live_id)) == [str(live_id)]
    assert offered(world, "agent", "kb_article", kb_article_id=str(gone_id)) == []


def test_an_unknown_picker_is_not_found(world: World) -> None:
    assert world.client("agent").get("/pickers/address?q=x").status_code == 404
