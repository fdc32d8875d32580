"""The knowledge-base pages: search with excerpts, reading, and the editor for editors only."""

from __future__ import annotations

import re

from aftersales.knowledge import service as knowledge
from engine.identity import Actor, upsert_user

from . import pages
from .pages import World, post, text

world = pages.world  # the fixture: the demo world on SQLite and PostgreSQL

EDITOR = Actor("admin", is_admin=True)


def _article(world: World, title: str, body: str, **kw: object) -> int:
    with world.session_factory() as session:
        article = knowledge.save_article(
            session, title=title, body=body, category="空调", actor=EDITOR, **kw
        )
        session.commit()
        return article.id


def _make_editor(world: World, username: str = "agent2") -> None:
    with world.session_factory() as session:
        upsert_user(session, username=username, roles=["agent", "knowledge_editor"])
        session.commit()


def test_the_search_page_shows_results_with_excerpts(world: World) -> None:
    article_id = _article(world, "空调不制冷怎么办", "先检查遥控器模式，再清洗滤网。")
    _article(world, "洗衣机不排水", "检查排水管。")
    page = text(world.client("agent").get("/kb?q=不制冷"))
    assert re.findall(r'data-kb-result="(\d+)"', page) == [str(article_id)]
    assert "空调不制冷怎么办" in page and "清洗滤网" in page
    assert "知识库" in page  # Chinese by default; the nav link
    assert "新建知识" not in page  # agents do not edit
    page = text(world.client("agent").get("/kb?q=怎么办"))
    assert "data-kb-empty" in page


def test_the_search_page_lists_categories_and_reads_an_article(world: World) -> None:
    article_id = _article(world, "空调不制冷怎么办", "第一段。\n第二段。")
    client = world.client("agent")
    page = text(client.get("/kb"))
    assert "空调" in page and f'data-kb-result="{article_id}"' in page
    page = text(client.get(f"/kb/articles/{article_id}"))
    assert "<p>第一段。</p>" in page and "<p>第二段。</p>" in page
    assert client.get("/kb/articles/999999").status_code == 404


def test_the_editor_is_forbidden_to_agents(world: World) -> None:
    article_id = _article(world, "空调不制冷怎么办", "检查滤网。")
    client = world.client("agent")
    assert client.get("/kb/articles/new").status_code == 403
    assert client.get(f"/kb/articles/{article_id}/edit").status_code == 403
    response = post(client, "/kb/articles/new", {"title": "x", "body": "y", "category": "z"})
    assert response.status_code == 403


def test_a_knowledge_editor_creates_and_edits_an_article_through_the_pages(world: World) -> None:
    _make_editor(world)
    client = world.client("agent2")
    page = text(client.get("/kb/articles/new"))
    assert 'name="csrf_token"' in page
    response = post(
        client,
        "/kb/articles/new",
        {
            "title": "热水器不加热",
            "body": "检查电源和温控器。",
            "category": "热水器",
            "models": "JSQ-20",
        },
    )
    assert response.status_code == 302, text(response)
    article_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = text(client.get(f"/kb/articles/{article_id}"))
    assert "知识已保存。" in page and "JSQ-20" in page
    response = post(
        client,
        f"/kb/articles/{article_id}/edit",
        {"title": "燃气灶不点火", "body": "检查电池。", "category": "厨电", "active": "true"},
    )
    assert response.status_code == 302
    page = text(client.get("/kb?q=不加热"))
    assert "data-kb-empty" in page
    page = text(client.get("/kb?q=不点火"))
    assert f'data-kb-result="{article_id}"' in page


def test_an_empty_title_shows_the_field_error(world: World) -> None:
    _make_editor(world)
    client = world.client("agent2")
    response = post(client, "/kb/articles/new", {"title": "", "body": "内容", "category": ""})
    assert response.status_code == 422
    block = pages.field_block(text(response), "title")
    assert "标题为 1 到 200 个字符。" in block and 'aria-invalid="true"' in block


def test_an_inactive_article_is_not_found_by_search(world: World) -> None:
    article_id = _article(world, "空调不制冷怎么办", "检查滤网。")
    client = world.client("admin")
    response = post(
        client,
        f"/kb/articles/{article_id}/edit",
        {"title": "空调不制冷怎么办", "body": "检查滤网。", "category": "空调", "active": "false"},
    )
    assert response.status_code == 302
    assert "data-kb-empty" in text(client.get("/kb?q=不制冷"))
    assert world.client("agent").get(f"/kb/articles/{article_id}").status_code == 404


def test_suggestions_for_a_request(world: World) -> None:
    _article(world, "空调漏水", "排水管堵塞。")
    page = text(world.client("agent").get("/kb/suggest?model=KFR-35GW&description=内机漏水"))
    assert "data-kb-suggestions" in page and "空调漏水" in page


def _long_description(length: int) -> str:
    """A fault description as callers dictate it: the fault first, then the story, ``length``
    characters in all (nine bytes each once percent-encoded in a URL)."""
    story = "客户说昨天晚上开始滴水，地板湿了一片，已经关机，希望师傅尽快上门看看。"
    text = "空调内机漏水，" + story * (length // len(story) + 1)
    return text[:length]


def _suggest_by_post(world: World, description: str, **headers: str):  # noqa: ANN202
    """The request form's suggestion request: a form post with the CSRF header htmx sends."""
    client = world.client("agent")
    return client.post(
        "/kb/suggest",
        data={"model": "KFR-35GW", "description": description},
        headers={"X-CSRFToken": pages.csrf(client, "/nowhere"), **headers},
    )


def test_suggestions_for_a_480_character_description_are_posted_and_found(world: World) -> None:
    article_id = _article(world, "空调漏水", "排水管堵塞。")
    description = _long_description(480)
    response = _suggest_by_post(world, description)
    assert response.status_code == 200
    assert f'data-kb-result="{article_id}"' in text(response)


def test_suggestions_for_a_4000_character_description_search_its_start(world: World) -> None:
    article_id = _article(world, "空调漏水", "排水管堵塞。")
    response = _suggest_by_post(world, _long_description(4000))
    assert response.status_code == 200
    assert f'data-kb-result="{article_id}"' in text(response)


def test_a_suggestion_post_without_the_csrf_token_is_refused(world: World) -> None:
    _article(world, "空调漏水", "排水管堵塞。")
    response = world.client("agent").post(
        "/kb/suggest", data={"model": "KFR-35GW", "description": "内机漏水"}
    )
    assert response.status_code == 400
    assert "data-kb-suggestions" not in response.get_data(as_text=True)


def test_short_suggestions_still_answer_a_get_with_the_old_parameter_names(world: World) -> None:
    article_id = _article(world, "空调漏水", "排水管堵塞。")
    client = world.client("agent")
    page = text(client.get("/kb/suggest?product_model=KFR-35GW&fault_description=内机漏水"))
    assert f'data-kb-result="{article_id}"' in page
