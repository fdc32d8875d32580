"""Who may start what: a process with neither start lanes nor grants is for administrators;
a process only others call (dispatch) is started by no one on its own; a service order
type's process starts only by opening the order, so no instance exists without its customer
and order. The start page lists exactly what the user may start there. Asked through the API
and the pages as the role each test names."""

from __future__ import annotations

import re

import pytest

from aftersales.orders.models import ServiceOrder
from engine.models import ProcessInstance
from tests.conftest import BPMN_DIR
from tests.ui.pages import World, post, text
from webapp.demo import USERS

from .scope_world import PUDONG, count, customer, token

ORDER_TYPES = ("repair", "installation", "consultation", "praise")
# what each demo login finds on /processes: the demo request is the agents' lane's
STARTABLE = {"admin": {"demo_service_request"}, "agent": {"demo_service_request"}}
STARTABLE["lead"] = STARTABLE["agent2"] = STARTABLE["agent"]


def _api_start(world: World, username: str, key: str, **body: object):  # noqa: ANN202
    return world.app.test_client().post(
        "/api/v1/process-instances",
        headers=token(world, username),
        json={"process_key": key, **body},
    )


def _listed(world: World, username: str) -> set[str]:
    page = text(world.client(username).get("/processes"))
    return set(re.findall(r'href="/processes/([\w.-]+)/start"', page))


def _deploy_lane_less(world: World) -> None:
    """A process without lanes (the tests' parallel.bpmn), deployed by an administrator."""
    with (BPMN_DIR / "parallel.bpmn").open("rb") as file:
        response = world.app.test_client().post(
            "/api/v1/deployments",
            headers=token(world, "admin"),
            data={"files": [(file, "parallel.bpmn")]},
            content_type="multipart/form-data",
        )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("username", ["engineer", "agent", "admin"])
@pytest.mark.parametrize("key", ORDER_TYPES)
def test_an_order_types_process_started_through_the_api_is_refused_and_nothing_is_created(
    world: World, username: str, key: str
) -> None:
    before = count(world, ProcessInstance)
    response = _api_start(
        world, username, key, variables={"order_number": "R-GHOST", "customer_id": 1}
    )
    assert response.status_code == 403
    assert response.get_json()["details"] == {"reason": "service_order"}
    assert "service order" in response.get_json()["message"]
    assert count(world, ProcessInstance) == before
    assert count(world, ServiceOrder) == 0


@pytest.mark.parametrize("username", ["engineer", "agent", "admin"])
def test_the_start_page_of_an_order_type_answers_403_saying_orders_start_it(
    world: World, username: str
) -> None:
    response = world.client(username).get("/processes/repair/start")
    assert response.status_code == 403
    assert "新建工单时自动发起" in text(response)


@pytest.mark.parametrize("username", ["engineer", "agent", "admin"])
def test_posting_the_start_form_of_an_order_type_starts_nothing(
    world: World, username: str
) -> None:
    before = count(world, ProcessInstance)
    response = post(
        world.client(username),
        "/processes/repair/start",
        {"customer_name": "幽灵", "order_number": "R-GHOST"},
    )
    assert response.status_code == 403
    assert count(world, ProcessInstance) == before


def test_dispatch_is_refused_through_the_api_even_to_an_administrator(world: World) -> None:
    before = count(world, ProcessInstance)
    response = _api_start(world, "admin", "dispatch", variables={"order_number": "R-1"})
    assert response.status_code == 403
    assert response.get_json()["details"] == {"reason": "called_only"}
    assert "called by other processes" in response.get_json()["message"]
    assert count(world, ProcessInstance) == before


def test_dispatch_is_refused_on_the_start_page_even_to_an_administrator(world: World) -> None:
    client = world.client("admin")
    before = count(world, ProcessInstance)
    assert client.get("/processes/dispatch/start").status_code == 403
    posted = post(client, "/processes/dispatch/start", {})
    assert posted.status_code == 403
    assert "只由其他流程调用" in text(posted)
    assert count(world, ProcessInstance) == before


def test_a_process_without_lanes_or_grants_is_refused_to_a_non_administrator(
    world: World,
) -> None:
    _deploy_lane_less(world)
    before = count(world, ProcessInstance)
    response = _api_start(world, "manager", "parallel")
    assert response.status_code == 403
    assert response.get_json()["details"] == {"reason": "not_granted"}
    assert world.client("manager").get("/processes/parallel/start").status_code == 404
    assert count(world, ProcessInstance) == before


def test_a_process_without_lanes_or_grants_is_listed_for_administrators_only(
    world: World,
) -> None:
    _deploy_lane_less(world)
    assert "parallel" in _listed(world, "admin")
    assert "parallel" not in _listed(world, "manager")
    assert "parallel" not in _listed(world, "agent")
    assert _api_start(world, "admin", "parallel").status_code == 201


@pytest.mark.parametrize("username", [user[0] for user in USERS])
def test_the_start_page_lists_exactly_what_each_demo_login_may_start(
    world: World, username: str
) -> None:
    listed = _listed(world, username)
    assert listed == STARTABLE.get(username, set())
    client = world.client(username)
    for key in listed:
        assert client.get(f"/processes/{key}/start").status_code == 200


def test_opening_an_order_still_starts_its_repair_process(world: World) -> None:
    cid = customer(world, "陈静", "13800138000", PUDONG)
    response = world.app.test_client().post(
        "/api/v1/orders",
        headers=token(world, "agent"),
        json={"type": "repair", "customer_id": cid, "description": "空调不制冷"},
    )
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["process_status"] == "running"
    assert order["current_activities"] == ["phone_support"]
    with world.session_factory() as session:
        instance = session.get(ProcessInstance, order["process_instance_id"])
        assert (instance.process_key, instance.business_key) == ("repair", order["number"])


def test_the_definitions_list_says_which_processes_only_others_call(world: World) -> None:
    response = world.app.test_client().get(
        "/api/v1/process-definitions", headers=token(world, "admin")
    )
    startable = {d["key"]: d["startable"] for d in response.get_json()["items"]}
    assert startable["dispatch"] is False
    assert startable["repair"] is True and startable["demo_service_request"] is True
