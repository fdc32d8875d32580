"""The BPMN modeler (流程建模) for process designers and admins: edit a deployed version of a
process in the browser (bpmn-js with a properties panel of our own, static/js/modeler.js) and
deploy the result as its next version through the same ``Deploy`` command as ``csm deploy``."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.models import ProcessDefinition
from engine.parsing import BPMN_NS, FileRefused, read_model_file
from engine.services import registry
from forms.binding import SURVEY_PREFIX
from forms.models import FormDefinition, SurveyBinding

from ..extensions import db
from . import bp
from .design_pages import definition_or_404, deploy_checked

MODDLE_FILE = Path("js") / "spiffworkflow-moddle.json"


@functools.cache
def _moddle_descriptor(static_folder: str) -> dict[str, Any]:
    """The spiffworkflow moddle extension bpmn-js reads and writes our extension elements with."""
    return json.loads((Path(static_folder) / MODDLE_FILE).read_text(encoding="utf-8"))


def _operations() -> list[dict[str, Any]]:
    """Service-task operations as the panel offers them: name, parameters, first doc line."""
    operations = []
    for name in registry.names():
        operation = registry.get(name)
        if operation is None:
            continue
        description = (operation.description or "").strip().split("\n\n")[0]
        operations.append(
            {
                "name": name,
                "params": list(operation.parameters),
                "description": " ".join(description.split()),
            }
        )
    return operations


def _choices() -> dict[str, Any]:
    """What the panel offers: deployed decisions, form keys and process keys."""
    session = db.session
    decisions = session.execute(
        sa.select(ProcessDefinition.key, ProcessDefinition.name, ProcessDefinition.version)
        .where(ProcessDefinition.kind == "dmn")
        .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())
    ).all()
    newest: dict[str, str] = {}
    for key, name, _version in decisions:
        newest.setdefault(key, name or "")
    forms = session.scalars(sa.select(FormDefinition.key).distinct().order_by(FormDefinition.key))
    surveys = session.scalars(
        sa.select(SurveyBinding.form_type).distinct().order_by(SurveyBinding.form_type)
    )
    processes = session.scalars(
        sa.select(ProcessDefinition.key)
        .where(ProcessDefinition.kind == "bpmn")
        .distinct()
        .order_by(ProcessDefinition.key)
    )
    return {
        "decisions": [{"id": key, "name": name} for key, name in newest.items()],
        "forms": list(forms) + [SURVEY_PREFIX + kind for kind in surveys],
        "processes": list(processes),
    }


def _render(
    definition: ProcessDefinition, xml: str, problems: list[dict[str, Any]] | None = None
) -> str:
    return render_template(
        "definitions/modeler.html",
        key=definition.key,
        definition=definition,
        xml=xml,
        problems=problems or [],
        operations=_operations(),
        choices=_choices(),
        moddle=_moddle_descriptor(current_app.static_folder or ""),
    )


@bp.get("/definitions/<key>/edit")
def modeler_page(key: str):  # noqa: ANN201
    definition = definition_or_404(key, request.args.get("version"), "bpmn")
    return _render(definition, definition.source)


def _other_processes(key: str, name: str, content: bytes) -> list[dict[str, Any]]:
    """Problems when the file would deploy anything but process ``key`` (empty when it won't).

    A file that does not parse is left to ``Deploy``, which reports it as ``csm deploy`` does.
    """
    try:
        model = read_model_file(name, content)
    except FileRefused:
        return []
    if model.kind != "bpmn":
        message = _("This page deploys a BPMN process; the file is not one.")
        return [{"file": name, "line": model.root.sourceline, "element": None, "message": message}]
    problems = []
    executable = []
    for process in model.root.iterfind(f"{{{BPMN_NS}}}process"):
        if process.get("isExecutable", "true") == "false":
            continue
        executable.append(process.get("id"))
        if process.get("id") != key:
            problems.append(
                {
                    "file": name,
                    "line": process.sourceline,
                    "element": f"process {process.get('id')}",
                    "message": _(
                        "This page deploys process %(key)s only, not process %(other)s.",
                        key=key,
                        other=process.get("id"),
                    ),
                }
            )
    if key not in executable:
        problems.append(
            {
                "file": name,
                "line": model.root.sourceline,
                "element": None,
                "message": _(
                    "The file has no executable process %(key)s: keep the process id.", key=key
                ),
            }
        )
    return problems


@bp.post("/definitions/<key>/deploy")
def modeler_deploy(key: str):  # noqa: ANN201
    definition = definition_or_404(key, request.form.get("version") or None, "bpmn")
    # a form post turns line ends into CRLF; XML reads both alike, so store the file's own
    xml = (request.form.get("xml") or "").replace("\r\n", "\n")
    name = f"{definition.key}.bpmn"
    content = xml.encode("utf-8")
    problems = _other_processes(definition.key, name, content)
    if not problems:
        results, problems = deploy_checked([(name, content)], "modeler")
    if problems:
        return _render(definition, xml, problems), 422
    result = next(r for r in results if r.key == definition.key and r.kind == "bpmn")
    if result.created:
        flash(_("Deployed version %(version)s.", version=result.version), "success")
    else:
        flash(
            _(
                "Nothing changed: the file is the same as version %(version)s.",
                version=result.version,
            ),
            "info",
        )
    return redirect(url_for("ui.definition_page", key=definition.key, version=result.version))
