"""Editing a decision table in the browser: the editor page and deploying its XML."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from engine.models import ProcessDefinition

from . import pages
from .pages import World, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL
FEES = (Path(__file__).resolve().parents[2] / "bpmn" / "service_fee.dmn").read_text(
    encoding="utf-8"
)


def versions(world: World) -> list[int]:
    with world.session_factory() as session:
        return sorted(
            session.scalars(
                sa.select(ProcessDefinition.version).where(ProcessDefinition.key == "service_fee")
            )
        )


def deploy(world: World, xml: str, client=None):  # noqa: ANN001, ANN201
    return post(client or world.client("designer"), "/decisions/service_fee/deploy", {"xml": xml})


def test_the_designer_opens_the_table_in_the_editor(world: World) -> None:
    page = text(world.client("designer").get("/decisions/service_fee/edit"))
    assert "data-dmn-editor" in page and "service_fee_table" in page


def test_an_agent_may_not_edit_or_deploy_tables(world: World) -> None:
    client = world.client("agent")
    assert client.get("/decisions/service_fee/edit").status_code == 403
    assert deploy(world, FEES, client).status_code == 403


def test_an_unknown_table_is_not_found(world: World) -> None:
    assert world.client("designer").get("/decisions/nope/edit").status_code == 404


def test_a_changed_fee_deploys_as_a_new_version(world: World) -> None:
    client = world.client("designer")
    changed = FEES.replace("<text>150</text>", "<text>180</text>")
    response = deploy(world, changed, client)
    assert response.status_code == 302
    assert "已部署 service_fee 第 2 版。" in flashes(text(client.get(response.headers["Location"])))
    assert versions(world) == [1, 2]


def test_a_table_without_its_decision_is_refused_and_the_edit_is_kept(world: World) -> None:
    renamed = FEES.replace('decision id="service_fee"', 'decision id="other_fee"')
    response = deploy(world, renamed)
    assert response.status_code == 422
    page = text(response)
    assert "data-deploy-problems" in page and "other_fee" in page
    assert versions(world) == [1]


def test_malformed_xml_is_refused_with_its_line(world: World) -> None:
    response = deploy(world, FEES[:200])
    assert response.status_code == 422
    assert re.search(r"service_fee\.dmn:\d+", text(response))
    assert versions(world) == [1]


def test_a_large_table_reaches_the_checks_instead_of_a_413(world: World) -> None:
    padding = "<!--" + "x" * 700_000 + "-->"
    large = FEES.replace("<decision ", padding + "<decision ", 1)
    client = world.client("designer")
    response = deploy(world, large, client)
    assert response.status_code == 302  # 700 KB is within what a model file may be
    assert versions(world) == [1, 2]
