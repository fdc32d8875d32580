"""The OpenAPI 3 document of the API: the full reference that CONTRACT.md points to."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from . import bp

ERROR_CODES = {"400", "401", "403", "404", "409", "422"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: str, schema: dict, errors: set[str], **extra: Any) -> dict[str, Any]:
    responses = {ok: _json(schema)}
    for code in sorted(errors | {"401"}):
        responses[code] = {"$ref": "#/components/responses/Error"}
    op = {"summary": summary, "responses": responses}
    op.update(extra)
    return op


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _query(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names
    ]


PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
]


def _path_id(name: str, kind: str = "integer") -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": kind}}]


def _instance_action(summary: str, body: dict | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"parameters": _path_id("id")}
    if body is not None:
        extra["requestBody"] = _body(body)
    return {"post": _op(summary, "200", _ref("Instance"), {"403", "404", "409", "422"}, **extra)}


def _task_action(summary: str, body: dict | None = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"parameters": _path_id("id", "string")}
    if body is not None:
        extra["requestBody"] = _body(body)
    return {"post": _op(summary, "200", _ref("Task"), {"403", "404", "409", "422"}, **extra)}


def build_document() -> dict[str, Any]:
    nullable_str = {"type": ["string", "null"]}
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        },
        "Task": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "title": {"type": "string"},
                "process_instance_id": {"type": "integer"},
                "process_key": {"type": "string"},
                "business_key": nullable_str,
                "assignee": nullable_str,
                "candidate_group": nullable_str,
                "form_key": nullable_str,
                "due": nullable_str,
                "priority": {"type": "integer"},
                "status": {"type": "string", "enum": ["open", "completed", "cancelled"]},
            },
        },
        "Instance": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "process_key": {"type": "string"},
                "version": {"type": "integer"},
                "status": {
                    "type": "string",
                    "enum": ["running", "suspended", "incident", "completed", "terminated"],
                },
                "business_key": nullable_str,
                "variables": {"type": "object"},
                "tasks": {"type": "array", "items": _ref("Task")},
                "incidents": {"type": "array", "items": {"type": "object"}},
                "timers": {"type": "array", "items": {"type": "object"}},
                "current_activities": {"type": "array", "items": {"type": "string"}},
            },
        },
        "KbArticle": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "category": nullable_str,
                "excerpt": {"type": "string"},
                "score": {"type": "number", "description": "in search answers only"},
                "models": {"type": "array", "items": {"type": "string"}},
                "solved_count": {"type": "integer"},
                "active": {"type": "boolean"},
                "body": {"type": "string", "description": "in single-article answers only"},
            },
        },
    }
    list_of = lambda name: {  # noqa: E731
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref(name)},
            "total": {"type": "integer"},
            "total_exact": {
                "type": "boolean",
                "description": "false when the group inbox stopped counting at 1,000 tasks",
            },
        },
    }
    paths = {
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OK"}},
            }
        },
        "/deployments": {
            "post": _op(
                "Deploy BPMN and DMN files",
                "201",
                {
                    "type": "object",
                    "properties": {"definitions": {"type": "array", "items": {"type": "object"}}},
                },
                {"400", "403", "422"},
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "files": {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                    }
                                },
                            }
                        }
                    },
                },
            )
        },
        "/process-definitions": {
            "get": _op(
                "Latest version of each process key, with all versions",
                "200",
                {"type": "object"},
                set(),
            )
        },
        "/process-definitions/{key}/start-groups": {
            "post": _op(
                "Let groups start a process beyond its start lane (administrators)",
                "200",
                {"type": "object"},
                {"403", "404", "422"},
                parameters=_path_id("key", "string"),
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["groups"],
                        "properties": {"groups": {"type": "array", "items": {"type": "string"}}},
                    }
                ),
            )
        },
        "/process-instances": {
            "post": _op(
                "Start a process instance",
                "201",
                _ref("Instance"),
                {"400", "403", "404", "422"},
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["process_key"],
                        "properties": {
                            "process_key": {"type": "string"},
                            "version": {"type": "integer"},
                            "business_key": {"type": "string"},
                            "variables": {"type": "object"},
                            "org_unit": {
                                "type": "string",
                                "description": "code of the owning unit, in the caller's scope",
                            },
                        },
                    }
                ),
            ),
            "get": _op(
                "List process instances",
                "200",
                list_of("Instance"),
                {"422"},
                parameters=_query("process_key", "status", "business_key") + PAGING,
            ),
        },
        "/process-instances/{id}": {
            "get": _op(
                "One process instance", "200", _ref("Instance"), {"404"}, parameters=_path_id("id")
            )
        },
        "/process-instances/{id}/history": {
            "get": _op(
                "The audit trail of an instance",
                "200",
                {"type": "object"},
                {"404"},
                parameters=_path_id("id"),
            )
        },
        "/process-instances/{id}/suspend": _instance_action("Suspend an instance"),
        "/process-instances/{id}/resume": _instance_action("Resume a suspended instance"),
        "/process-instances/{id}/terminate": _instance_action(
            "Terminate an instance",
            {"type": "object", "properties": {"reason": {"type": "string"}}},
        ),
        "/process-instances/{id}/variables": _instance_action(
            "Set variables of an instance",
            {"type": "object", "properties": {"variables": {"type": "object"}}},
        ),
        "/process-instances/{id}/move": _instance_action(
            "Move the token from one activity to another (refused when not safe: 409)",
            {
                "type": "object",
                "required": ["from", "to"],
                "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
            },
        ),
        "/process-instances/{id}/migrate": _instance_action(
            "Migrate the instance to a newer version (refused when not safe: 409)",
            {
                "type": "object",
                "required": ["version"],
                "properties": {
                    "version": {"type": "integer"},
                    "mapping": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        ),
        "/incidents/{id}/retry": {
            "post": _op(
                "Run the failed step again",
                "200",
                {"type": "object"},
                {"403", "404", "409"},
                parameters=_path_id("id"),
            )
        },
        "/messages": {
            "post": _op(
                "Correlate a message",
                "200",
                _ref("Instance"),
                {"400", "403", "404", "409", "422"},
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "correlation_key": {"type": "string"},
                            "variables": {"type": "object"},
                        },
                    }
                ),
            )
        },
        "/orders": {
            "post": _op(
                "Create a service order (and a new caller) and start its process",
                "201",
                {"type": "object"},
                {"403", "404", "422"},
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["type"],
                        "properties": {
                            "type": {"enum": ["repair", "installation", "consultation", "praise"]},
                            "customer_id": {"type": "integer"},
                            "customer": {"type": "object"},
                            "serial": {"type": "string"},
                            "model": {"type": "string"},
                            "description": {"type": "string"},
                        },
                    }
                ),
            )
        },
        "/orders/{number}": {
            "get": _op(
                "An order with its state and timeline",
                "200",
                {"type": "object"},
                {"404"},
                parameters=_path_id("number", "string"),
            )
        },
        "/customers": {
            "get": _op(
                "Caller lookup by phone or product serial: customers with products and orders",
                "200",
                {
                    "type": "object",
                    "properties": {"items": {"type": "array", "items": {"type": "object"}}},
                },
                {"422"},
                parameters=_query("phone", "serial"),
            )
        },
        "/kb/articles": {
            "get": _op(
                "Knowledge-base search, best first (an empty q finds nothing)",
                "200",
                {
                    "type": "object",
                    "properties": {"items": {"type": "array", "items": _ref("KbArticle")}},
                },
                {"422"},
                parameters=_query("q", "model", "limit"),
            ),
            "post": _op(
                "Add a knowledge-base article (knowledge editors and administrators)",
                "201",
                _ref("KbArticle"),
                {"400", "403", "422"},
                requestBody=_body(
                    {
                        "type": "object",
                        "required": ["title", "body"],
                        "properties": {
                            "title": {"type": "string", "minLength": 1, "maxLength": 200},
                            "body": {"type": "string", "minLength": 1, "maxLength": 20000},
                            "category": {
                                "type": "string",
                                "maxLength": 80,
                                "description": "a category name; created on first use",
                            },
                            "models": {
                                "type": "array",
                                "items": {"type": "string", "maxLength": 40},
                                "description": "product model codes; none means every model",
                            },
                        },
                        "additionalProperties": False,
                    }
                ),
            ),
        },
        "/kb/articles/{id}": {
            "get": _op(
                "One knowledge-base article with its body",
                "200",
                _ref("KbArticle"),
                {"404"},
                parameters=_path_id("id"),
            )
        },
        "/tasks": {
            "get": _op(
                "Task lists (inbox)",
                "200",
                list_of("Task"),
                {"422"},
                parameters=_query(
                    "assignee",
                    "candidate",
                    "process_key",
                    "business_key",
                    "status",
                    "customer_phone",
                    "due",
                    "sort",
                )
                + PAGING,
            )
        },
        "/tasks/{id}": {
            "get": _op(
                "A task with its form and data",
                "200",
                _ref("Task"),
                {"404"},
                parameters=_path_id("id", "string"),
            )
        },
        "/tasks/{id}/claim": _task_action("Claim a task"),
        "/tasks/{id}/unclaim": _task_action("Give a claimed task back to its groups"),
        "/tasks/{id}/assign": _task_action(
            "Assign a task to a user",
            {"type": "object", "required": ["user"], "properties": {"user": {"type": "string"}}},
        ),
        "/tasks/{id}/complete": _task_action(
            "Complete a task with form data",
            {"type": "object", "properties": {"data": {"type": "object"}}},
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "CSM after-sales service platform API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
            "responses": {"Error": _json(_ref("Error"), "Error")},
        },
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi_document():  # noqa: ANN201
    return jsonify(build_document())
