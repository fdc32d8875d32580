"""The JSON Schemas of the API: field types the operations share and the answers they give.

Request schemas are written inline (each validator stands alone); answers name components
(``ref("Task")``), which the document lists once under ``components/schemas``.
"""

from __future__ import annotations

from typing import Any

from engine.queries import DUE_FILTERS, INSTANCE_STATUSES, MAX_PAGE, MAX_PAGE_SIZE, TASK_SORTS

from .ids import MAX_ID


def text(max_length: int, min_length: int = 0, **more: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, **more}
    if min_length:
        schema["minLength"] = min_length
    return schema


def one_of(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def ref(name: str) -> dict[str, str]:
    if name not in COMPONENTS:
        raise KeyError(f"no component schema {name}")
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
KEY = text(200, 1)  # process keys, business keys, activity ids
TASK_ID = text(36, 1, pattern=r"^[0-9A-Za-z-]+$")
ORDER_NUMBER = text(24, 1, pattern=r"^[0-9A-Za-z]+$")
USERNAME = text(80, 1)
GROUP = text(80, 1)
VARIABLES = {
    "type": "object",
    "maxProperties": 200,
    "description": "process variables; the body's size limit bounds their depth and length",
}
PAGING = {
    "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
}
INSTANCE_STATUS = one_of(*INSTANCE_STATUSES)
TASK_STATUS = one_of("open", "completed")
TASK_DUE = one_of(*DUE_FILTERS)
TASK_SORT = one_of(*TASK_SORTS)

_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_INT_OR_NULL = {"type": ["integer", "null"]}
_STRINGS = {"type": "array", "items": _STR}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _all(**properties: Any) -> dict[str, Any]:
    """An answer object whose members are all present."""
    return _obj(list(properties), **properties)


COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": _obj(
        ["error", "message", "details"],
        error={"type": "string", "description": "a code: invalid, not_found, conflict, ..."},
        message=_STR,
        details={"description": "per field or per file when the request names several"},
    ),
    "Task": _all(
        id=_STR,
        name=_STR,
        title=_STR_OR_NULL,
        process_instance_id=_INT,
        process_key=_STR,
        business_key=_STR_OR_NULL,
        assignee=_STR_OR_NULL,
        candidate_group=_STR_OR_NULL,
        form_key=_STR_OR_NULL,
        due=_STR_OR_NULL,
        priority=_INT_OR_NULL,
        status=one_of("open", "completed", "cancelled"),
        created=_STR_OR_NULL,
        claimed=_STR_OR_NULL,
        completed=_STR_OR_NULL,
        completed_by=_STR_OR_NULL,
    ),
    "Timer": _all(id=_INT, activity=_STR_OR_NULL, kind=_STR_OR_NULL, due=_STR_OR_NULL),
    "Incident": _obj(
        ["id", "process_instance_id", "activity", "task_id", "message", "status"],
        id=_INT,
        process_instance_id=_INT,
        activity=_STR_OR_NULL,
        task_id=_STR_OR_NULL,
        message=_STR_OR_NULL,
        status=_STR,
        created=_STR_OR_NULL,
        resolved=_STR_OR_NULL,
        details={"type": ["string", "null"], "description": "administrators only"},
    ),
    "InstanceSummary": _all(
        id=_INT,
        process_key=_STR,
        version=_INT,
        status=INSTANCE_STATUS,
        business_key=_STR_OR_NULL,
        started_by=_STR_OR_NULL,
        started=_STR_OR_NULL,
        ended=_STR_OR_NULL,
        current_activities=_STRINGS,
        revision=_INT_OR_NULL,
    ),
    "KbArticle": _obj(
        ["id", "title", "category", "excerpt", "models", "solved_count", "active"],
        id=_INT,
        title=_STR,
        category=_STR_OR_NULL,
        excerpt=_STR,
        models=_STRINGS,
        solved_count=_INT,
        active={"type": "boolean"},
        score={"type": "number", "description": "in search answers only"},
        body={"type": "string", "description": "in single-article answers only"},
    ),
    "CustomerSummary": _obj(
        ["id", "name", "phones", "addresses"],
        id=_INT,
        name=_STR,
        member_no=_STR_OR_NULL,
        member_level=_STR_OR_NULL,
        tags={"type": "array"},
        group=_STR_OR_NULL,
        phones={"type": "array", "items": {"type": "object"}},
        addresses={"type": "array", "items": {"type": "object"}},
    ),
}
COMPONENTS["Instance"] = {
    "allOf": [
        ref("InstanceSummary"),
        _all(
            variables={"type": "object"},
            tasks={"type": "array", "items": ref("Task")},
            incidents={"type": "array", "items": ref("Incident")},
            timers={"type": "array", "items": ref("Timer")},
        ),
    ]
}
COMPONENTS["TaskDetail"] = {
    "allOf": [
        ref("Task"),
        _all(
            form={"type": ["object", "null"], "description": "the form definition, localized"},
            form_version=_INT_OR_NULL,
            data={"type": "object"},
        ),
    ]
}
COMPONENTS["Customer"] = {
    "allOf": [
        ref("CustomerSummary"),
        _all(
            products={"type": "array", "items": {"type": "object"}},
            orders={"type": "array", "items": {"type": "object"}},
            open_orders=_INT,
        ),
    ]
}
COMPONENTS["CustomerChange"] = _all(
    id=_INT,
    subject=one_of("customer", "phone", "address", "product"),
    subject_id=_INT_OR_NULL,
    field=_STR,
    old=_STR_OR_NULL,
    new=_STR_OR_NULL,
    by=_STR,
    at=_STR,
)
COMPONENTS["CustomerImport"] = _all(
    id=_INT,
    file_name=_STR,
    status=one_of("waiting", "checking", "storing", "completed", "refused", "failed"),
    total_rows=_INT,
    checked_rows=_INT,
    percent=_INT,
    customers=_INT,
    products=_INT,
    error_count=_INT,
    errors={
        "type": "array",
        "items": _obj(["row", "column", "message"], row=_INT, column=_STR, message=_STR),
        "description": "the first errors, per row and column; nothing is stored when any",
    },
    message=_STR,
    created_by=_STR,
    created=_STR,
    finished=_STR_OR_NULL,
)
COMPONENTS["Order"] = _obj(
    ["number", "type", "status", "process_instance_id", "customer", "timeline"],
    number=_STR,
    type=_STR,
    status=_STR,
    in_warranty={"type": ["boolean", "null"]},
    verified={"type": ["boolean", "null"]},
    description=_STR_OR_NULL,
    created_at=_STR,
    closed_at=_STR_OR_NULL,
    process_instance_id=_INT_OR_NULL,
    process_status=_STR_OR_NULL,
    current_activities={"type": ["array", "null"], "items": _STR},
    customer={"anyOf": [ref("CustomerSummary"), {"type": "null"}]},
    case={
        "type": "object",
        "description": "the case record: type and status names, engineer, outlet, facts, "
        "fees, each completed step with the data its form recorded, open tasks",
        "properties": {
            "type_name": {"type": "object"},
            "status_name": {"type": ["object", "null"]},
            "engineer": _STR_OR_NULL,
            "outlet": {"type": ["object", "null"]},
            "facts": {"type": "object"},
            "fees": {"type": ["object", "null"]},
            "steps": {"type": "array", "items": {"type": "object"}},
            "open_tasks": {"type": "array", "items": {"type": "object"}},
        },
    },
    timeline={
        "type": "array",
        "items": _obj(
            ["at", "command"], at=_STR, actor=_STR_OR_NULL, command=_STR, activity=_STR_OR_NULL
        ),
    },
)
COMPONENTS["ServiceTypes"] = _obj(
    ["items"],
    items={
        "type": "array",
        "items": _obj(
            ["key", "version", "name", "prefix", "process", "statuses", "may_open"],
            key=_STR,
            version=_INT,
            name={"type": "object"},
            prefix=_STR,
            process=_STR,
            start_form=_STR_OR_NULL,
            customer=_STR,
            product=_STR,
            callback=_STR_OR_NULL,
            may_open={"type": "boolean"},
            statuses={"type": "array", "items": {"type": "object"}},
        ),
    },
)
COMPONENTS["Definition"] = _all(
    key=_STR,
    name=_STR_OR_NULL,
    latest_version=_INT,
    granted_start_groups=_STRINGS,
    startable={
        "type": "boolean",
        "description": "false for a process only other processes call",
    },
    versions={
        "type": "array",
        "items": _obj(
            ["version", "deployed_at", "running_instances"],
            version=_INT,
            name=_STR_OR_NULL,
            file_name=_STR_OR_NULL,
            deployed_at=_STR,
            running_instances=_INT,
            start_groups=_STRINGS,
        ),
    },
)
COMPONENTS["MigrationBatch"] = _all(
    id=_INT,
    process_key=_STR,
    **{"from": _INT, "to": _INT},
    mapping={"type": "object", "additionalProperties": _STR},
    status=one_of("running", "completed", "cancelled", "failed"),
    total=_INT,
    migrated=_INT,
    refused=_INT,
    reasons={"type": "object", "additionalProperties": _INT},
    message=_STR_OR_NULL,
    created_by=_STR,
    created=_STR,
    updated=_STR,
    finished=_STR_OR_NULL,
)
COMPONENTS["AuditEntry"] = _all(
    id=_INT,
    command=_STR,
    actor=_STR_OR_NULL,
    task_id=_STR_OR_NULL,
    activity=_STR_OR_NULL,
    at=_STR,
    changes={},
    details={},
)


def items_of(name: str, *, paged: bool = False) -> dict[str, Any]:
    """A list answer: ``{"items": [...]}``, with ``total`` when paginated."""
    properties: dict[str, Any] = {"items": {"type": "array", "items": ref(name)}}
    if paged:
        properties["total"] = _INT
    return _obj(list(properties), **properties)
