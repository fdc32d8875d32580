"""One task: its context, its form, its history; claim, unclaim, assign, complete, comment."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aftersales.orders.case import case_of
from aftersales.orders.case_context import CASE_CONTEXT
from aftersales.orders.service import order_of_instance
from engine import queries, scope
from engine.commands import AddComment, Assign, Claim, Unclaim, execute
from engine.errors import Conflict, InvalidInput
from engine.identity import admin_users, may_work_task, task_groups
from engine.models import Comment, Group, OrgUnit, ProcessInstance, User
from forms.coerce import undeclared_inputs
from forms.validation import coerce_post

from ..extensions import db
from ..i18n import current_locale
from ..pickers import PICKERS
from ..tasking import complete_task, task_data, task_form
from . import bp
from .case_view import shown_steps
from .form_view import form_fields
from .uploads import stage_photos

CONTEXT_KEYS = CASE_CONTEXT


def _task(task_id: str):  # noqa: ANN202
    return queries.get_task(db.session, current_user.actor, task_id)


def _assignable(task) -> list[User]:  # noqa: ANN001
    """People in the task's groups who can see it and whom the assigner sees, for the
    assign list (team leads); both scopes are applied in SQL before the limit."""
    groups = sorted(task_groups(task))
    query = (
        sa.select(User)
        .outerjoin(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(
            User.active.is_(True),
            scope.seen_by(
                task.org_path,
                unit_path=OrgUnit.path,
                unit_kind=OrgUnit.kind,
                is_admin=admin_users(),
            ),
            scope.visible(current_user.actor, OrgUnit.path),
        )
        .order_by(User.username)
    )
    if groups:
        query = query.where(User.groups.any(Group.name.in_(groups)))
    return list(db.session.scalars(query.limit(500)))


def render_task(task, data: dict | None = None, errors: dict | None = None, status: int = 200):  # noqa: ANN001, ANN201
    actor = current_user.actor
    view = queries.completed_view(db.session, actor, task)
    if view is not None:
        return render_completed(task, view)
    locale = current_locale()
    instance = db.session.get(ProcessInstance, task.instance_id)
    current = task_data(db.session, task)
    form = task_form(db.session, task, locale)
    fields = form_fields(form, {**current, **(data or {})}, errors or {}, locale) if form else []
    comments = db.session.scalars(
        sa.select(Comment).where(Comment.instance_id == task.instance_id).order_by(Comment.id)
    ).all()
    context = {k: current[k] for k in CONTEXT_KEYS if current.get(k) not in (None, "")}
    order = order_of_instance(db.session, task.instance_id)
    case = case_of(db.session, actor, order) if order is not None else None
    return render_template(
        "tasks/task.html",
        task=task,
        instance=instance,
        form=form,
        fields=fields,
        errors=errors or {},
        context=context,
        submitted=(task.snapshot or {}).get("data") if task.status == "completed" else None,
        case=case,
        shown=shown_steps(db.session, case, locale) if case is not None else [],
        frozen=False,
        history=queries.history_of(db.session, task.instance_id),
        comments=comments,
        may_work=task.status == "open" and may_work_task(actor, task),
        may_assign=task.status == "open" and (actor.may_assign or task.assignee == actor.username),
        assignable=_assignable(task) if task.status == "open" and actor.may_assign else [],
    ), status


def render_completed(task, view: dict):  # noqa: ANN001, ANN201
    """A completed task whose instance has left the user's scope: only what it showed when
    it was completed (its snapshot) and the history up to then; nothing of the live order."""
    return render_template(
        "tasks/task.html",
        task=task,
        instance=None,
        form=None,
        fields=[],
        errors={},
        context=view["context"],
        submitted=view["data"],
        case=None,
        shown=[],
        history=queries.history_until(db.session, task),
        comments=[],
        frozen=True,
        may_work=False,
        may_assign=False,
        assignable=[],
    )


@bp.get("/tasks/<task_id>")
def task_page(task_id: str):  # noqa: ANN201
    return render_task(_task(task_id))


def _run(command) -> None:  # noqa: ANN001
    execute(db.session, command, current_user.actor)


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str):  # noqa: ANN201
    _task(task_id)
    _run(Claim(task_id))
    flash(_("The task is yours now."), "success")
    return redirect(url_for("ui.task_page", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id: str):  # noqa: ANN201
    _task(task_id)
    _run(Unclaim(task_id))
    flash(_("The task is back in its group's list."), "info")
    return redirect(url_for("ui.task_page", task_id=task_id))


@bp.post("/tasks/<task_id>/assign")
def assign_task(task_id: str):  # noqa: ANN201
    task = _task(task_id)
    try:
        _run(Assign(task_id, user=request.form.get("user") or ""))
    except InvalidInput as exc:
        db.session.rollback()
        flash(_("The task could not be assigned: %(reason)s", reason=str(exc)), "error")
        return render_task(task, status=422)
    flash(_("The task was assigned."), "success")
    return redirect(url_for("ui.task_page", task_id=task_id))


@bp.post("/tasks/<task_id>/complete")
def complete_task_page(task_id: str):  # noqa: ANN201
    task = _task(task_id)
    locale = current_locale()
    form = task_form(db.session, task, locale)
    data = coerce_post(form, request.form) if form else {}
    extra = undeclared_inputs(form, [*request.form, *request.files])
    csrf_field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    extra = [name for name in extra if name != csrf_field]
    if extra:  # not a post of this task's page: refuse it, keep nothing
        errors = {name: [_("This field is not part of the form.")] for name in extra}
        errors[""] = [_("Not part of this form: %(names)s", names=", ".join(extra))]
        flash(_("Please correct the marked fields."), "error")
        return render_task(task, data, errors, 422)
    photos: dict[str, list[str]] = {}
    try:
        if form:  # the photos' rows are committed by the completion, or rolled back with it
            photos = stage_photos(form, request.files, current_user.username, task)
            for name, ids in photos.items():
                data[name] = list(data.get(name) or []) + ids
        complete_task(db.session, current_user.actor, task_id, data, locale)
    except InvalidInput as exc:
        db.session.rollback()
        details = exc.details if isinstance(exc.details, dict) else {}
        errors = dict(details.get("fields") or {"": [str(exc)]})
        for name, ids in photos.items():  # rolled back: the form must not offer them as kept
            data[name] = [i for i in data.get(name) or [] if i not in ids]
            errors.setdefault(name, [_("Choose the photos again; this attempt kept none.")])
        flash(_("Please correct the marked fields."), "error")
        return render_task(_task(task_id), data, errors, 422)
    except Conflict:
        db.session.rollback()
        raise
    flash(_("Task completed."), "success")
    return redirect(url_for("ui.inbox"))


@bp.post("/tasks/<task_id>/comment")
def comment_task(task_id: str):  # noqa: ANN201
    task = _task(task_id)
    body = (request.form.get("body") or "").strip()
    if not body:
        flash(_("A comment cannot be empty."), "error")
        return redirect(url_for("ui.task_page", task_id=task_id))
    _run(AddComment(task.instance_id, body, task_id=task.id))
    return redirect(url_for("ui.task_page", task_id=task_id) + "#comments")


@bp.get("/pickers/<kind>")
def picker(kind: str):  # noqa: ANN201
    """Suggestions for a picker field, as <option>s for its datalist."""
    find = PICKERS.get(kind)
    if find is None:
        abort(404)
    if "field" in request.args:  # the field's name said apart from its value
        text = request.args.get(request.args["field"], "")
    else:  # the input's own name=value, as htmx sends it
        text = next((v for k, v in request.args.items() if k != "field"), "")
    text = (text or "").strip()[:80]
    suggestions = find(db.session, current_user.actor, text)
    return render_template("tasks/picker_options.html", suggestions=suggestions)
