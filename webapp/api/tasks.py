"""Human tasks: inbox lists, detail, claim, unclaim, assign, complete."""

from __future__ import annotations

from flask import jsonify, request

from engine import queries
from engine.commands import Assign, Claim, Unclaim

from ..extensions import db
from ..tasking import complete_task, pick_locale, task_data, task_form
from . import bp
from .auth import current_actor
from .common import json_body, page_args, run, task_json
from .errors import ApiError


@bp.get("/tasks")
def list_tasks():  # noqa: ANN201
    actor = current_actor()
    candidate = request.args.get("candidate")
    if candidate not in (None, "me"):
        raise ApiError(422, "invalid", "candidate may only be 'me'")
    flt = queries.TaskFilter(
        assignee=request.args.get("assignee") or None,
        candidate=candidate == "me",
        process_key=request.args.get("process_key") or None,
        business_key=request.args.get("business_key") or None,
        status=request.args.get("status") or "open",
        customer_phone=request.args.get("customer_phone") or None,
        due=request.args.get("due") or None,
        sort=request.args.get("sort") or None,
    )
    page = queries.list_tasks(db.session, actor, flt, page_args())
    return jsonify(
        {
            "items": [task_json(t) for t in page.items],
            "total": page.total,
            "total_exact": page.total_exact,
        }
    )


@bp.get("/tasks/<task_id>")
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
def claim(task_id: str):  # noqa: ANN201
    _visible_task(task_id)
    return jsonify(task_json(run(Claim(task_id))))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id: str):  # noqa: ANN201
    _visible_task(task_id)
    return jsonify(task_json(run(Unclaim(task_id))))


@bp.post("/tasks/<task_id>/assign")
def assign(task_id: str):  # noqa: ANN201
    _visible_task(task_id)
    user = json_body().get("user")
    if not isinstance(user, str) or not user:
        raise ApiError(422, "invalid", "user is required", {"user": "required"})
    return jsonify(task_json(run(Assign(task_id, user=user))))


@bp.post("/tasks/<task_id>/complete")
def complete(task_id: str):  # noqa: ANN201
    _visible_task(task_id)
    data = json_body().get("data", {})
    if not isinstance(data, dict):
        raise ApiError(422, "invalid", "data must be a JSON object", {"data": "not an object"})
    locale = pick_locale(request.headers.get("Accept-Language"))
    return jsonify(task_json(complete_task(db.session, current_actor(), task_id, data, locale)))
