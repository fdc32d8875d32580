"""Daily work without hunting, over HTTP: the agent who opens a repair order, through the
API or on the caller page, finds its phone support in 我的任务 without claiming it; the
colleagues' 待认领 list never shows it."""

from __future__ import annotations

from tests.security.scope_world import PUDONG, customer, deploy, token

from . import pages
from .pages import World, listed_tasks, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def test_an_order_opened_through_the_api_waits_in_the_agents_own_list(world: World) -> None:
    deploy(world)
    cid = customer(world, "陈静", "13800138000", PUDONG)
    response = world.app.test_client().post(
        "/api/v1/orders",
        headers=token(world, "agent"),
        json={"type": "repair", "customer_id": cid, "description": "空调不制冷"},
    )
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    mine = world.app.test_client().get(
        f"/api/v1/tasks?assignee=me&business_key={number}", headers=token(world, "agent")
    )
    assert [(t["name"], t["assignee"]) for t in mine.get_json()["items"]] == [
        ("phone_support", "agent")
    ]
    task_id = mine.get_json()["items"][0]["id"]
    assert task_id in listed_tasks(text(world.client("agent").get("/tasks")))
    assert task_id not in listed_tasks(text(world.client("agent2").get("/tasks?list=group")))


def test_an_order_opened_on_the_caller_page_is_the_agents_to_work(world: World) -> None:
    deploy(world)
    cid = customer(world, "陈静", "13800138000", PUDONG)
    client = world.client("agent")
    response = post(
        client,
        "/calls/orders",
        {"customer_id": str(cid), "type": "repair", "description": "空调不制冷"},
    )
    assert response.status_code == 302, text(response)
    number = response.headers["Location"].rsplit("/", 1)[1]
    task = world.task(number, "phone_support")
    assert task.assignee == "agent"
    page = text(client.get(f"/tasks/{task.id}"))
    assert "data-task-form" in page  # the form is there to fill, no claim first
