"""The main pages work under the Content-Security-Policy: nothing they do is blocked.

The browser reports every blocked script, style, image or eval as a
``securitypolicyviolation`` event; an init script (which the policy does not govern) turns
each into a console message the test collects. Each page is opened as the person who uses it
and driven far enough that its scripts run: the modeler and the diagrams draw, the decision
table opens, the signature pad is drawn on, htmx fetches and swaps fragments.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from engine.commands import Deploy, StartInstance, execute
from engine.identity import SYSTEM_ACTOR
from engine.models import HumanTask, ProcessDefinition

from .test_service_request_flow import draw_signature, log_in

REPORT_ON_VIOLATION = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + (e.sourceFile || document.location.pathname) + ":" + e.lineNumber);
});
"""
SIGNATURE_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs_csp_signature" targetNamespace="http://csm.test">
  <bpmn:process id="csp_signature" name="A report with a signature" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="report" />
    <bpmn:userTask id="report" name="Report">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="work_report" />
          <spiffworkflow:property name="candidateGroups" value="agents" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="report" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def open_as(browser: Browser, demo_server) -> Iterator:  # noqa: ANN001
    """``open_as(username)``: a signed-in page and the list its CSP violations go to."""
    contexts = []

    def open_page(username: str) -> tuple[Page, list[str]]:
        context = browser.new_context(base_url=demo_server.url)
        context.set_default_timeout(15_000)
        context.add_init_script(REPORT_ON_VIOLATION)
        contexts.append(context)
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: "CSP violation" in m.text and violations.append(m.text))
        log_in(page, username)
        return page, violations

    yield open_page
    for context in contexts:
        context.close()


def test_the_inbox_and_its_htmx_requests_run_unblocked(open_as) -> None:  # noqa: ANN001
    page, violations = open_as("agent")
    page.goto("/tasks")
    page.goto("/calls/incoming?phone=13800000000")
    expect(page.locator("h1")).to_be_visible()
    assert violations == []


def test_a_task_form_with_a_signature_pad_runs_unblocked(open_as, db) -> None:  # noqa: ANN001
    execute(db, Deploy([("csp_signature.bpmn", SIGNATURE_PROCESS.encode())]), SYSTEM_ACTOR)
    instance = execute(db, StartInstance("csp_signature"), SYSTEM_ACTOR)
    task_id = db.scalar(sa.select(HumanTask.id).where(HumanTask.instance_id == instance.id))
    page, violations = open_as("agent")
    page.goto(f"/tasks/{task_id}")
    page.get_by_role("button", name="认领").click()
    draw_signature(page)
    signature = page.locator("input[name=customer_signature]")
    expect(signature).to_have_value(re.compile(r"^data:image/png;base64,"))
    assert violations == []


def test_the_modeler_runs_unblocked(open_as) -> None:  # noqa: ANN001
    page, violations = open_as("designer")
    page.goto("/definitions/demo_service_request/edit")
    expect(page.locator("[data-modeler]")).to_have_attribute("data-modeler-ready", "true")
    page.locator(".djs-element[data-element-id]").first.click()
    assert violations == []


def test_a_definitions_diagram_with_its_overlays_runs_unblocked(open_as) -> None:  # noqa: ANN001
    page, violations = open_as("manager")
    page.goto("/definitions/demo_service_request")
    expect(page.locator("[data-bpmn-diagram][data-diagram-ready=true]").first).to_be_visible()
    assert violations == []


def test_the_decision_table_editor_runs_unblocked(open_as, db) -> None:  # noqa: ANN001
    key = db.scalar(sa.select(ProcessDefinition.key).where(ProcessDefinition.kind == "dmn"))
    page, violations = open_as("designer")
    page.goto(f"/decisions/{key}/edit")
    expect(page.locator("[data-dmn-editor]")).to_have_attribute("data-editor-ready", "true")
    assert violations == []


def test_the_decision_table_editor_speaks_chinese(open_as, db) -> None:  # noqa: ANN001
    key = db.scalar(sa.select(ProcessDefinition.key).where(ProcessDefinition.kind == "dmn"))
    page, _violations = open_as("designer")
    page.goto(f"/decisions/{key}/edit")
    editor = page.locator("[data-dmn-editor]")
    expect(editor).to_have_attribute("data-editor-ready", "true")
    expect(editor.locator(".tjs-container")).to_contain_text("命中策略")
    expect(editor.locator(".tjs-container")).not_to_contain_text("Hit policy")


def test_the_form_editor_and_its_htmx_preview_run_unblocked(open_as) -> None:  # noqa: ANN001
    page, violations = open_as("designer")
    page.goto("/admin/forms/work_report")
    expect(page.locator("[data-form-preview] [data-field=customer_signature]")).to_be_visible()
    page.locator("#preview-locale").select_option("en")
    expect(page.locator("[data-form-preview]")).to_contain_text("Customer signature")
    assert violations == []


def test_a_blocked_inline_script_would_be_reported(open_as) -> None:  # noqa: ANN001
    """The check itself works: an inline script added to a page is blocked and reported."""
    page, violations = open_as("agent")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ran = true'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.ran === true") is False
    assert violations and "script-src" in violations[0]
