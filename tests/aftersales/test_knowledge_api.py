"""GET/POST /api/v1/kb/articles: search best first, one article, new articles by editors."""

from __future__ import annotations

from aftersales.knowledge import service as knowledge
from engine.identity import upsert_user


def _make_editor(api) -> None:  # noqa: ANN001
    with api.env.session_factory() as session:
        upsert_user(session, username="agent2", roles=["agent", "knowledge_editor"])
        session.commit()


def _create(api, user="admin", **fields):  # noqa: ANN001, ANN202
    body = {"title": "空调不制冷怎么办", "body": "先检查滤网。", "category": "空调", **fields}
    return api.post("/kb/articles", user, json=body)


def test_an_editor_creates_an_article_and_agents_find_it(api):
    _make_editor(api)
    response = _create(api, "agent2", models=["KFR-35GW"])
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["title"] == "空调不制冷怎么办"
    assert created["models"] == ["KFR-35GW"]
    body = api.get("/kb/articles?q=不制冷", "agent").get_json()
    assert [i["title"] for i in body["items"]] == ["空调不制冷怎么办"]
    item = body["items"][0]
    assert {"id", "title", "category", "excerpt", "score", "models"} <= set(item)
    assert item["category"] == "空调" and item["score"] > 0
    one = api.get(f"/kb/articles/{created['id']}", "agent").get_json()
    assert one["body"] == "先检查滤网。"


def test_search_answers_best_first_and_filters_by_model(api):
    _create(api, title="冰箱门关不严", body="门封条老化会导致冰箱不制冷。", category="冰箱")
    _create(api, title="冰箱不制冷", body="检查温控器。", category="冰箱")
    _create(api, title="空调不制冷", body="检查滤网。", models=["KFR-72LW"])
    items = api.get("/kb/articles?q=不制冷", "agent").get_json()["items"]
    assert [i["title"] for i in items][:2] == ["冰箱不制冷", "空调不制冷"]
    items = api.get("/kb/articles?q=不制冷&model=KFR-35GW", "agent").get_json()["items"]
    assert [i["title"] for i in items] == ["冰箱不制冷", "冰箱门关不严"]


def test_an_empty_query_answers_no_items(api):
    _create(api)
    for query in ("", "?q=", "?q=%20%20"):
        response = api.get(f"/kb/articles{query}", "agent")
        assert (response.status_code, response.get_json()) == (200, {"items": []})


def test_a_plain_agent_may_not_create(api):
    response = _create(api, "agent")
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_an_empty_title_is_invalid_with_the_field(api):
    response = _create(api, title="")
    assert response.status_code == 422
    assert "title" in response.get_json()["details"]
    response = _create(api, colour="red")
    assert response.status_code == 422


def test_an_unknown_article_is_not_found_and_search_needs_a_token(api):
    assert api.get("/kb/articles/424242", "agent").status_code == 404
    assert api.client.get("/api/v1/kb/articles?q=x").status_code == 401


def test_the_openapi_document_lists_the_kb_paths(api):
    paths = api.client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/kb/articles"])
    assert "get" in paths["/kb/articles/{id}"]


def _deactivate(api, article_id: int) -> None:  # noqa: ANN001
    with api.env.session_factory() as session:
        knowledge.deactivate(session, article_id, actor=api.env.actors["admin"])
        session.commit()


def test_a_deactivated_article_is_out_of_search_and_not_found_by_id(api):
    kept = _create(api, title="冰箱不制冷", body="检查温控器。").get_json()
    gone = _create(api).get_json()
    _deactivate(api, gone["id"])
    items = api.get("/kb/articles?q=不制冷", "agent").get_json()["items"]
    assert [i["id"] for i in items] == [kept["id"]]
    response = api.get(f"/kb/articles/{gone['id']}", "agent")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_an_editor_still_reads_a_deactivated_article_by_id_as_in_the_ui(api):
    _make_editor(api)
    gone = _create(api).get_json()
    _deactivate(api, gone["id"])
    body = api.get(f"/kb/articles/{gone['id']}", "agent2").get_json()
    assert (body["id"], body["active"]) == (gone["id"], False)
    assert api.get("/kb/articles?q=不制冷", "agent2").get_json()["items"] == []
