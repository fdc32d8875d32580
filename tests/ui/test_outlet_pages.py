"""The outlets' records: each outlet's profile, engineers, workload, callback scores and the
praise customers gave it, and the list of outlets; only outlets in the viewer's scope."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from aftersales.customers.service import create_customer
from aftersales.orders.models import ServiceOrder
from aftersales.orders.service import create_order
from aftersales.outlets.models import Engineer, OutletProfile
from engine.models import OrgUnit, ProcessInstance, User, utcnow

from . import pages
from .board_world import Orders, actor_for_user, build, complete
from .pages import World, counts, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


@pytest.fixture
def orders(world: World) -> Orders:
    return build(world)


def unit(world: World, code: str) -> OrgUnit:
    with world.session_factory() as session:
        found = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))
        session.expunge(found)
        return found


def set_profile(world: World, code: str, **values: object) -> None:
    with world.session_factory() as session:
        outlet_id = session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))
        profile = session.get(OutletProfile, outlet_id) or OutletProfile(org_unit_id=outlet_id)
        for name, value in values.items():
            setattr(profile, name, value)
        session.add(profile)
        session.commit()


def set_engineer(world: World, username: str, **values: object) -> None:
    """The engineer record of ``username`` (its outlet is the user's unit)."""
    with world.session_factory() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        engineer = session.scalar(sa.select(Engineer).where(Engineer.user_id == user.id))
        engineer = engineer or Engineer(user_id=user.id, outlet_id=user.org_unit_id)
        for name, value in values.items():
            setattr(engineer, name, value)
        session.add(engineer)
        session.commit()


def outlet_codes(world: World, center: str | None = None) -> list[str]:
    """The codes of every outlet, or of those of one center."""
    with world.session_factory() as session:
        query = sa.select(OrgUnit.code).where(OrgUnit.kind == "outlet")
        if center:
            parent = sa.select(OrgUnit.id).where(OrgUnit.code == center).scalar_subquery()
            query = query.where(OrgUnit.parent_id == parent)
        return sorted(session.scalars(query))


def praise(world: World, words: str, *, outlet: str, engineer: str | None = None) -> str:
    """A praise order taken by an agent and recorded through the praise process."""
    with world.session_factory() as session:
        customer = create_customer(
            session,
            name="顾客壬",
            phone="13911112222",
            address={"province": "上海市", "city": "上海市", "district": "浦东新区"},
        )
        session.commit()
        body = {"type": "praise", "customer_id": customer.id, "description": words}
        number = create_order(session, actor_for_user(session, "agent"), body).number
    data = {"praised_outlet": outlet}
    if engineer:
        data["praised_engineer"] = engineer
    complete(world, number, "identify", "agent", data)
    return number


def outlet_page(world: World, user: str, code: str = "O-SH-PD") -> str:
    response = world.client(user).get(f"/outlets/{code}")
    assert response.status_code == 200, response.status_code
    return text(response)


def praise_items(page: str) -> list[str]:
    return re.findall(r'data-praise="([^"]+)"', page)


def praise_item(page: str, number: str) -> str:
    item = page[page.index(f'data-praise="{number}"') :]
    return item[: item.index("</li>")]


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-outlet="([^"]+)"', page)


def test_the_outlet_user_sees_their_outlet_with_its_praise(world: World) -> None:
    number = praise(world, "网点服务周到", outlet="O-SH-PD")
    page = outlet_page(world, "outlet")
    assert "上海浦东网点" in page and "华东服务中心" in page
    assert praise_items(page) == [number]
    assert "网点服务周到" in praise_item(page, number)
    assert counts(page)["praise"] == "1"


def test_praise_is_listed_newest_first_and_only_the_outlets_own(world: World) -> None:
    first = praise(world, "第一次表扬", outlet="O-SH-PD")
    second = praise(world, "第二次表扬", outlet="O-SH-PD")
    praise(world, "别的网点", outlet="O-HZ-XH")
    page = outlet_page(world, "manager")
    assert praise_items(page) == [second, first]
    assert "别的网点" not in page and counts(page)["praise"] == "2"


def test_a_praise_shows_the_engineer_and_links_to_its_order(world: World) -> None:
    number = praise(world, "赵师傅很专业", outlet="O-SH-PD", engineer="engineer")
    item = praise_item(outlet_page(world, "manager"), number)
    assert "工程师 赵磊" in item
    assert f'href="/orders/{number}"' in item
    assert world.client("manager").get(f"/orders/{number}").status_code == 200


def test_the_praised_outlet_opens_the_praise_order_from_its_record(world: World) -> None:
    # recording the praise moves its order into the praised outlet's records
    number = praise(world, "赵师傅很专业", outlet="O-SH-PD", engineer="engineer")
    item = praise_item(outlet_page(world, "outlet"), number)
    assert f'href="/orders/{number}"' in item
    assert world.client("outlet").get(f"/orders/{number}").status_code == 200
    assert world.client("outlet2").get(f"/orders/{number}").status_code == 404


def test_the_profile_shows_categories_engineers_and_contact(world: World) -> None:
    set_profile(
        world,
        "O-SH-PD",
        districts=["上海市/上海市/浦东新区", "上海市/上海市/黄浦区"],
        categories=["AC", "FR"],
        phone="400-800-1234",
        address="浦东新区服务路 8 号",
    )
    set_engineer(world, "engineer", skills=["AC", "WM"], phone="13700009999")
    page = outlet_page(world, "outlet")
    profile = page[page.index("data-outlet-profile") : page.index("data-outlet-engineers")]
    assert "上海市/上海市/浦东新区、上海市/上海市/黄浦区" in profile
    assert "空调" in profile and "冰箱" in profile and "洗衣机" not in profile
    assert 'href="tel:400-800-1234"' in profile and "浦东新区服务路 8 号" in profile
    engineer = page[page.index('data-engineer="engineer"') :]
    engineer = engineer[: engineer.index("</tr>")]
    assert "工程师 赵磊" in engineer and 'href="tel:13700009999"' in engineer
    assert "空调、洗衣机" in engineer
    assert "工程师 钱进" not in page  # a colleague without an engineer record is not listed


def test_engineers_of_other_outlets_are_not_listed(world: World) -> None:
    set_engineer(world, "engineer", phone="13700009999")
    page = outlet_page(world, "outlet2", "O-GZ-TH")
    assert 'data-engineer="engineer"' not in page and "13700009999" not in page


def test_an_outlet_without_a_profile_says_so(world: World) -> None:
    with world.session_factory() as session:
        session.execute(
            sa.delete(OutletProfile).where(OutletProfile.org_unit_id == unit(world, "O-SH-PD").id)
        )
        session.commit()
    page = outlet_page(world, "outlet")
    assert "data-no-profile" in page and 'data-outlet-status="inactive"' in page


def test_the_workload_counts_open_orders_as_the_board_does(world: World, orders: Orders) -> None:
    page = outlet_page(world, "outlet")
    board = text(world.client("outlet").get("/board?outlet=O-SH-PD"))
    open_states = ("received", "dispatched", "accepted", "on_site", "reviewing", "transferred")
    assert {s: counts(page)[s] for s in open_states} == {s: counts(board)[s] for s in open_states}
    assert counts(page)["open"] == str(sum(int(counts(board)[s]) for s in open_states))
    assert int(counts(page)["open"]) > 0
    assert 'href="/board?outlet=O-SH-PD"' in page
    assert 'href="/board?outlet=O-SH-PD&amp;status=accepted"' in page


def test_the_callback_score_averages_the_latest_closed_orders(world: World, orders: Orders) -> None:
    assert 'data-callback-average="none"' in outlet_page(world, "outlet")
    path = unit(world, "O-SH-PD").path
    with world.session_factory() as session:
        for key, score in (("C", 80), ("D", 65), ("E", None)):
            order = session.scalar(
                sa.select(ServiceOrder).where(ServiceOrder.number == orders[key])
            )
            order.status, order.is_open, order.closed_at = "closed", False, utcnow()
            instance = session.get(ProcessInstance, order.process_instance_id)
            instance.org_path = path
            instance.variables = {**instance.variables, "survey_score": score}
        session.commit()
    page = outlet_page(world, "outlet")
    assert re.search(r"data-callback-average>72\.5<", page)
    assert "3 张已关闭工单中 2 次回访" in page  # E is closed but not called back yet


def test_another_outlets_page_is_not_found_for_an_outlet_user(world: World) -> None:
    praise(world, "天河网点真好", outlet="O-GZ-TH")
    client = world.client("outlet")
    for code in ("O-GZ-TH", "O-HZ-XH"):
        response = client.get(f"/outlets/{code}")
        assert response.status_code == 404
        assert "页面不存在" in text(response)
    assert "天河网点真好" not in text(client.get("/outlets/O-GZ-TH"))
    assert outlet_page(world, "outlet2", "O-GZ-TH").count("天河网点真好") == 1


def test_a_center_sees_its_outlets_but_not_the_other_centers(world: World) -> None:
    client = world.client("center")
    assert client.get("/outlets/O-SH-PD").status_code == 200
    assert client.get("/outlets/O-HZ-XH").status_code == 200
    assert client.get("/outlets/O-GZ-TH").status_code == 404


def test_an_unknown_code_or_a_unit_that_is_no_outlet_is_not_found(world: World) -> None:
    client = world.client("manager")
    assert client.get("/outlets/NO-SUCH-OUTLET").status_code == 404
    assert client.get("/outlets/C-EAST").status_code == 404
    assert client.get("/outlets/" + "X" * 300).status_code == 404


def test_the_list_shows_only_the_outlets_in_scope(world: World, orders: Orders) -> None:
    assert listed(text(world.client("outlet").get("/outlets"))) == ["O-SH-PD"]
    east = sorted(listed(text(world.client("center").get("/outlets"))))
    assert east == outlet_codes(world, "C-EAST")
    assert "O-SH-PD" in east and "O-HZ-XH" in east and "O-GZ-TH" not in east
    assert sorted(listed(text(world.client("manager").get("/outlets")))) == outlet_codes(world)


def test_a_list_row_counts_what_the_outlets_page_shows(world: World, orders: Orders) -> None:
    praise(world, "好", outlet="O-SH-PD")
    set_profile(world, "O-SH-PD", capacity=25)
    record = outlet_page(world, "manager")
    page = text(world.client("manager").get("/outlets"))
    row = page[page.index('<tr data-outlet="O-SH-PD"') :]
    row = row[: row.index("</tr>")]
    assert 'href="/outlets/O-SH-PD"' in row and "华东服务中心" in row
    assert "<span data-capacity>25</span>" in row
    assert counts(row) == {
        "engineers": counts(record)["engineers"],
        "open": counts(record)["open"],
        "praise": "1",
    }


def test_the_outlets_are_for_service_staff(world: World) -> None:
    assert 'data-nav="outlets"' in text(world.client("outlet").get("/tasks"))
    assert 'data-nav="outlets"' in text(world.client("center").get("/tasks"))
    assert 'data-nav="outlets"' not in text(world.client("engineer").get("/tasks"))
    assert world.client("engineer").get("/outlets").status_code == 403
    assert world.client("engineer").get("/outlets/O-SH-PD").status_code == 403
    assert world.client().get("/outlets/O-SH-PD").status_code == 302  # sign in first


def test_the_board_and_the_order_page_link_to_the_outlet(world: World, orders: Orders) -> None:
    board = text(world.client("manager").get("/board"))
    row = board[board.index(f'data-order="{orders["F"]}"') :]
    assert 'href="/outlets/O-GZ-TH">广州天河网点</a>' in row[: row.index("</tr>")]
    order = text(world.client("center").get(f"/orders/{orders['B']}"))
    assert 'href="/outlets/O-SH-PD" data-order-outlet="O-SH-PD"' in order
    received = text(world.client("manager").get(f"/orders/{orders['A']}"))
    assert "data-order-outlet" not in received  # not yet at an outlet


def test_the_page_renders_in_english(world: World) -> None:
    praise(world, "很好", outlet="O-SH-PD", engineer="engineer")
    set_profile(world, "O-SH-PD", categories=["AC"], address="Pudong")
    set_engineer(world, "engineer", skills=["AC"])
    client = world.client("outlet")
    post(client, "/locale", {"locale": "en", "next": "/outlets/O-SH-PD"})
    page = text(client.get("/outlets/O-SH-PD"))
    assert '<html lang="en">' in page
    assert "Outlet profile" in page and "Praise from customers" in page
    assert "Air conditioner" in page and "空调" not in page
    assert "Service districts" in page and "Open orders" in page
    assert "Outlets" in text(client.get("/outlets"))
