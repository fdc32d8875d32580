"""A process deployed without a diagram layout, drawn all the same.

Hand-written and generated BPMN files often have no ``bpmndi:BPMNDiagram`` section, and bpmn-js
then draws an empty frame. The browser lays such a file out with bpmn-auto-layout
(static/js/auto_layout.js) before bpmn-js imports it, wherever a process is drawn: the
definition page, an instance's page (which still marks the instance's current and passed steps,
the ids being the file's own) and the modeler, from which the laid-out file deploys as the next
version with its layout and without losing a spiffworkflow property.

The module deploys processes of its own, so it runs against a server and database of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from engine.commands import Deploy, StartInstance, execute
from engine.db import make_engine, make_session_factory
from engine.identity import SYSTEM_ACTOR, actor_for
from engine.models import ProcessDefinition, User

from .conftest import LiveServer, serve
from .test_modeler import semantics
from .test_monitoring_diagram import has_class
from .test_service_request_flow import log_in

KEY = "handwritten_check"
# as people write them by hand: no bpmndi section at all
HANDWRITTEN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs_{KEY}" targetNamespace="http://csm.test">
  <bpmn:process id="{KEY}" name="手写的检查流程" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:userTask id="check" name="检查故障">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="priority" value="70" />
          <spiffworkflow:property name="dueIn" value="PT4H" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="confirm" />
    <bpmn:userTask id="confirm" name="确认结果" />
    <bpmn:sequenceFlow id="f3" sourceRef="confirm" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""
DIAGRAM = "[data-bpmn-diagram][data-diagram-ready=true]"
MODELER = "[data-modeler][data-modeler-ready=true]"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory, "live-server-auto-layout", demo=True) as server:
        yield server


@pytest.fixture
def db(live_server: LiveServer) -> Iterator[Session]:
    engine = make_engine(live_server.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def deployed(db: Session) -> int:
    """The hand-written file deployed (a no-op once it is); its newest version."""
    execute(db, Deploy([(f"{KEY}.bpmn", HANDWRITTEN.encode())]), SYSTEM_ACTOR)
    return latest(db).version


def latest(db: Session) -> ProcessDefinition:
    db.expire_all()
    return db.scalars(
        sa.select(ProcessDefinition)
        .where(ProcessDefinition.key == KEY)
        .order_by(ProcessDefinition.version.desc())
    ).first()


def shape(page: Page, within: str, bpmn_id: str):  # noqa: ANN201
    """The shape bpmn-js drew for one element: a ``g.djs-element`` with its outline."""
    return page.locator(f'{within} g.djs-element.djs-shape[data-element-id="{bpmn_id}"]')


def test_the_definition_page_draws_a_file_without_a_layout(page: Page, db: Session) -> None:
    version = deployed(db)
    assert "BPMNDiagram" not in latest(db).source
    log_in(page, "manager")
    page.goto(f"/definitions/{KEY}?version={version}")
    diagram = page.locator("[data-definition-diagram] [data-bpmn-diagram]")
    expect(diagram).to_have_attribute("data-diagram-ready", "true")
    expect(diagram).to_have_attribute("data-diagram-laid-out", "true")
    expect(diagram.locator("[data-diagram-message]")).to_have_text(
        "此版本本身没有流程图布局，这里显示的是自动布局。"
    )
    for bpmn_id in ("start", "check", "confirm", "end"):
        expect(shape(page, DIAGRAM, bpmn_id)).to_be_visible()
    expect(shape(page, DIAGRAM, "check").locator("rect").first).to_be_visible()
    expect(shape(page, DIAGRAM, "check").locator("text")).to_have_text("检查故障")
    expect(page.locator(f'{DIAGRAM} g.djs-connection[data-element-id="f2"]')).to_be_attached()


def test_an_instance_page_marks_its_path_on_the_laid_out_diagram(page: Page, db: Session) -> None:
    deployed(db)
    # a process without lanes or start grants is for administrators to start
    admin = actor_for(db.scalar(sa.select(User).where(User.username == "admin")))
    instance = execute(db, StartInstance(KEY), admin)
    assert instance.current_activities == ["check"]
    log_in(page, "manager")
    page.goto(f"/instances/{instance.id}")
    diagram = page.locator("[data-instance-diagram] [data-bpmn-diagram]")
    expect(diagram).to_have_attribute("data-diagram-ready", "true")
    expect(diagram).to_have_attribute("data-diagram-laid-out", "true")
    check = shape(page, DIAGRAM, "check")
    expect(check).to_be_visible()
    expect(check).to_have_class(has_class("csm-current"))
    expect(shape(page, DIAGRAM, "start")).to_have_class(has_class("csm-done"))
    expect(shape(page, DIAGRAM, "confirm")).to_be_visible()
    expect(shape(page, DIAGRAM, "confirm")).not_to_have_class(has_class("csm-current"))
    expect(page.locator(f"{DIAGRAM} g.djs-element.csm-current")).to_have_count(1)


def test_the_modeler_lays_a_file_out_and_deploys_it_with_its_layout(
    page: Page, db: Session
) -> None:
    version = deployed(db)
    log_in(page, "designer")
    page.goto(f"/definitions/{KEY}/edit?version={version}")
    modeler = page.locator("[data-modeler]")
    expect(modeler).to_have_attribute("data-modeler-ready", "true")
    expect(modeler).to_have_attribute("data-modeler-laid-out", "true")
    expect(page.locator("[data-modeler-message]")).to_have_text(
        "此文件原本没有流程图布局，已自动布局。部署后将保留此布局。"
    )
    for bpmn_id in ("start", "check", "confirm", "end"):
        expect(shape(page, MODELER, bpmn_id)).to_be_visible()
    shape(page, MODELER, "check").click()
    panel = page.locator("[data-modeler-fields]")
    expect(panel).to_have_attribute("data-element-id", "check")
    expect(panel.get_by_label("优先级")).to_have_value("70")  # the extension came through

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="部署为新版本").click()
    assert posted.value.status == 302
    expect(page).to_have_url(re.compile(rf"/definitions/{KEY}\?version={version + 1}$"))
    source = latest(db).source
    assert latest(db).version == version + 1
    assert "BPMNDiagram" in source and 'bpmnElement="check"' in source
    assert semantics(source) == semantics(HANDWRITTEN)  # nothing but the layout was added
    diagram = page.locator("[data-definition-diagram] [data-bpmn-diagram]")
    expect(diagram).to_have_attribute("data-diagram-ready", "true")
    expect(diagram).not_to_have_attribute("data-diagram-laid-out", "true")  # its own now
    expect(shape(page, DIAGRAM, "check")).to_be_visible()
