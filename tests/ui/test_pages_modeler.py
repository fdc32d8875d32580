"""The BPMN modeler page: a designer edits a deployed process in the browser and deploys the
result as its next version, checked exactly as ``csm deploy`` checks a file."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from engine.models import Deployment, ProcessDefinition

from . import pages
from .pages import World, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

KEY = "demo_service_request"


def embedded(page: str, name: str) -> object:
    """The JSON of one of the page's ``<script type="application/json" data-modeler-NAME>``."""
    found = re.search(
        rf"<script type=\"application/json\" data-modeler-{name}>(.*?)</script>", page, re.S
    )
    assert found, f"the page embeds no data-modeler-{name}"
    return json.loads(found.group(1))


def versions(world: World, key: str = KEY) -> list[int]:
    with world.session_factory() as session:
        return list(
            session.scalars(
                sa.select(ProcessDefinition.version)
                .where(ProcessDefinition.key == key, ProcessDefinition.kind == "bpmn")
                .order_by(ProcessDefinition.version)
            )
        )


def source(world: World, version: int, key: str = KEY) -> str:
    with world.session_factory() as session:
        return session.scalar(
            sa.select(ProcessDefinition.source).where(
                ProcessDefinition.key == key, ProcessDefinition.version == version
            )
        )


def deployments(world: World) -> int:
    with world.session_factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Deployment))


def test_a_designer_opens_the_modeler_with_the_file_and_the_choices(world: World) -> None:
    response = world.client("designer").get(f"/definitions/{KEY}/edit")
    assert response.status_code == 200
    page = text(response)
    assert embedded(page, "source") == source(world, 1)
    operations = {o["name"]: o for o in embedded(page, "operations")}
    assert operations["credit_article"]["params"] == ["kb_article_id"]
    assert "verify_order" in operations
    choices = embedded(page, "choices")
    assert {"service_fee", "visit_fee_standard"} <= {d["id"] for d in choices["decisions"]}
    assert "work_report" in choices["forms"] and "survey:repair" in choices["forms"]
    assert "dispatch" in choices["processes"]
    assert embedded(page, "moddle")["prefix"] == "spiffworkflow"
    assert 'name="csrf_token"' in page
    assert f'action="/definitions/{KEY}/deploy"' in page
    assert 'data-l-form-key="表单"' in page  # the panel's labels come translated


def test_the_definition_page_links_designers_to_the_modeler(world: World) -> None:
    link = f'href="/definitions/{KEY}/edit?version=1"'
    assert link in text(world.client("designer").get(f"/definitions/{KEY}"))
    assert link not in text(world.client("manager").get(f"/definitions/{KEY}"))


def test_only_designers_and_admins_open_the_modeler(world: World) -> None:
    assert world.client("admin").get(f"/definitions/{KEY}/edit").status_code == 200
    assert world.client("agent").get(f"/definitions/{KEY}/edit").status_code == 403
    assert world.client("manager").get(f"/definitions/{KEY}/edit").status_code == 403
    assert world.client().get(f"/definitions/{KEY}/edit").status_code == 302  # to the login


def test_an_unknown_process_or_version_is_not_found(world: World) -> None:
    client = world.client("designer")
    assert client.get("/definitions/nope/edit").status_code == 404
    assert client.get(f"/definitions/{KEY}/edit?version=9").status_code == 404
    assert client.get(f"/definitions/{KEY}/edit?version=x").status_code == 404
    assert client.get("/definitions/service_fee/edit").status_code == 404  # a decision table
    assert post(client, "/definitions/nope/deploy", {"xml": "<x/>"}).status_code == 404


def test_deploying_an_edited_file_makes_the_next_version(world: World) -> None:
    edited = source(world, 1).replace('name="上门服务"', 'name="上门维修"')
    client = world.client("designer")
    response = post(client, f"/definitions/{KEY}/deploy", {"xml": edited})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/definitions/{KEY}?version=2"
    assert versions(world) == [1, 2]
    assert source(world, 2) == edited
    page = text(client.get(response.headers["Location"]))
    assert "已部署第 2 版。" in flashes(page)
    drawn = re.search(r"data-diagram-xml>(.*?)</script>", page, re.S)
    assert 'name="上门维修"' in json.loads(drawn.group(1))  # the page draws the new version
    with world.session_factory() as session:
        deployment = session.scalars(sa.select(Deployment).order_by(Deployment.id.desc())).first()
    assert (deployment.deployed_by, deployment.source) == ("designer", "modeler")


def test_the_form_posts_crlf_line_ends_which_are_stored_as_the_file_had_them(
    world: World,
) -> None:
    unchanged = source(world, 1).replace("\n", "\r\n")
    response = post(world.client("designer"), f"/definitions/{KEY}/deploy", {"xml": unchanged})
    assert response.status_code == 302
    assert versions(world) == [1]


def test_an_unchanged_file_deploys_nothing(world: World) -> None:
    client = world.client("designer")
    response = post(client, f"/definitions/{KEY}/deploy", {"xml": source(world, 1)})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/definitions/{KEY}?version=1"
    assert versions(world) == [1]
    assert "没有变化" in flashes(text(client.get(response.headers["Location"])))


def test_a_malformed_file_is_refused_and_the_designers_work_is_kept(world: World) -> None:
    broken = source(world, 1).replace("</bpmn:process>", "</bpmn:proces>")
    before = deployments(world)
    response = post(world.client("designer"), f"/definitions/{KEY}/deploy", {"xml": broken})
    assert response.status_code == 422
    page = text(response)
    problems = page[page.index("data-modeler-problems") :]
    assert f"{KEY}.bpmn:" in problems and "malformed XML" in problems
    assert embedded(page, "source") == broken
    assert versions(world) == [1] and deployments(world) == before


def test_a_file_the_engine_refuses_shows_the_same_messages_as_the_api(world: World) -> None:
    bad = source(world, 1).replace("needs_visit == True", "needs_visit ==")
    client = world.client("designer")
    response = post(client, f"/definitions/{KEY}/deploy", {"xml": bad})
    assert response.status_code == 422
    page = text(response)
    assert f"{KEY}.bpmn:" in page and "(sequenceFlow f_visit)" in page
    assert "condition does not compile" in page
    assert embedded(page, "source") == bad
    assert versions(world) == [1]


def test_a_file_of_another_process_is_refused(world: World) -> None:
    other = (
        source(world, 1)
        .replace('<bpmn:process id="demo_service_request"', '<bpmn:process id="someone_else"')
        .replace('processRef="demo_service_request"', 'processRef="someone_else"')
    )
    response = post(world.client("designer"), f"/definitions/{KEY}/deploy", {"xml": other})
    assert response.status_code == 422
    page = text(response)
    assert "(process someone_else)" in page and "someone_else" in page
    assert embedded(page, "source") == other
    assert versions(world) == [1] and versions(world, "someone_else") == []


def test_a_decision_table_posted_as_the_process_is_refused(world: World) -> None:
    dmn = source(world, 1, "service_fee")
    response = post(world.client("designer"), f"/definitions/{KEY}/deploy", {"xml": dmn})
    assert response.status_code == 422
    assert "data-modeler-problems" in text(response)
    with world.session_factory() as session:
        count = session.scalar(
            sa.select(sa.func.count())
            .select_from(ProcessDefinition)
            .where(ProcessDefinition.key == "service_fee")
        )
    assert count == 1


def test_a_deploy_without_csrf_token_is_refused(world: World) -> None:
    edited = source(world, 1).replace('name="上门服务"', 'name="上门维修"')
    response = world.client("designer").post(f"/definitions/{KEY}/deploy", data={"xml": edited})
    assert response.status_code == 400
    assert versions(world) == [1]


def test_an_agent_may_not_deploy(world: World) -> None:
    edited = source(world, 1).replace('name="上门服务"', 'name="上门维修"')
    response = post(world.client("agent"), f"/definitions/{KEY}/deploy", {"xml": edited})
    assert response.status_code == 403
    assert versions(world) == [1]
