"""Knowledge-base suggestions on the caller page, for a fault description as long as callers
dictate them.

The request form asks ``/kb/suggest`` for articles while the agent types (htmx). A description
of 480 Chinese characters is some 4,300 bytes once percent-encoded; sent in a query string it
outgrew the request line that gunicorn (or a proxy) accepts and the suggestions answered 414.
The form now posts it, with the CSRF header htmx sends, so the URL stays short whatever is
typed and the suggestions appear.
"""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from aftersales.customers.models import CustomerPhone
from aftersales.customers.service import create_customer
from aftersales.knowledge import service as knowledge
from aftersales.knowledge.models import KbArticle
from engine.identity import Actor

from .test_service_request_flow import log_in

PHONE = "13900004801"
STORY = "客户说昨天晚上开始滴水，地板湿了一片，已经关机，希望师傅尽快上门看看。"


def description(length: int) -> str:
    """The fault first, then the caller's story, ``length`` characters in all."""
    return ("空调内机漏水，" + STORY * (length // len(STORY) + 1))[:length]


def caller_and_article(db: Session) -> int:
    """A caller to look up by phone and the article that answers a leaking indoor unit."""
    if not db.scalar(sa.select(CustomerPhone.id).where(CustomerPhone.phone == PHONE)):
        create_customer(
            db,
            name="漏水客户",
            phone=PHONE,
            address={"province": "广东省", "city": "广州市", "district": "天河区"},
        )
    title = "空调内机漏水怎么办"
    found = db.scalar(sa.select(KbArticle.id).where(KbArticle.title == title))
    if found:
        return found
    article = knowledge.save_article(
        db,
        title=title,
        body="多为排水管堵塞或倾斜：清理排水管，检查内机是否水平。",
        category="空调",
        actor=Actor("admin", is_admin=True),
    )
    db.commit()
    return article.id


def test_suggestions_appear_for_a_480_character_description(page: Page, db: Session) -> None:
    article_id = caller_and_article(db)
    log_in(page, "agent")
    page.goto(f"/calls/incoming?phone={PHONE}")
    form = page.locator("form[data-kb-model]")
    typed = form.get_by_label("描述")
    expect(typed).to_be_visible()

    with page.expect_response(lambda r: "/kb/suggest" in r.url) as answered:
        typed.fill(description(480))
    response = answered.value
    assert response.status == 200, response.status
    assert response.request.method == "POST"
    assert "description" not in response.url  # the text travels in the body
    suggestions = page.locator("[data-kb-suggestions]")
    expect(suggestions.locator(f'[data-kb-result="{article_id}"]')).to_be_visible()
    expect(suggestions.get_by_role("link", name="空调内机漏水怎么办")).to_be_visible()


def test_suggestions_appear_for_a_4000_character_description(page: Page, db: Session) -> None:
    article_id = caller_and_article(db)
    log_in(page, "agent")
    page.goto(f"/calls/incoming?phone={PHONE}")
    typed = page.locator("form[data-kb-model]").get_by_label("描述")
    with page.expect_response(lambda r: "/kb/suggest" in r.url) as answered:
        typed.fill(description(4000))  # the field's maxlength
    assert answered.value.status == 200
    assert answered.value.request.method == "POST"
    expect(page.locator(f'[data-kb-suggestions] [data-kb-result="{article_id}"]')).to_be_visible()
