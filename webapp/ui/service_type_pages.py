"""The designer's pages for service form types: the list, and a page per type where its names,
prefix, process, start form, who may open it, what it asks of the customer and product, its
callback survey and its statuses are edited as fields. Saving runs the checks a deployed
file gets (``aftersales.orders.type_deployment.check_saved``) and stores a new version only
when something changed; orders keep the version they were opened with."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aftersales.orders import types as service_types
from aftersales.orders.type_deployment import check_saved
from engine.deployment import latest_definitions
from engine.errors import DeploymentError, NotFound
from engine.identity import ROLES
from forms.store import list_forms

from ..extensions import db
from . import bp

BLANK_STATUS_ROWS = 3  # empty rows offered below the statuses to add new ones


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


def document_from_post(form: Any, key: str | None) -> dict[str, Any]:
    """The type document the page's fields describe (unchecked: check_saved checks it)."""
    statuses = []
    for index in range(int(form.get("status_rows", 0) or 0)):
        status_key = (form.get(f"status-{index}-key") or "").strip()
        if not status_key:
            continue
        status: dict[str, Any] = {
            "key": status_key,
            "name": {
                "zh": (form.get(f"status-{index}-zh") or "").strip(),
                "en": (form.get(f"status-{index}-en") or "").strip(),
            },
        }
        if form.get(f"status-{index}-final"):
            status["final"] = True
        statuses.append(status)
    document: dict[str, Any] = {
        "key": key or (form.get("key") or "").strip(),
        "name": {
            "zh": (form.get("name_zh") or "").strip(),
            "en": (form.get("name_en") or "").strip(),
        },
        "prefix": (form.get("prefix") or "").strip(),
        "process": (form.get("process") or "").strip(),
        "open": {
            "roles": form.getlist("open_roles"),
            "groups": _split(form.get("open_groups", "")),
        },
        "customer": form.get("customer") or "required",
        "product": form.get("product") or "optional",
        "statuses": statuses,
    }
    for member in ("start_form", "callback"):
        value = (form.get(member) or "").strip()
        if value:
            document[member] = value
    return document


def _problems(exc: DeploymentError) -> dict[str, list[str]]:
    """Problems per document member (``$.prefix`` -> ``prefix``) for the fields to show."""
    found: dict[str, list[str]] = {}
    for problem in exc.details if isinstance(exc.details, list) else []:
        member = str(problem.get("element") or "$").removeprefix("$").lstrip(".")
        member = member.split("[")[0].split(".")[0] or ""
        found.setdefault(member, []).append(str(problem.get("message")))
    return found


def _render(document: dict[str, Any], *, key: str | None, errors: dict, status: int = 200):  # noqa: ANN202
    versions = service_types.type_versions(db.session, key) if key else []
    return render_template(
        "admin/service_type.html",
        document=document,
        key=key,
        versions=versions,
        errors=errors,
        statuses=[*document.get("statuses", []), *[{}] * BLANK_STATUS_ROWS],
        roles=[r for r in ROLES if r != "admin"],
        processes=[d.key for d in latest_definitions(db.session) if d.startable],
        forms=[f.form.key for f in list_forms(db.session)],
        source=json.dumps(document, ensure_ascii=False, indent=2),
    ), status


@bp.get("/admin/service-types")
def service_types_page():  # noqa: ANN201
    return render_template("admin/service_types.html", types=service_types.latest_rows(db.session))


@bp.get("/admin/service-types/new")
def new_service_type():  # noqa: ANN201
    blank = {"name": {"zh": "", "en": ""}, "customer": "required", "product": "optional"}
    return _render(blank, key=None, errors={})


@bp.get("/admin/service-types/<key>")
def service_type_page(key: str):  # noqa: ANN201
    rows = service_types.type_versions(db.session, key[:40])
    if not rows:
        raise NotFound(f"service type {key!r} is not deployed")
    return _render(rows[-1].document, key=rows[-1].key, errors={})


@bp.post("/admin/service-types")
def save_service_type():  # noqa: ANN201
    key = (request.form.get("original_key") or "").strip() or None
    if key is not None and not service_types.type_versions(db.session, key):
        raise NotFound(f"service type {key!r} is not deployed")
    document = document_from_post(request.form, key)
    if key is None and service_types.type_versions(db.session, document["key"]):
        errors = {"key": [_("A type with this key exists already.")]}
        return _render(document, key=None, errors=errors, status=422)
    try:
        check_saved(db.session, document)
        saved_key, version, created = service_types.store(
            db.session, document, current_user.username, "ui"
        )
        db.session.commit()
    except DeploymentError as exc:
        db.session.rollback()
        flash(_("Please correct the marked fields."), "error")
        return _render(document, key=key, errors=_problems(exc), status=422)
    if created:
        flash(_("Saved as version %(version)s.", version=version), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("ui.service_type_page", key=saved_key))
