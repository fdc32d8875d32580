"""The BPMN modeler in a real browser, as a process designer uses it.

The designer opens a process in the modeler (bpmn-js with our own properties panel,
static/js/modeler.js), selects the visit task on the canvas, renames it and changes how it is
handled in the panel, and deploys: the next version's page draws the new name and the deployed
file carries the new properties. The files we ship (repair, dispatch) go through bpmn-js and back
without losing a spiffworkflow extension, and still deploy. (A file without a diagram is laid
out automatically: test_auto_layout.py.)

These tests deploy new versions of the demo processes, so they run against a server and database
of their own (the ``live_server`` fixture below overrides conftest's for this module): the other
browser tests keep starting the demo processes as shipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from lxml import etree
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from engine.db import make_engine, make_session_factory
from engine.models import ProcessDefinition

from .conftest import LiveServer, serve
from .test_service_request_flow import log_in

READY = "[data-modeler][data-modeler-ready=true]"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own: the versions this module deploys must not change what the other
    browser tests see."""
    with serve(tmp_path_factory, "live-server-modeler", demo=True) as server:
        yield server


@pytest.fixture
def db(live_server: LiveServer) -> Iterator[Session]:
    engine = make_engine(live_server.database_url)
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def latest(db: Session, key: str) -> ProcessDefinition:
    db.expire_all()
    return db.scalars(
        sa.select(ProcessDefinition)
        .where(ProcessDefinition.key == key, ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.version.desc())
    ).first()


def open_modeler(page: Page, key: str) -> None:
    page.goto(f"/definitions/{key}/edit")
    expect(page.locator("[data-modeler]")).to_have_attribute("data-modeler-ready", "true")
    expect(page.locator("[data-modeler-message]")).to_be_hidden()  # no import warnings


def saved_xml(page: Page) -> str:
    return page.evaluate(
        "async () => (await document.querySelector('[data-modeler]')"
        ".bpmnModeler.saveXML({format: true})).xml"
    )


def select(page: Page, bpmn_id: str) -> None:
    """Select an element as a click on it does (for connections, which are thin to click)."""
    page.evaluate(
        """(id) => {
            const modeler = document.querySelector('[data-modeler]').bpmnModeler;
            modeler.get('selection').select(modeler.get('elementRegistry').get(id));
        }""",
        bpmn_id,
    )
    expect(page.locator("[data-modeler-fields]")).to_have_attribute("data-element-id", bpmn_id)


def field(page: Page, name: str):  # noqa: ANN201
    return page.locator(f'[data-modeler-fields] [data-field="{name}"]')


def change(page: Page, name: str, value: str) -> None:
    """Type into a panel field and leave it, as a designer does: the change applies on leaving."""
    field(page, name).fill(value)
    field(page, name).press("Tab")


def semantics(xml: str) -> dict[str, list]:
    """Every BPMN and spiffworkflow element of the file but the diagram and the redundant
    incoming/outgoing lists: its path of ids, its attributes and its text."""
    root = etree.fromstring(xml.encode())
    found: dict[str, list] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element)
        if name.namespace not in (BPMN, SPIFF) or name.localname in ("incoming", "outgoing"):
            continue
        steps, node = [], element
        while node is not None:
            ident = node.get("id") or node.get("name") or ""
            steps.append(f"{etree.QName(node).localname}[{ident}]")
            node = node.getparent()
        attrs = sorted((k, v) for k, v in element.attrib.items() if not k.startswith("{"))
        body = (element.text or "").strip() if len(element) == 0 else ""
        found.setdefault("/".join(reversed(steps)), []).append((attrs, body))
    return found


def test_a_designer_renames_a_task_and_deploys_the_next_version(page: Page, db: Session) -> None:
    before = latest(db, "demo_service_request").version
    log_in(page, "designer")
    page.goto("/definitions/demo_service_request")
    page.get_by_role("link", name="在建模器中编辑").click()
    expect(page).to_have_url(re.compile(r"/definitions/demo_service_request/edit\?version=\d+$"))
    expect(page.locator(READY)).to_be_visible()

    page.locator(f"{READY} g.djs-element[data-element-id=visit]").click()
    panel = page.locator("[data-modeler-fields]")
    expect(panel).to_have_attribute("data-element-id", "visit")
    expect(panel.get_by_label("标识")).to_have_value("visit")
    expect(panel.get_by_label("表单")).to_have_value("work_report")
    label = page.locator(f"{READY} g.djs-element[data-element-id=visit] text")

    change(page, "name", "上门维修")
    expect(label).to_have_text("上门维修")
    page.get_by_role("button", name="撤销").click()  # undo goes through bpmn-js's command stack
    expect(label).to_have_text("上门服务")
    expect(panel.get_by_label("名称")).to_have_value("上门服务")
    page.get_by_role("button", name="重做").click()
    expect(label).to_have_text("上门维修")
    change(page, "candidateGroups", "outlets,engineers")
    change(page, "formKey", "check_in")
    change(page, "priority", "150")  # out of range: refused in the panel
    expect(field(page, "priority")).to_have_class(re.compile("is-invalid"))
    change(page, "priority", "80")

    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="部署为新版本").click()
    assert posted.value.status == 302
    version = before + 1
    expect(page).to_have_url(re.compile(rf"/definitions/demo_service_request\?version={version}$"))
    expect(page.get_by_role("status")).to_have_text(f"已部署第 {version} 版。")
    drawn = page.locator(
        "[data-definition-diagram] [data-bpmn-diagram][data-diagram-ready=true] "
        "g.djs-element[data-element-id=visit] text"
    )
    expect(drawn).to_have_text("上门维修")

    deployed = latest(db, "demo_service_request")
    assert deployed.version == version
    visit = semantics(deployed.source)
    props = "definitions[defs_demo_service_request]/process[demo_service_request]/userTask[visit]"
    assert visit[props] == [([("id", "visit"), ("name", "上门维修")], "")]
    properties = {
        dict(attrs)["name"]: dict(attrs)["value"]
        for key, rows in visit.items()
        if key.startswith(props + "/extensionElements[]/properties[]/property")
        for attrs, _body in rows
    }
    assert properties == {
        "formKey": "check_in",
        "candidateGroups": "outlets,engineers",
        "dueIn": "P2D",
        "priority": "80",
        "title": "'上门服务：' + customer_name",
    }


@pytest.mark.parametrize("key", ["repair", "dispatch"])
def test_our_processes_go_through_the_modeler_unchanged_and_still_deploy(
    page: Page, db: Session, key: str
) -> None:
    original = latest(db, key)
    log_in(page, "designer")
    open_modeler(page, key)
    xml = saved_xml(page)
    assert semantics(xml) == semantics(original.source)
    assert "BPMNDiagram" in xml

    # deploy exactly what bpmn-js wrote, through the page's own form
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.evaluate(
            """(xml) => {
                const form = document.querySelector('form[data-modeler-deploy]');
                form.querySelector('[name=xml]').value = xml;
                form.submit();
            }""",
            xml,
        )
    assert posted.value.status == 302
    expect(page.get_by_role("status")).to_have_text(f"已部署第 {original.version + 1} 版。")
    deployed = latest(db, key)
    assert deployed.version == original.version + 1 and deployed.spec_json
    assert semantics(deployed.source) == semantics(original.source)


def test_panel_edits_of_service_rule_timer_and_flow_deploy(page: Page, db: Session) -> None:
    before = latest(db, "repair").version
    log_in(page, "designer")
    open_modeler(page, "repair")
    select(page, "close_on_phone")
    expect(field(page, "operator")).to_have_value("credit_article")
    field(page, "operator").select_option("verify_order")
    # the new operation's parameters offered empty, the old one's gone
    expect(field(page, "param:kb_article_id")).to_have_count(0)
    expect(field(page, "param:confirmed")).to_have_value("")
    change(page, "param:confirmed", "solved == True")
    field(page, "paramType:confirmed").select_option("bool")
    select(page, "fees")
    expect(field(page, "calledDecisionId")).to_have_value("service_fee")
    field(page, "calledDecisionId").select_option("visit_fee_standard")
    select(page, "f_solved")
    change(page, "condition", "solved is True")
    select(page, "dispatch")
    expect(field(page, "calledElement")).to_have_value("dispatch")
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.get_by_role("status")).to_have_text(f"已部署第 {before + 1} 版。")

    found = semantics(latest(db, "repair").source)
    process = "definitions[defs_repair]/process[repair]"
    operator = (
        f"{process}/serviceTask[close_on_phone]/extensionElements[]"
        "/serviceTaskOperator[verify_order]"
    )
    assert found[operator] == [
        ([("id", "verify_order"), ("resultVariable", "kb_article_credited")], "")
    ]
    assert found[f"{operator}/parameters[]/parameter[confirmed]"] == [
        ([("id", "confirmed"), ("type", "bool"), ("value", "solved == True")], "")
    ]
    assert f"{operator}/parameters[]/parameter[kb_article_id]" not in found
    decision = f"{process}/businessRuleTask[fees]/extensionElements[]/calledDecisionId[]"
    assert found[decision] == [([], "visit_fee_standard")]
    assert found[f"{process}/sequenceFlow[f_solved]/conditionExpression[]"] == [
        ([], "solved is True")
    ]


def test_a_refused_deploy_keeps_the_designers_work(page: Page, db: Session) -> None:
    dispatch = latest(db, "dispatch")
    log_in(page, "designer")
    open_modeler(page, "dispatch")
    select(page, "accept_timeout")
    expect(field(page, "timerKind")).to_have_value("timeDuration")
    expect(field(page, "timerValue")).to_have_value("accept_limit")
    change(page, "timerValue", "accept_limit +")  # does not compile
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="部署为新版本").click()
    assert posted.value.status == 422
    problems = page.locator("[data-modeler-problems]")
    expect(problems).to_contain_text("dispatch.bpmn:")
    expect(problems).to_contain_text("(timerEventDefinition timer_accept) timer expression")
    expect(page.locator(READY)).to_be_visible()
    select(page, "accept_timeout")  # the page reopened the file as it was sent
    expect(field(page, "timerValue")).to_have_value("accept_limit +")
    assert latest(db, "dispatch").version == dispatch.version


def test_an_engineer_has_no_modeler(page: Page, live_server) -> None:  # noqa: ANN001
    log_in(page, "engineer")
    response = page.goto("/definitions/repair/edit")
    assert response is not None and response.status == 403
    expect(page.locator("[data-modeler]")).to_have_count(0)
