"""Process monitoring's diagrams in a real browser, as a manager reads them.

bpmn-js (webapp/static/vendor/bpmn-js) draws the deployed BPMN file and static/js/diagram.js
lays monitoring over it: on an order's page the shape of its current step gets the class
``csm-current`` and the steps it passed ``csm-done``; on a definition's page each activity where
instances wait carries a token badge (a bpmn-js overlay: ``.djs-overlays[data-container-id=ID]
.djs-overlay [data-badge=tokens]``) whose count is the one in the page's activities table. An
agent, who does not monitor processes, has no 流程监控 link and is refused its pages.

The demo (``bare()`` size) is loaded as in test_service_request_flow: DEMO-0001 waits for the
customer callback, DEMO-0003 for the Tianhe outlet's visit. Other browser tests start more
instances of the same process, so counts are read from the page, not fixed here.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect
from sqlalchemy.orm import Session

from engine.models import ProcessInstance

from .test_service_request_flow import log_in

PROCESS_KEY = "demo_service_request"
READY = "[data-bpmn-diagram][data-diagram-ready=true]"


def shape(page: Page, bpmn_id: str) -> Locator:
    """The drawn shape of one BPMN element (bpmn-js renders each as a ``g.djs-element``)."""
    return page.locator(f'{READY} g.djs-element[data-element-id="{bpmn_id}"]')


def token_badge(page: Page, bpmn_id: str) -> Locator:
    """The token count bpmn-js overlays on one activity of the diagram."""
    return page.locator(
        f'{READY} .djs-overlays[data-container-id="{bpmn_id}"] .djs-overlay [data-badge=tokens]'
    )


def has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def demo_instance(db: Session, business_key: str) -> ProcessInstance:
    instance = db.scalar(
        sa.select(ProcessInstance).where(ProcessInstance.business_key == business_key)
    )
    assert instance is not None, f"the demo has no {business_key}"
    return instance


def test_order_page_marks_the_current_step_on_the_diagram(page: Page, db: Session) -> None:
    instance = demo_instance(db, "DEMO-0001")
    assert instance.process_key == PROCESS_KEY
    current = list(instance.current_activities)
    assert current, "DEMO-0001 should be waiting somewhere"

    log_in(page, "manager")
    # a manager monitors processes: the agent's missing link is there for them
    monitoring = page.get_by_role("navigation", name="主导航").get_by_role("link", name="流程监控")
    expect(monitoring).to_have_attribute("href", "/definitions")
    page.goto(f"/instances/{instance.id}")
    diagram = page.locator("[data-instance-diagram] [data-bpmn-diagram]")
    expect(diagram).to_have_attribute("data-diagram-ready", "true")
    expect(diagram.locator("[data-diagram-message]")).to_be_hidden()
    expect(diagram.get_by_role("img", name=f"{PROCESS_KEY} 的流程图及本实例的路径")).to_be_visible()

    for bpmn_id in current:
        expect(shape(page, bpmn_id)).to_have_class(has_class("csm-current"))
        expect(shape(page, bpmn_id)).not_to_have_class(has_class("csm-done"))
    start = shape(page, "start")
    expect(start).to_be_visible()
    expect(start).to_have_class(has_class("csm-done"))
    expect(start).not_to_have_class(has_class("csm-current"))
    # only the current step is marked current
    expect(page.locator(f"{READY} g.djs-element.csm-current")).to_have_count(len(current))


BOUNDARY_TIMER = "visit_overdue"  # the 48-hour timer on the visit


def test_definition_page_shows_waiting_tokens_on_the_diagram(page: Page, db: Session) -> None:
    waiting = {
        bpmn_id
        for key in ("DEMO-0001", "DEMO-0003")
        for bpmn_id in demo_instance(db, key).current_activities
        if bpmn_id != BOUNDARY_TIMER  # waits with its activity: no token of its own
    }
    assert waiting, "the demo instances should be waiting somewhere"

    log_in(page, "manager")
    page.goto(f"/definitions/{PROCESS_KEY}")
    expect(page.locator("[data-definition-diagram] [data-bpmn-diagram]")).to_have_attribute(
        "data-diagram-ready", "true"
    )
    rows = page.locator("table[data-activities] tr[data-activity]")
    expect(rows.first).to_be_visible()
    tokens = {
        row.get_attribute("data-activity"): int(row.locator("[data-tokens]").inner_text())
        for row in rows.all()
    }
    # where the demo instances wait, the table counts them...
    assert all(tokens.get(a, 0) > 0 for a in waiting), (waiting, tokens)
    # ...and the diagram carries the same count on that activity's shape
    for activity in sorted(waiting):
        expect(shape(page, activity)).to_be_visible()
        badge = token_badge(page, activity)
        expect(badge).to_be_visible()
        expect(badge).to_have_text(str(tokens[activity]))
        expect(badge).to_have_attribute("title", "当前令牌")
    # one badge per activity holding tokens; the start event holds none
    expect(page.locator(f"{READY} .djs-overlay [data-badge=tokens]")).to_have_count(
        sum(1 for n in tokens.values() if n)
    )
    expect(token_badge(page, "start")).to_have_count(0)
    expect(token_badge(page, BOUNDARY_TIMER)).to_have_count(0)


def test_agent_has_no_monitoring(page: Page, demo_server) -> None:  # noqa: ANN001
    log_in(page, "agent")
    navigation = page.get_by_role("navigation", name="主导航")
    expect(navigation.get_by_role("link", name="任务", exact=True)).to_be_attached()
    expect(navigation.get_by_role("link", name="工单", exact=True)).to_be_attached()
    expect(navigation.get_by_role("link", name="流程监控")).to_have_count(0)
    expect(page.locator("a[href='/definitions']")).to_have_count(0)

    response = page.goto("/definitions")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权操作")
    expect(page.get_by_text("您无权执行此操作。")).to_be_visible()
    expect(page.locator("[data-bpmn-diagram]")).to_have_count(0)
