"""An operator's actions on an instance page: edit data, move the token, migrate; each
refused for the wrong role, on a stale page (409), and with bad input (nothing changes).
The data editor's fields and views are specified in test_pages_instance_data.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.commands import Deploy, Suspend, execute
from engine.identity import SYSTEM_ACTOR
from engine.models import ProcessInstance

from . import pages
from .pages import World, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL
DEMO = Path(__file__).resolve().parents[2] / "bpmn" / "demo_service_request.bpmn"


def instance(world: World, business_key: str = "DEMO-0003") -> ProcessInstance:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(ProcessInstance).where(ProcessInstance.business_key == business_key)
        )


def suspended(world: World) -> ProcessInstance:
    target = instance(world)
    world.run(Suspend(target.id), "admin")
    return instance(world)


def test_a_running_instance_must_be_suspended_before_its_data_changes(world: World) -> None:
    target = instance(world)
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/variables",
        {"revision": str(target.revision), "value.urgency": '"high"'},
    )
    assert response.status_code == 409


def test_a_stale_page_answers_409_and_changes_nothing(world: World) -> None:
    target = suspended(world)
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/variables",
        {"revision": str(target.revision - 1), "value.urgency": '"high"'},
    )
    assert response.status_code == 409
    assert instance(world).revision == target.revision


def test_an_agent_may_not_change_data(world: World) -> None:
    target = suspended(world)
    response = post(
        world.client("agent"),
        f"/instances/{target.id}/variables",
        {"revision": str(target.revision), "value.urgency": '"high"'},
    )
    assert response.status_code == 403


def test_a_manager_moves_the_token_to_another_task(world: World) -> None:
    target = instance(world)
    client = world.client("manager")
    response = post(
        client,
        f"/instances/{target.id}/move",
        {"revision": str(target.revision), "source": "visit", "target": "callback"},
    )
    assert response.status_code == 302
    assert instance(world).current_activities == ["callback"]


def test_moving_to_a_gateway_is_refused_with_the_reason(world: World) -> None:
    target = instance(world)
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/move",
        {"revision": str(target.revision), "source": "visit", "target": "needs_visit"},
    )
    assert response.status_code == 409
    assert "is not a task or call activity" in text(response)
    assert "visit" in instance(world).current_activities


def test_an_outlet_manager_may_not_move_tokens(world: World) -> None:
    target = instance(world)
    response = post(
        world.client("outlet2"),
        f"/instances/{target.id}/move",
        {"revision": str(target.revision), "source": "visit", "target": "callback"},
    )
    assert response.status_code == 403


def deploy_new_version(world: World, edit=lambda xml: xml) -> None:  # noqa: ANN001
    xml = edit(DEMO.read_text(encoding="utf-8")).replace('name="上门服务"', 'name="上门服务（二）"')
    with world.session_factory() as session:
        execute(session, Deploy([("demo_service_request.bpmn", xml.encode())]), SYSTEM_ACTOR)


def test_the_migration_page_checks_before_it_runs(world: World) -> None:
    deploy_new_version(world)
    target = instance(world)
    page = text(world.client("manager").get(f"/instances/{target.id}/migrate"))
    assert "data-migration-run" in page and 'data-live="visit"' in page


def test_a_manager_migrates_an_instance_to_the_newer_version(world: World) -> None:
    deploy_new_version(world)
    target = instance(world)
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/migrate",
        {"revision": str(target.revision), "version": "2"},
    )
    assert response.status_code == 302
    assert instance(world).process_version == 2


def test_without_a_newer_version_there_is_nothing_to_migrate_to(world: World) -> None:
    target = instance(world)
    assert world.client("manager").get(f"/instances/{target.id}/migrate").status_code == 409


def test_a_migration_the_check_refuses_shows_why_and_offers_no_button(world: World) -> None:
    deploy_new_version(world)
    target = instance(world)
    page = text(world.client("manager").get(f"/instances/{target.id}/migrate?map.visit=nowhere"))
    problems = page[page.index("data-migration-problems") :]
    assert "visit -&gt; nowhere" in problems
    assert "data-migration-run" not in page


def test_an_agent_may_not_open_the_migration_page(world: World) -> None:
    deploy_new_version(world)
    assert world.client("agent").get(f"/instances/{instance(world).id}/migrate").status_code == 403


ACTIONS = [
    ("suspend", {}),
    ("terminate", {"reason": "客户取消"}),
    ("move", {"source": "visit", "target": "callback"}),
    ("migrate", {"version": "2"}),
]


@pytest.mark.parametrize(("action", "form"), ACTIONS)
def test_every_action_is_refused_to_an_agent_and_changes_nothing(
    world: World, action: str, form: dict
) -> None:
    deploy_new_version(world)
    target = instance(world)
    response = post(
        world.client("agent"),
        f"/instances/{target.id}/{action}",
        {"revision": str(target.revision), **form},
    )
    assert response.status_code == 403
    assert instance(world).revision == target.revision


@pytest.mark.parametrize(("action", "form"), ACTIONS)
def test_every_action_on_a_stale_page_answers_409_and_changes_nothing(
    world: World, action: str, form: dict
) -> None:
    deploy_new_version(world)
    target = instance(world)
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/{action}",
        {"revision": str(target.revision + 1), **form},
    )
    assert response.status_code == 409
    assert instance(world).revision == target.revision


def test_resuming_a_running_instance_answers_409(world: World) -> None:
    target = instance(world)
    response = post(
        world.client("manager"),
        f"/instances/{target.id}/resume",
        {"revision": str(target.revision)},
    )
    assert response.status_code == 409


def test_an_action_posted_without_the_pages_revision_is_refused(world: World) -> None:
    target = instance(world)
    response = post(world.client("manager"), f"/instances/{target.id}/suspend")
    assert response.status_code == 422
    assert "页面已过期" in text(response)
    assert instance(world).status == "running"
