"""Editing a decision table (DMN) in the browser with dmn-js and deploying it as a new
version, checked exactly as ``csm deploy`` checks it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from lxml import etree

from engine.commands import Deploy, execute
from engine.errors import DeploymentError, Forbidden
from engine.models import ProcessDefinition
from engine.parsing import DMN_NAMESPACES, FileProblem, FileRefused, read_model_file

from ..extensions import db
from . import bp
from .helpers import is_number


def _decision(key: str, version: str | None = None) -> ProcessDefinition:
    query = sa.select(ProcessDefinition).where(
        ProcessDefinition.kind == "dmn", ProcessDefinition.key == key[:200]
    )
    if version is not None:
        if not is_number(version):
            abort(404)
        query = query.where(ProcessDefinition.version == int(version))
    found = db.session.scalar(query.order_by(ProcessDefinition.version.desc()).limit(1))
    if found is None:
        abort(404)
    return found


def _editor(definition: ProcessDefinition, xml: str, problems: list, status: int = 200):  # noqa: ANN202
    page = render_template(
        "definitions/decision_editor.html", definition=definition, xml=xml, problems=problems
    )
    return page, status


def decision_ids(name: str, xml: bytes) -> list[str]:
    """The decisions a DMN document defines; raises FileRefused for what is no DMN."""
    model = read_model_file(name, xml)
    if model.kind != "dmn":
        raise FileRefused(FileProblem(name, "not a DMN document"))
    return [
        element.get("id")
        for element in model.root.iter()
        if isinstance(element.tag, str)
        and etree.QName(element).localname == "decision"
        and etree.QName(element).namespace in DMN_NAMESPACES
    ]


@bp.get("/decisions/<key>/edit")
@login_required
def decision_editor(key: str):  # noqa: ANN201
    if not current_user.actor.may_deploy:
        raise Forbidden("only process designers and administrators edit decision tables")
    definition = _decision(key, request.args.get("version"))
    return _editor(definition, definition.source, [])


@bp.post("/decisions/<key>/deploy")
@login_required
def deploy_decision(key: str):  # noqa: ANN201
    if not current_user.actor.may_deploy:
        raise Forbidden("only process designers and administrators edit decision tables")
    definition = _decision(key)
    xml = request.form.get("xml", "")
    name = f"{key}.dmn"
    try:
        ids = decision_ids(name, xml.encode("utf-8"))
        if key not in ids:
            raise FileRefused(
                FileProblem(name, _("The file must keep the decision %(key)s.", key=key))
            )
        results = execute(
            db.session, Deploy([(name, xml.encode("utf-8"))], source="web"), current_user.actor
        )
    except FileRefused as exc:
        return _editor(definition, xml, [exc.problem.as_dict()], 422)
    except DeploymentError as exc:
        db.session.rollback()
        return _editor(definition, xml, exc.details or [{"message": exc.message}], 422)
    mine = next(r for r in results if r.key == key)
    if mine.created:
        flash(_("Deployed %(key)s version %(version)s.", key=key, version=mine.version), "success")
    else:
        flash(
            _("%(key)s is unchanged (version %(version)s).", key=key, version=mine.version), "info"
        )
    return redirect(url_for("ui.decision_editor", key=key))
