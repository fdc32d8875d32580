"""Every picker applies the scope in SQL before its limit: the people, customers and
products offered are those of the units the user sees, however many others match first."""

from __future__ import annotations

import re

from engine.identity import upsert_user
from tests.ui.pages import World, text

from .scope_world import (
    PUDONG,
    TIANHE,
    complete,
    customer,
    deploy,
    dispatched_order,
    open_task,
)


def offered(world: World, username: str, kind: str, typed: str) -> list[str]:
    response = world.client(username).get(f"/pickers/{kind}?field=q&q={typed}")
    assert response.status_code == 200
    return re.findall(r'<option value="([^"]*)"', response.get_data(as_text=True))


def test_the_user_picker_offers_only_people_of_the_outlet(world: World) -> None:
    names = offered(world, "outlet", "user", "eng")
    assert "engineer" in names and "eng-sh-pd-2" in names
    assert not [n for n in names if n.startswith(("eng-gz", "eng-sh-mh", "eng-bj"))]


def test_the_user_picker_filters_by_scope_before_its_limit(world: World) -> None:
    with world.session_factory() as session:  # 120 matches sorted before the outlet's own
        for n in range(120):
            upsert_user(session, username=f"aa-zhang-{n:03d}", org_code="O-GZ-TH")
        upsert_user(session, username="zz-zhang", org_code="O-SH-PD")
        session.commit()
    assert offered(world, "outlet", "user", "zhang") == ["zz-zhang"]
    assert len(offered(world, "agent", "user", "zhang")) == 20  # HQ sees them all, 20 a page


def test_the_user_picker_treats_wildcards_as_text(world: World) -> None:
    assert offered(world, "outlet", "user", "%25") == []


def test_a_center_picks_the_people_of_its_outlets_but_not_another_centers(world: World) -> None:
    names = offered(world, "center", "user", "eng-")
    assert "eng-sh-mh-1" in names and not [n for n in names if n.startswith("eng-gz")]


def test_the_customer_picker_offers_only_customers_in_scope(world: World) -> None:
    deploy(world)
    ours = customer(world, "陈静", "13800138000", PUDONG)
    theirs = customer(world, "陈磊", "13800138001", TIANHE)
    dispatched_order(world, ours)
    dispatched_order(world, theirs)
    assert offered(world, "outlet", "customer", "陈") == [str(ours)]
    assert offered(world, "outlet", "customer", "1380013") == [str(ours)]
    assert offered(world, "outlet2", "customer", "陈") == [str(theirs)]
    assert offered(world, "agent", "customer", "陈") == [str(ours), str(theirs)]
    assert offered(world, "eng-bj-hd-1", "customer", "陈") == []


def test_the_product_picker_offers_only_products_of_customers_in_scope(world: World) -> None:
    deploy(world)
    ours = customer(world, "陈静", "13800138000", PUDONG, serial="SN-PD-1")
    customer(world, "陈磊", "13800138001", TIANHE, serial="SN-GZ-1")
    dispatched_order(world, ours)
    assert offered(world, "outlet", "product", "SN-") == ["SN-PD-1"]
    assert offered(world, "outlet2", "product", "SN-") == []
    assert offered(world, "agent", "product", "SN-") == ["SN-PD-1", "SN-GZ-1"]


def test_an_unknown_picker_is_not_found(world: World) -> None:
    assert world.client("outlet").get("/pickers/everyone?field=q&q=a").status_code == 404


def _assign_choices(world: World, username: str, task_id: str) -> list[str]:
    page = text(world.client(username).get(f"/tasks/{task_id}"))
    select = page[page.index('id="assign-user"') :]
    return re.findall(r'<option value="([^"]+)"', select[: select.index("</select>")])


def test_the_assign_list_offers_only_people_who_see_the_task(world: World) -> None:
    deploy(world)
    number = dispatched_order(world, customer(world, "陈静", "13800138000", PUDONG))
    complete(world, number, "accept", "outlet", {"accepted": True})
    complete(world, number, "assign_engineer", "outlet", {"engineer": "engineer"})
    choices = _assign_choices(world, "admin", open_task(world, number, "check_in").id)
    assert "engineer" in choices and "eng-sh-pd-2" in choices
    assert [c for c in choices if not c.startswith(("engineer", "eng-sh-pd-"))] == []


def test_the_assign_list_offers_only_people_whom_the_assigner_sees(world: World) -> None:
    deploy(world)
    with world.session_factory() as session:  # an HQ helper in the outlet managers' group
        upsert_user(session, username="hq-helper", org_code="HQ-CC", groups=["outlet_managers"])
        session.commit()
    number = dispatched_order(world, customer(world, "陈静", "13800138000", PUDONG))
    accept = open_task(world, number, "accept").id
    assert _assign_choices(world, "outlet", accept) == ["outlet"]
    assert _assign_choices(world, "admin", accept) == ["hq-helper", "outlet"]
