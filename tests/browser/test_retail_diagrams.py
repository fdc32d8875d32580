"""The retail entries' processes draw: each file's diagram (bpmndi) section is what bpmn-js
shows on the definition's page, with the department's task, its deadline timer, the lead's
chase and the agent's callback (the processes are data only: bpmn/*.bpmn)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.aftersales.world import RETAIL_TYPES, ROOT

from .test_monitoring_diagram import READY, shape
from .test_service_request_flow import log_in

ELEMENTS = ("start", "department", "department_overdue", "chase_department", "call_back", "close")


@pytest.mark.parametrize("key", RETAIL_TYPES)
def test_the_definition_page_draws_the_whole_process(page: Page, demo_server, key: str) -> None:  # noqa: ANN001
    log_in(page, "manager")
    page.goto(f"/definitions/{key}")
    diagram = page.locator("[data-definition-diagram] [data-bpmn-diagram]")
    expect(diagram).to_have_attribute("data-diagram-ready", "true")
    expect(diagram.locator("[data-diagram-message]")).to_be_hidden()
    for element in ELEMENTS:
        expect(shape(page, element)).to_be_visible()
    # every sequence flow of the file is drawn
    flows = (ROOT / "bpmn" / f"{key}.bpmn").read_text("utf-8").count("<bpmn:sequenceFlow ")
    expect(page.locator(f"{READY} g.djs-connection")).to_have_count(flows)
