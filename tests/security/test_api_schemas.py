"""Requests are checked against the declared schemas before any view runs, and the OpenAPI
document is generated from the same declarations, so it lists every route and every answer.

A malformed request answers a documented 4xx naming each bad field, and changes nothing.
"""

from __future__ import annotations

import json
import re
import time

import pytest
import sqlalchemy as sa

from aftersales.knowledge import service as knowledge
from aftersales.knowledge.models import KbArticle
from engine.models import ProcessInstance
from webapp.api.declare import JSON_BODY_MAX

ARTICLE = {"title": "空调不制冷怎么办", "body": "先检查滤网。", "category": "空调"}


def _count(api, table) -> int:  # noqa: ANN001
    with api.env.session_factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(table))


@pytest.fixture(scope="module")
def document() -> dict:
    """The document as served; it needs no database, only the routes' declarations."""
    from webapp import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": False,
        }
    )
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return {"app": app, "doc": response.get_json()}


# --- requests outside their schema ----------------------------------------------------------


def test_an_unknown_field_answers_422_naming_it_and_creates_nothing(api):
    response = api.post("/kb/articles", json={**ARTICLE, "colour": "red"})
    assert response.status_code == 422
    assert response.get_json()["details"] == {"colour": "unknown field"}
    assert _count(api, KbArticle) == 0


def test_an_oversized_field_answers_422_without_echoing_it(api):
    response = api.post("/kb/articles", json={**ARTICLE, "title": "长" * 201})
    assert response.status_code == 422
    assert response.get_json()["details"] == {"title": "at most 200 characters"}
    assert "长长" not in response.get_data(as_text=True)
    assert _count(api, KbArticle) == 0


def test_a_wrong_typed_field_answers_422_naming_it_and_starts_nothing(api):
    api.deploy("exclusive.bpmn")
    response = api.post("/process-instances", json={"process_key": "exclusive", "version": "1"})
    assert response.status_code == 422
    assert response.get_json()["details"] == {"version": "must be a whole number or null"}
    assert _count(api, ProcessInstance) == 0


def test_every_bad_field_of_a_request_is_named_with_its_path(api):
    response = api.post(
        "/orders",
        "agent",
        json={
            "type": "Magic!",
            "customer": {"name": "", "phone": 13800138000, "address": {"planet": "Mars"}},
            "serial": ["SN-1"],
        },
    )
    assert response.status_code == 422
    assert response.get_json()["details"] == {
        "type": "is not of the expected form",
        "customer.name": "required",
        "customer.phone": "must be text",
        "customer.address.planet": "unknown field",
        "serial": "must be text or null",
    }


def test_a_missing_required_field_is_named(api):
    response = api.post("/messages", json={"variables": {}})
    assert response.status_code == 422
    assert response.get_json()["details"] == {"name": "required"}


def test_a_body_that_is_not_an_object_is_invalid(api):
    response = api.post("/messages", json=["name"])
    assert response.status_code == 422
    assert response.get_json()["details"] == {"body": "must be a JSON object"}


def test_a_query_parameter_outside_its_schema_answers_422_naming_it(api):
    response = api.get("/tasks?per_page=201&status=lost&page=x")
    assert response.status_code == 422
    assert response.get_json()["details"] == {
        "page": "must be a whole number",
        "per_page": "at most 200",
        "status": "one of open, completed",
    }


def test_a_path_parameter_outside_its_schema_names_nothing(api):
    assert api.get("/tasks/" + "a" * 37).status_code == 404
    assert api.post("/tasks/not%20an%20id/claim").status_code == 404
    assert api.get("/orders/R-1").status_code == 404


def test_a_request_without_a_token_is_refused_before_its_body_is_read(api):
    response = api.client.post("/api/v1/kb/articles", json={"colour": "red"})
    assert response.status_code == 401


def test_a_body_over_its_size_limit_answers_413_and_creates_nothing(api):
    body = json.dumps({**ARTICLE, "body": "x" * JSON_BODY_MAX})
    response = api.post("/kb/articles", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
    assert _count(api, KbArticle) == 0


def test_a_body_that_is_not_json_answers_415_or_400(api):
    response = api.post(
        "/messages", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    response = api.post("/messages", data="{name", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "raw",
    ['{"name": "a\\u0000b"}', '{"name": "\\ud800"}', '{"name": "m", "variables": {"x": NaN}}'],
    ids=["nul", "lone-surrogate", "nan"],
)
def test_text_and_numbers_that_no_database_stores_are_refused(api, raw):
    response = api.post("/messages", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"


def test_an_article_of_twenty_thousand_digits_is_saved_quickly(api):
    """It took over 10 s: the model-code regex of the index was quadratic in a digit run."""
    knowledge.words("预热")  # jieba loads its dictionary once per process: not the article's cost
    started = time.perf_counter()
    response = api.post("/kb/articles", json={**ARTICLE, "body": "7" * knowledge.BODY_MAX})
    assert response.status_code == 201
    assert time.perf_counter() - started < 2.0


def test_a_forty_kilobyte_body_of_digits_is_refused_quickly(api):
    started = time.perf_counter()
    response = api.post("/kb/articles", json={**ARTICLE, "body": "7" * 40_000})
    assert response.status_code == 422
    assert response.get_json()["details"] == {"body": "at most 20000 characters"}
    assert time.perf_counter() - started < 2.0


# --- the document -------------------------------------------------------------------------


def _shape(path: str) -> str:
    """A path with its variables blanked: ``/tasks/<task_id>`` and ``/tasks/{id}`` agree."""
    return re.sub(r"<[^<>]+>|\{[^{}]+\}", "{}", path)


def test_every_api_route_appears_in_the_document(document):
    documented = {
        (_shape(path), method.upper())
        for path, ops in document["doc"]["paths"].items()
        for method in ops
    }
    routes = {
        (_shape(rule.rule.removeprefix("/api/v1")), method)
        for rule in document["app"].url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert len(routes) > 20
    assert routes - documented == set()


def _operations(document: dict):  # noqa: ANN202
    for path, ops in document["doc"]["paths"].items():
        for method, op in ops.items():
            yield f"{method.upper()} {path}", op


def test_every_documented_operation_declares_its_error_answers(document):
    error = {"$ref": "#/components/responses/Error"}
    for label, op in _operations(document):
        answers = op["responses"]
        expected = set()
        if op.get("security") != []:
            expected |= {"401", "403"}
        params = op.get("parameters", [])
        if any(p["in"] == "path" for p in params):
            expected.add("404")
        if any(p["in"] == "query" for p in params) or "requestBody" in op:
            expected.add("422")
        if "application/json" in op.get("requestBody", {}).get("content", {}):
            expected |= {"400", "413", "415"}
        assert expected <= set(answers), f"{label} lacks {expected - set(answers)}"
        for status, answer in answers.items():
            if status.startswith(("4", "5")):
                assert answer == error, f"{label} {status} is not the Error answer"
            else:
                assert "application/json" in answer["content"], f"{label} {status}"


def test_every_operation_has_an_id_and_a_summary(document):
    ids = [op["operationId"] for _label, op in _operations(document)]
    assert len(ids) == len(set(ids))
    assert all(op["summary"] for _label, op in _operations(document))


def test_every_body_and_string_parameter_is_bounded(document):
    """No string without maxLength, no list without maxItems, no open-ended number."""
    unbounded = []

    def walk(where: str, schema: dict) -> None:
        kinds = schema.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        bounded_text = {"maxLength", "enum"} & set(schema) or schema.get("format") == "binary"
        if "string" in kinds and not bounded_text:
            unbounded.append(where)
        if "array" in kinds and "maxItems" not in schema:
            unbounded.append(where)
        if "integer" in kinds and "maximum" not in schema:
            unbounded.append(where)
        if "object" in kinds and not schema.get("properties") and "maxProperties" not in schema:
            unbounded.append(where)
        for name, sub in schema.get("properties", {}).items():
            walk(f"{where}.{name}", sub)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(f"{where}[]", schema[key])

    for label, op in _operations(document):
        for param in op.get("parameters", []):
            walk(f"{label} {param['name']}", param["schema"])
        for content in op.get("requestBody", {}).get("content", {}).values():
            walk(f"{label} body", content["schema"])
    assert unbounded == []


def test_a_body_object_takes_no_undeclared_members(document):
    for label, op in _operations(document):
        for content in op.get("requestBody", {}).get("content", {}).values():
            assert content["schema"].get("additionalProperties") is False, label
