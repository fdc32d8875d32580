"""Process monitoring pages: definitions with versions, a version's diagram and activity
figures, the SLA view, the instance page's diagram and the operator's actions."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from engine.models import AuditEntry, ProcessInstance

from . import pages
from .pages import World, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL


def instance(world: World, business_key: str) -> ProcessInstance:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(ProcessInstance).where(ProcessInstance.business_key == business_key)
        )


def overlay(page: str) -> dict:
    found = re.search(r"data-diagram-overlay>(.*?)</script>", page, re.S)
    return json.loads(found.group(1))


def test_a_manager_sees_every_definition_with_its_active_instances(world: World) -> None:
    page = text(world.client("manager").get("/definitions"))
    row = page[page.index('data-definition="demo_service_request"') :]
    row = row[: row.index("</tr>")]
    assert re.search(r"data-active>3<", row)
    assert 'data-definition="repair"' in page


def test_an_agent_may_not_open_monitoring(world: World) -> None:
    client = world.client("agent")
    assert client.get("/definitions").status_code == 403
    assert client.get("/definitions/repair").status_code == 403
    assert client.get("/monitoring/sla").status_code == 403
    assert 'data-nav="monitoring"' not in text(client.get("/tasks"))


def test_the_definition_page_counts_tokens_per_activity_and_embeds_the_diagram(
    world: World,
) -> None:
    page = text(world.client("manager").get("/definitions/demo_service_request"))
    assert "BPMNDiagram" in page  # the deployed file, drawn by bpmn-js
    tokens = overlay(page)["tokens"]
    assert sum(tokens.values()) >= 3
    row = page[page.index('data-activity="callback"') :]
    assert re.search(r"data-tokens>\d+<", row[: row.index("</tr>")])


def test_an_unknown_definition_or_version_is_not_found(world: World) -> None:
    client = world.client("manager")
    assert client.get("/definitions/nope").status_code == 404
    assert client.get("/definitions/repair?version=99").status_code == 404


def test_the_deployed_file_downloads_as_it_was_deployed(world: World) -> None:
    response = world.client("designer").get("/definitions/repair/1/source?download=1")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename=repair.bpmn"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert b'<bpmn:process id="repair"' in response.data


def test_the_deployment_history_names_who_deployed_each_version(world: World) -> None:
    page = text(world.client("manager").get("/definitions/repair"))
    history = page[page.index("data-deployments") :]
    assert "v1" in history and "demo" in history


def test_the_instance_page_marks_the_current_and_passed_steps(world: World) -> None:
    visit = instance(world, "DEMO-0001")
    page = text(world.client("manager").get(f"/instances/{visit.id}"))
    marks = overlay(page)
    assert marks["current"] == visit.current_activities
    assert "visit" in marks["completed"] and "start" in marks["completed"]
    assert not set(marks["current"]) & set(marks["completed"])


def test_a_manager_suspends_and_resumes_an_instance(world: World) -> None:
    target = instance(world, "DEMO-0003")
    client = world.client("manager")
    response = post(client, f"/instances/{target.id}/suspend", {"revision": target.revision})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "已挂起。" in flashes(page) and 'data-instance-status="suspended"' in page
    seen = instance(world, "DEMO-0003").revision
    post(client, f"/instances/{target.id}/resume", {"revision": seen})
    assert instance(world, "DEMO-0003").status == "running"
    with world.session_factory() as session:
        commands = session.scalars(
            sa.select(AuditEntry.command)
            .where(AuditEntry.instance_id == target.id)
            .order_by(AuditEntry.id)
        ).all()
    assert commands[-2:] == ["suspend", "resume"]


def test_an_agent_may_not_suspend_and_nothing_changes(world: World) -> None:
    target = instance(world, "DEMO-0003")
    response = post(
        world.client("agent"), f"/instances/{target.id}/suspend", {"revision": target.revision}
    )
    assert response.status_code == 403
    assert instance(world, "DEMO-0003").status == "running"


def test_an_outlet_manager_cannot_act_on_another_outlets_instance(world: World) -> None:
    target = instance(world, "DEMO-0003")  # at the Guangzhou Tianhe outlet
    # refused by role before the instance is looked at: the answer is the same for any id
    assert post(world.client("outlet"), f"/instances/{target.id}/suspend").status_code == 403
    assert post(world.client("outlet"), "/instances/999999/suspend").status_code == 403
    assert instance(world, "DEMO-0003").status == "running"


def test_terminating_needs_a_reason(world: World) -> None:
    target = instance(world, "DEMO-0003")
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/terminate",
        {"reason": "", "revision": target.revision},
    )
    assert response.status_code == 422
    assert instance(world, "DEMO-0003").status == "running"


def test_terminating_twice_answers_conflict(world: World) -> None:
    target = instance(world, "DEMO-0003")
    client = world.client("manager")
    form = {"reason": "客户取消", "revision": target.revision}
    first = post(client, f"/instances/{target.id}/terminate", form)
    assert first.status_code == 302
    assert instance(world, "DEMO-0003").status == "terminated"
    form["revision"] = instance(world, "DEMO-0003").revision  # reloaded: still refused
    again = post(client, f"/instances/{target.id}/terminate", form)
    assert again.status_code == 409


def test_the_sla_view_lists_open_tasks_per_activity_and_unit(world: World) -> None:
    page = text(world.client("manager").get("/monitoring/sla"))
    assert 'data-row="callback"' in page
    units = page[page.index("data-sla-unit") :]
    assert "广州天河网点" in units
    assert "data-sla-durations" in page


def test_the_sla_view_ignores_an_unknown_window(world: World) -> None:
    assert world.client("manager").get("/monitoring/sla?days=abc").status_code == 200
