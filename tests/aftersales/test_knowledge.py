"""The knowledge base: Chinese search through the inverted index, ranking, models, editing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from aftersales.knowledge import service as knowledge
from aftersales.knowledge.models import KbArticle, KbCategory, KbTerm
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity import Actor

EDITOR = Actor("editor", roles=frozenset({"knowledge_editor"}))
AGENT = Actor("agent", frozenset({"agents"}), roles=frozenset({"agent"}))


def add(session, title, body="检查电源和设置。", category="空调", models=(), **kw) -> KbArticle:  # noqa: ANN001
    article = knowledge.save_article(
        session, title=title, body=body, category=category, models=models, actor=EDITOR, **kw
    )
    session.commit()
    return article


def titles(found) -> list[str]:  # noqa: ANN001
    return [article.title for article, _score in found]


def test_a_search_for_bu_zhi_leng_finds_the_article_about_it(session):
    add(session, "空调不制冷怎么办", "先检查遥控器是否设为制冷模式，再清洗滤网。")
    add(session, "洗衣机不排水", "检查排水管是否堵塞。", category="洗衣机")
    assert titles(knowledge.search(session, "不制冷")) == ["空调不制冷怎么办"]


def test_a_title_hit_ranks_above_a_body_hit(session):
    add(session, "冰箱门关不严", "门封条老化时冰箱不制冷，需要更换门封条。", category="冰箱")
    add(session, "冰箱不制冷", "检查温控器设置和压缩机运转。", category="冰箱")
    found = knowledge.search(session, "不制冷")
    assert titles(found) == ["冰箱不制冷", "冰箱门关不严"]
    assert found[0][1] > found[1][1]


def test_ties_go_to_the_article_that_solved_more_calls(session):
    first = add(session, "热水器不加热", "检查电源。", category="热水器")
    second = add(session, "热水器不加热", "检查电源。", category="热水器")
    knowledge.mark_solved(session, second.id)
    session.commit()
    assert [a.id for a, _s in knowledge.search(session, "不加热")] == [second.id, first.id]


def test_single_characters_and_stop_words_find_nothing(session):
    add(session, "空调不制冷怎么办")
    assert knowledge.search(session, "怎么办") == []
    assert knowledge.search(session, "不") == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "，。！"])
def test_an_empty_query_finds_nothing(session, text):
    add(session, "空调不制冷怎么办")
    assert knowledge.search(session, text) == []


def test_a_model_boosts_its_articles_and_leaves_out_other_models(session):
    add(session, "空调制冷效果差", "清洗滤网。")
    add(session, "空调制冷效果差", "补充冷媒。", models=["KFR-35GW"])
    other = add(session, "空调制冷效果差", "更换电容。", models=["KFR-72LW"])
    found = knowledge.search(session, "制冷效果差", model="kfr-35gw")
    assert [a.body for a, _s in found] == ["补充冷媒。", "清洗滤网。"]
    assert other.id not in {a.id for a, _s in found}
    # without a model every article is found
    assert len(knowledge.search(session, "制冷效果差")) == 3


def test_a_model_code_in_the_query_finds_its_articles(session):
    add(session, "外机不转", "检查电容。", models=["KFR-35GW"])
    add(session, "外机不转", "检查电容。", models=["KFR-72LW"])
    found = knowledge.search(session, "KFR-35GW 外机不转")
    assert found[0][0].models == ["KFR-35GW"]


def test_suggest_searches_the_description_boosted_by_the_model(session):
    add(session, "空调漏水", "排水管堵塞。")
    add(session, "空调漏水", "内机安装倾斜。", models=["KFR-35GW"])
    found = knowledge.suggest(session, "KFR-35GW", "空调内机漏水，滴到地上")
    assert [a.body for a, _s in found] == ["内机安装倾斜。", "排水管堵塞。"]
    # no description: the model's articles that solved most calls
    assert [a.body for a, _s in knowledge.suggest(session, "KFR-35GW", "")] == ["内机安装倾斜。"]
    assert knowledge.suggest(session, None, "") == []


def test_deactivated_articles_are_not_found(session):
    article = add(session, "空调不制冷怎么办")
    knowledge.deactivate(session, article.id, actor=EDITOR)
    session.commit()
    assert knowledge.search(session, "不制冷") == []
    assert session.scalar(sa.select(sa.func.count()).select_from(KbTerm)) == 0
    knowledge.activate(session, article.id, actor=EDITOR)
    session.commit()
    assert titles(knowledge.search(session, "不制冷")) == ["空调不制冷怎么办"]


def test_saving_again_replaces_the_words(session):
    article = add(session, "空调不制冷怎么办", "清洗滤网。")
    add(session, "燃气灶不点火", "检查电池。", category="厨电", article_id=article.id)
    assert knowledge.search(session, "不制冷") == []
    assert knowledge.search(session, "滤网") == []
    assert titles(knowledge.search(session, "不点火")) == ["燃气灶不点火"]
    assert session.get(KbArticle, article.id).category.name == "厨电"


def test_a_category_is_created_on_first_use_and_found_by_search(session):
    add(session, "滚筒噪音大", "检查地脚。", category="洗衣机")
    add(session, "波轮不脱水", "检查衣物是否放平。", category="洗衣机")
    assert session.scalar(sa.select(sa.func.count()).select_from(KbCategory)) == 1
    assert len(knowledge.search(session, "洗衣机")) == 2
    assert [(c.name, n) for c, n in knowledge.categories(session)] == [("洗衣机", 2)]


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": ""}, "title"),
        ({"title": "  "}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"body": ""}, "body"),
        ({"body": "字" * 20001}, "body"),
        ({"category": "类" * 81}, "category"),
        ({"models": ["X" * 41]}, "models"),
        ({"title": 5}, "title"),
    ],
)
def test_invalid_articles_are_refused_with_the_field(session, fields, bad):
    values = {"title": "标题", "body": "内容", "category": "空调", **fields}
    with pytest.raises(InvalidInput) as caught:
        knowledge.save_article(session, **values, actor=EDITOR)
    assert bad in caught.value.details


def test_only_editors_and_administrators_write(session):
    with pytest.raises(Forbidden):
        knowledge.save_article(session, title="t", body="b", category="c", actor=AGENT)
    admin = Actor("admin", is_admin=True)
    assert knowledge.save_article(session, title="t", body="b", category="", actor=admin).id


def test_mark_solved_counts_and_an_unknown_article_is_not_found(session):
    article = add(session, "空调不制冷怎么办")
    knowledge.mark_solved(session, article.id)
    knowledge.mark_solved(session, article.id)
    session.commit()
    session.expire_all()
    assert session.get(KbArticle, article.id).solved_count == 2
    with pytest.raises(NotFound):
        knowledge.mark_solved(session, 999999)


def test_the_words_of_a_text():
    assert "制冷" in knowledge.words("空调不制冷怎么办")
    assert "不" not in knowledge.words("空调不制冷怎么办")
    assert "怎么办" not in knowledge.words("空调不制冷怎么办")
    assert "kfr-35gw" in knowledge.words("ＫＦＲ-35GW 外机")


def test_an_excerpt_shows_the_body_around_the_first_hit(session):
    body = "前言。" * 60 + "如果空调不制冷，请先检查滤网。"
    article = add(session, "空调常见问题", body)
    piece = knowledge.excerpt(article, "不制冷")
    assert "不制冷" in piece and piece.startswith("…")
    assert knowledge.excerpt(article).startswith("前言。")
