"""Editing a decision table (DMN) in the browser with dmn-js and deploying it as a new
version, checked exactly as ``csm deploy`` checks it."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from lxml import etree

from engine.models import ProcessDefinition
from engine.parsing import DMN_NAMESPACES, FileProblem, FileRefused, read_model_file

from ..headers import allow_style_attributes
from ..i18n import current_locale
from . import bp
from .design_pages import definition_or_404, deploy_checked, flash_results

EDITOR_TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


@functools.cache
def editor_translations(locale: str) -> dict[str, str]:
    """dmn-js's own labels in the reader's language (it ships English only)."""
    found = EDITOR_TRANSLATIONS / f"dmn-js.{locale}.json"
    return json.loads(found.read_text(encoding="utf-8")) if found.is_file() else {}


def _editor(definition: ProcessDefinition, xml: str, problems: list, status: int = 200):  # noqa: ANN202
    page = render_template(
        "definitions/decision_editor.html",
        definition=definition,
        xml=xml,
        problems=problems,
        translations=editor_translations(current_locale()),
    )
    return allow_style_attributes(make_response(page, status))


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
def decision_editor(key: str):  # noqa: ANN201
    definition = definition_or_404(key, request.args.get("version"), "dmn")
    return _editor(definition, definition.source, [])


@bp.post("/decisions/<key>/deploy")
def deploy_decision(key: str):  # noqa: ANN201
    definition = definition_or_404(key, None, "dmn")
    xml = request.form.get("xml", "")
    name = f"{key}.dmn"
    content = xml.encode("utf-8")
    try:
        if key not in decision_ids(name, content):
            raise FileRefused(
                FileProblem(name, _("The file must keep the decision %(key)s.", key=key))
            )
    except FileRefused as exc:
        return _editor(definition, xml, [exc.problem.as_dict()], 422)
    results, problems = deploy_checked([(name, content)], "web")
    if problems:
        return _editor(definition, xml, problems, 422)
    flash_results(results)
    return redirect(url_for("ui.decision_editor", key=key))
