"""Deploying files in the browser and comparing two versions of a definition."""

from __future__ import annotations

import io
import re
from pathlib import Path

import sqlalchemy as sa

from engine.models import ProcessDefinition

from . import pages
from .pages import World, flashes, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL
ROOT = Path(__file__).resolve().parents[2]
DEMO = (ROOT / "bpmn" / "demo_service_request.bpmn").read_bytes()


def upload(world: World, user: str, *files: tuple[str, bytes], client=None):  # noqa: ANN001, ANN201
    return post(
        client or world.client(user),
        "/definitions/deploy",
        {"files": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data",
    )


def versions(world: World, key: str) -> list[int]:
    with world.session_factory() as session:
        return sorted(
            session.scalars(
                sa.select(ProcessDefinition.version).where(ProcessDefinition.key == key)
            )
        )


def renamed(xml: bytes) -> bytes:
    return xml.replace('name="上门服务"'.encode(), 'name="上门检修"'.encode())


def test_a_designer_deploys_a_changed_file_as_a_new_version(world: World) -> None:
    client = world.client("designer")
    response = upload(
        world, "designer", ("demo_service_request.bpmn", renamed(DEMO)), client=client
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "已部署 demo_service_request 第 2 版。" in flashes(page)
    assert versions(world, "demo_service_request") == [1, 2]


def test_an_unchanged_file_deploys_nothing(world: World) -> None:
    response = upload(world, "designer", ("demo_service_request.bpmn", DEMO))
    assert response.status_code == 302
    assert versions(world, "demo_service_request") == [1]


def test_a_malformed_file_is_refused_with_its_line_and_nothing_is_deployed(world: World) -> None:
    response = upload(
        world,
        "designer",
        ("demo_service_request.bpmn", renamed(DEMO)),
        ("broken.bpmn", b"<bpmn:definitions"),
    )
    assert response.status_code == 422
    problems = text(response)
    problems = problems[problems.index("data-deploy-problems") :]
    assert "broken.bpmn" in problems
    assert versions(world, "demo_service_request") == [1]  # all or nothing


def test_a_hostile_file_is_refused(world: World) -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    )
    response = upload(world, "designer", ("evil.bpmn", hostile))
    assert response.status_code == 422
    assert "root:" not in text(response)


def test_without_files_the_designer_is_told_to_choose_some(world: World) -> None:
    response = post(world.client("designer"), "/definitions/deploy", {})
    assert response.status_code == 422


def test_an_agent_may_not_deploy(world: World) -> None:
    response = upload(world, "agent", ("demo_service_request.bpmn", renamed(DEMO)))
    assert response.status_code == 403
    assert versions(world, "demo_service_request") == [1]


def test_the_decision_tables_are_listed_with_their_download(world: World) -> None:
    page = text(world.client("designer").get("/definitions"))
    assert 'data-decision="service_fee"' in page and 'data-decision="visit_fee_standard"' in page
    download = world.client("designer").get("/definitions/service_fee/1/source?download=1")
    assert download.status_code == 200 and b"<decision" in download.data


def test_two_versions_compare_line_by_line_and_by_activity(world: World) -> None:
    upload(world, "designer", ("demo_service_request.bpmn", renamed(DEMO)))
    page = text(world.client("manager").get("/definitions/demo_service_request/diff?from=1&to=2"))
    diff = page[page.index("data-diff") :]
    assert re.search(r'class="diff-del">-.*name=&#34;上门服务&#34;', diff)
    assert re.search(r'class="diff-add">\+.*name=&#34;上门检修&#34;', diff)
    changed = page[page.index("data-changed") :]
    assert "(visit)" in changed


def test_comparing_a_version_that_does_not_exist_is_404(world: World) -> None:
    client = world.client("manager")
    assert client.get("/definitions/demo_service_request/diff?from=1&to=9").status_code == 404
    assert client.get("/definitions/demo_service_request/diff?from=x&to=1").status_code == 404


def test_a_file_with_a_chinese_name_downloads_under_that_name(world: World) -> None:
    upload(world, "designer", ("演示流程.bpmn", renamed(DEMO)))
    response = world.client("designer").get("/definitions/demo_service_request/2/source")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%BC%94%E7%A4%BA%E6%B5%81%E7%A8%8B.bpmn" in disposition
    disposition.encode("latin-1")  # what a WSGI server can send


def test_a_deployed_file_is_never_shown_inline(world: World) -> None:
    response = world.client("designer").get("/definitions/repair/1/source")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]
