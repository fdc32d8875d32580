"""Human tasks: inbox lists, detail, claim, unclaim, assign, complete."""

from __future__ import annotations

from flask import jsonify, request

from aftersales.customers import phones
from engine import queries
from engine.commands import Assign, Claim, Unclaim

from ..extensions import db
from ..tasking import complete_task, pick_locale, task_data, task_form
from . import bp
from .auth import current_actor
from .common import page_of, run, task_json
from .declare import operation
from .instances import COMMAND_ERRORS
from .schemas import (
    KEY,
    PAGING,
    TASK_DUE,
    TASK_ID,
    TASK_SORT,
    TASK_STATUS,
    USERNAME,
    items_of,
    one_of,
    ref,
    text,
)

TASK = {"id": TASK_ID}
COMPLETE_BODY_MAX = 8 * 1024 * 1024  # a form may carry signatures and photos as data URLs


def _action(summary: str, **more: object) -> dict:
    """The declaration of a command on one task, which answers the task."""
    return {
        "summary": summary,
        "answers": {200: ref("Task")},
        "errors": COMMAND_ERRORS,
        "path": TASK,
        **more,
    }


@bp.get("/tasks")
@operation(
    summary="Task lists (inbox)",
    answers={
        200: {
            **items_of("Task", paged=True),
            "properties": {
                **items_of("Task", paged=True)["properties"],
                "total_exact": {
                    "type": "boolean",
                    "description": "false when the group inbox stopped counting at 1,000 tasks",
                },
            },
        }
    },
    query={
        "assignee": text(80, description="a user name, or me"),
        "candidate": one_of("me"),
        "process_key": KEY,
        "business_key": text(200),
        "status": TASK_STATUS,
        "customer_phone": text(40),
        "due": TASK_DUE,
        "sort": TASK_SORT,
        **PAGING,
    },
)
def list_tasks(query: dict):  # noqa: ANN201
    flt = queries.TaskFilter(
        assignee=query.get("assignee"),
        candidate=query.get("candidate") == "me",
        process_key=query.get("process_key"),
        business_key=query.get("business_key"),
        status=query.get("status", "open"),
        customer_phone=phones.lookup_form(query["customer_phone"])
        if query.get("customer_phone")
        else None,
        due=query.get("due"),
        sort=query.get("sort"),
    )
    page = queries.list_tasks(db.session, current_actor(), flt, page_of(query))
    return jsonify(
        {
            "items": [task_json(t) for t in page.items],
            "total": page.total,
            "total_exact": page.total_exact,
        }
    )


@bp.get("/tasks/<task_id>")
@operation(summary="A task with its form and data", answers={200: ref("TaskDetail")}, path=TASK)
def get_task(task_id: str):  # noqa: ANN201
    actor = current_actor()
    task = queries.get_task(db.session, actor, task_id)
    body = task_json(task)
    locale = pick_locale(request.headers.get("Accept-Language"))
    body["form"] = task_form(db.session, task, locale)
    body["form_version"] = task.form_version
    body["data"] = task_data(db.session, task, actor)
    return jsonify(body)


def _visible_task(task_id: str) -> None:
    queries.get_task(db.session, current_actor(), task_id)


@bp.post("/tasks/<task_id>/claim")
@operation(**_action("Claim a task"))
def claim(task_id: str):  # noqa: ANN201
    _visible_task(task_id)
    return jsonify(task_json(run(Claim(task_id))))


@bp.post("/tasks/<task_id>/unclaim")
@operation(**_action("Give a claimed task back to its groups"))
def unclaim(task_id: str):  # noqa: ANN201
    _visible_task(task_id)
    return jsonify(task_json(run(Unclaim(task_id))))


@bp.post("/tasks/<task_id>/assign")
@operation(
    **_action(
        "Assign a task to a user",
        body={
            "type": "object",
            "required": ["user"],
            "additionalProperties": False,
            "properties": {"user": USERNAME},
        },
    )
)
def assign(task_id: str, body: dict):  # noqa: ANN201
    _visible_task(task_id)
    return jsonify(task_json(run(Assign(task_id, user=body["user"]))))


@bp.post("/tasks/<task_id>/complete")
@operation(
    **_action(
        "Complete a task with the data its form declares (422 per field)",
        body={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "data": {
                    "type": "object",
                    "maxProperties": 200,
                    "description": "checked against the task's form",
                }
            },
        },
        body_max=COMPLETE_BODY_MAX,
    )
)
def complete(task_id: str, body: dict):  # noqa: ANN201
    _visible_task(task_id)
    locale = pick_locale(request.headers.get("Accept-Language"))
    data = body.get("data", {})
    return jsonify(task_json(complete_task(db.session, current_actor(), task_id, data, locale)))
