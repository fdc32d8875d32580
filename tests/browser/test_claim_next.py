"""The inbox's "claim and open the next" in a real browser.

An agent signs in (landing on the caller page), goes to the inbox and, with one click, has
the best task of the agents' queue claimed and open with its form; a colleague clicking in
their own browser at the same moment is given the other waiting task, never the same one;
the next click finds nothing left and says so. The module claims the demo's callbacks, so it
runs against a server and database of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from engine.db import make_engine, make_session_factory
from engine.models import HumanTask

from .conftest import LiveServer, serve
from .test_service_request_flow import log_in

CLAIM_NEXT = "认领并打开下一个"
TASK_PAGE = re.compile(r"/tasks/[0-9a-f-]{36}$")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory, "live-server-claim-next", demo=True) as server:
        yield server


def assignees(live_server: LiveServer) -> dict[str, str | None]:
    engine = make_engine(live_server.database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.execute(
                sa.select(HumanTask.id, HumanTask.assignee).where(
                    HumanTask.name == "callback", HumanTask.status == "open"
                )
            )
            return {task_id: assignee for task_id, assignee in rows}
    finally:
        engine.dispose()


def to_inbox(page: Page) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role(
        "link", name="任务", exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"/tasks$"))


def signed_in(browser: Browser, live_server: LiveServer, username: str) -> Page:
    """A browser of the user's own, signed in and on the inbox."""
    page = browser.new_context(base_url=live_server.url).new_page()
    page.context.set_default_timeout(10_000)
    log_in(page, username)
    to_inbox(page)
    return page


def test_two_agents_clicking_at_once_each_get_a_task_of_their_own(
    browser: Browser, live_server: LiveServer, page: Page
) -> None:
    waiting = assignees(live_server)
    assert len(waiting) == 2 and set(waiting.values()) == {None}  # the demo's two callbacks

    log_in(page, "agent")
    to_inbox(page)
    colleague = signed_in(browser, live_server, "agent2")
    late = signed_in(browser, live_server, "lead")  # the team lead's inbox is open as well
    try:
        mine = page.get_by_role("button", name=CLAIM_NEXT)
        theirs = colleague.get_by_role("button", name=CLAIM_NEXT)
        mine.click(no_wait_after=True)  # both posts are under way before either answers
        theirs.click(no_wait_after=True)
        expect(page).to_have_url(TASK_PAGE)
        expect(colleague).to_have_url(TASK_PAGE)
        for opened in (page, colleague):
            expect(opened.get_by_role("status")).to_have_text("您已认领该任务。")
            expect(opened.locator("form[data-task-form]")).to_be_visible()
        mine_id = page.url.rsplit("/", 1)[1]
        theirs_id = colleague.url.rsplit("/", 1)[1]
        assert mine_id != theirs_id
        assert assignees(live_server) == {mine_id: "agent", theirs_id: "agent2"}

        # the team lead clicks on the page loaded before: nothing is left, and it says so
        late.get_by_role("button", name=CLAIM_NEXT).click()
        expect(late).to_have_url(re.compile(r"/tasks\?list=group$"))
        expect(late.get_by_role("status")).to_have_text("没有可认领的任务了。")
        expect(late.get_by_role("button", name=CLAIM_NEXT)).to_have_count(0)
    finally:
        colleague.context.close()
        late.context.close()
