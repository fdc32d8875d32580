"""Administration: the organisation tree, users and their roles, survey items, forms."""

from __future__ import annotations

import json
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.security import generate_password_hash

from engine.commands import SaveOrgUnit, execute
from engine.errors import EngineError, NotFound
from engine.identity import ROLES, upsert_user
from engine.models import ORG_KINDS, OrgUnit, User
from engine.org import subtree
from forms import survey
from forms.format import FormFileError, parse_form
from forms.models import FormDefinition
from forms.store import (
    form_document,
    form_versions,
    get_form,
    latest_form,
    list_forms,
    save_form,
)

from ..accounts import set_active
from ..extensions import db
from ..people_csv import import_units, import_users
from . import bp
from .design_pages import source_diff
from .form_view import form_fields
from .helpers import is_number


def _saved(action, success: str, target: str):  # noqa: ANN001, ANN201
    """Run a change; an engine error becomes a message and nothing is kept."""
    try:
        action()
        db.session.commit()
    except EngineError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(target), 422
    flash(success, "success")
    return redirect(target)


@bp.get("/admin/org")
def admin_org():  # noqa: ANN201
    return render_template("admin/org.html", units=subtree(db.session, None), kinds=ORG_KINDS)


@bp.post("/admin/org")
def admin_org_save():  # noqa: ANN201
    form = request.form
    return _saved(
        lambda: execute(
            db.session,
            SaveOrgUnit(
                form.get("code", ""),
                form.get("name", ""),
                form.get("kind", ""),
                form.get("parent") or None,
            ),
            current_user.actor,
        ),
        _("The unit was saved."),
        url_for("ui.admin_org"),
    )


@bp.post("/admin/org/import")
def admin_org_import():  # noqa: ANN201
    text = _csv_text()
    return _saved(
        lambda: import_units(db.session, current_user.actor, text),
        _("The units were imported."),
        url_for("ui.admin_org"),
    )


def _csv_text() -> str:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400)
    try:
        return upload.read(5 * 1024 * 1024).decode("utf-8-sig")
    except UnicodeDecodeError:
        abort(400)


@bp.get("/admin/users")
def admin_users():  # noqa: ANN201
    users = db.session.scalars(sa.select(User).order_by(User.username)).all()
    edit = db.session.scalar(sa.select(User).where(User.username == request.args.get("edit", "")))
    units = db.session.scalars(sa.select(OrgUnit).order_by(OrgUnit.path)).all()
    return render_template("admin/users.html", users=users, edit=edit, units=units, roles=ROLES)


@bp.post("/admin/users")
def admin_users_save():  # noqa: ANN201
    form = request.form
    username = (form.get("username") or "").strip()
    password = form.get("password") or ""
    if not username or (password and len(password) < 8):
        flash(_("A user needs a name, and a password has at least 8 characters."), "error")
        return redirect(url_for("ui.admin_users")), 422

    def save() -> None:
        user = upsert_user(
            db.session,
            username=username,
            display_name=form.get("display_name") or None,
            org_code=form.get("org") or None,
            roles=form.getlist("roles"),
            groups=[g.strip() for g in (form.get("groups") or "").split(",") if g.strip()],
            is_admin="admin" in form.getlist("roles"),
            password_hash=generate_password_hash(password) if password else None,
        )
        set_active(db.session, user, form.get("active") == "true")

    return _saved(save, _("The user was saved."), url_for("ui.admin_users"))


@bp.post("/admin/users/import")
def admin_users_import():  # noqa: ANN201
    text = _csv_text()
    return _saved(
        lambda: import_users(db.session, text),
        _("The users were imported."),
        url_for("ui.admin_users"),
    )


@bp.get("/admin/survey")
def admin_survey():  # noqa: ANN201
    items = survey.list_items(db.session, include_inactive=True)
    bindings: dict[str, list[str]] = {}
    for row in db.session.scalars(
        sa.select(survey.SurveyBinding).order_by(
            survey.SurveyBinding.form_type, survey.SurveyBinding.position
        )
    ):
        bindings.setdefault(row.form_type, []).append(row.item.code)
    return render_template("admin/survey.html", items=items, bindings=bindings)


@bp.post("/admin/survey/items")
def admin_survey_item():  # noqa: ANN201
    form = request.form
    code = (form.get("code") or "").strip()

    def save() -> None:
        try:
            weight = float(form.get("weight") or 1)
        except ValueError:
            weight = -1.0
        fields = {
            "question_zh": form.get("question_zh", ""),
            "question_en": form.get("question_en", ""),
            "answer_type": form.get("answer_type", "score"),
            "weight": weight,
            "required": form.get("required") == "true",
        }
        if fields["answer_type"] == "choice":
            fields["choices"] = _choices(form.get("choices", ""))
        existing = {i.code for i in survey.list_items(db.session, include_inactive=True)}
        if code in existing:
            survey.update_item(db.session, code, **fields)
        else:
            survey.create_item(db.session, code, **fields)

    return _saved(save, _("The survey item was saved."), url_for("ui.admin_survey"))


def _choices(text: str) -> list[dict[str, str]]:
    """One choice per line: ``value|中文|English``."""
    choices = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if parts and parts[0]:
            zh = parts[1] if len(parts) > 1 else parts[0]
            choices.append({"value": parts[0], "zh": zh, "en": parts[2] if len(parts) > 2 else zh})
    return choices


@bp.post("/admin/survey/bindings")
def admin_survey_binding():  # noqa: ANN201
    form_type = (request.form.get("form_type") or "").strip()
    codes = [c.strip() for c in (request.form.get("items") or "").split(",") if c.strip()]
    return _saved(
        lambda: survey.bind(db.session, form_type, codes),
        _("The binding was saved."),
        url_for("ui.admin_survey"),
    )


@bp.post("/admin/forms/<key>/preview")
def admin_form_preview(key: str):  # noqa: ANN201
    """The edited document drawn as a task would draw it, or what is wrong with it; never
    saved. The editor asks for it as the designer types (htmx)."""
    locale = request.form.get("locale") if request.form.get("locale") in ("zh", "en") else "zh"
    try:
        parsed = parse_form(f"{key}.form.json", request.form.get("document", "").encode())
    except FormFileError as exc:
        return render_template("admin/form_preview.html", problems=exc.details, fields=[])
    fields = form_fields({"schema": parsed.schema, "ui": parsed.ui}, {}, {}, locale)
    title = parsed.title_zh if locale == "zh" else parsed.title_en
    return render_template("admin/form_preview.html", problems=[], fields=fields, title=title)


def _form_version(key: str, version: str | None) -> FormDefinition:
    if version is None or not is_number(version):
        abort(404)
    try:
        return get_form(db.session, key, int(version))
    except NotFound:
        abort(404)


def _form_text(form: FormDefinition) -> str:
    return json.dumps(form_document(form), ensure_ascii=False, indent=2) + "\n"


@bp.get("/admin/forms/<key>/<version>.form.json")
def admin_form_download(key: str, version: str):  # noqa: ANN201
    form = _form_version(key, version)
    return Response(
        _form_text(form),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{form.key}.form.json"'},
    )


@bp.get("/admin/forms/<key>/diff")
def admin_form_diff(key: str):  # noqa: ANN201
    old = _form_version(key, request.args.get("from"))
    new = _form_version(key, request.args.get("to"))
    return render_template(
        "definitions/diff.html",
        key=key,
        old=SimpleNamespace(version=old.version, kind="form"),
        new=SimpleNamespace(version=new.version, kind="form"),
        lines=source_diff(_form_text(old), _form_text(new), key, old.version, new.version),
        changes=None,
        all_versions=form_versions(db.session, key),
    )


@bp.get("/admin/forms")
def admin_forms():  # noqa: ANN201
    return render_template("admin/forms.html", forms=list_forms(db.session))


@bp.route("/admin/forms/<key>", methods=["GET", "POST"])
def admin_form_edit(key: str):  # noqa: ANN201
    form = latest_form(db.session, key)
    text = json.dumps(form_document(form), ensure_ascii=False, indent=2)
    error = None
    if request.method == "POST":
        text = request.form.get("document", "")
        try:
            document = json.loads(text)
            _saved_form, version, created = save_form(
                db.session, key, document, current_user.username
            )
            db.session.commit()
        except (ValueError, EngineError) as exc:
            db.session.rollback()
            error = str(exc)
        else:
            if created:
                flash(_("Saved as version %(version)s.", version=version), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("ui.admin_form_edit", key=key))
    versions = form_versions(db.session, key)
    return render_template(
        "admin/form_edit.html", form=form, text=text, error=error, versions=versions
    ), (422 if error else 200)
