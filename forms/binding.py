"""Plugs form definitions into the engine: deployment of ``*.form.json`` files, the version a
new task pins, and the check of a completion against it.

A form key ``survey:TYPE`` names no stored form but the survey items bound to form type
TYPE: a callback task renders and checks those, at their current state.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine import deployment, task_forms
from engine.errors import DeploymentError

from .format import parse_form
from .models import FormDefinition
from .store import deploy_form, get_form
from .survey import items_for, score, survey_schema
from .validation import validate_data

SURVEY_PREFIX = "survey:"
SURVEY_VERSION = 0


def survey_type(form_key: str | None) -> str | None:
    if form_key and form_key.startswith(SURVEY_PREFIX):
        return form_key[len(SURVEY_PREFIX) :] or None
    return None


def form_for(session: Session, form_key: str, version: int | None, locale: str) -> dict | None:
    """The ``{"schema", "ui", "title"}`` a task renders with, or None for no such form."""
    kind = survey_type(form_key)
    if kind is not None:
        items = items_for(session, kind)
        return {**survey_schema(items, locale), "title": None, "survey": True} if items else None
    if version is None:
        return None
    form = get_form(session, form_key, version)
    return {"schema": form.schema, "ui": form.ui, "title": form.title(locale), "survey": False}


class _Binding:
    def current_version(self, session: Session, form_key: str) -> int | None:
        if survey_type(form_key) is not None:
            return SURVEY_VERSION
        return session.scalar(
            sa.select(sa.func.max(FormDefinition.version)).where(FormDefinition.key == form_key)
        )

    def field_errors(
        self, session: Session, form_key: str, version: int, data: dict, locale: str
    ) -> dict[str, list[str]]:
        form = form_for(session, form_key, version, locale)
        if form is None:
            return {}
        return validate_data({"schema": form["schema"], "ui": form["ui"]}, data, locale)

    def derived_fields(self, session: Session, form_key: str, data: dict) -> dict:
        return survey_fields(session, form_key, data)


class _FormFiles:
    suffix = ".form.json"
    kind = "form"

    def check(self, name: str, content: bytes) -> list[dict]:
        try:
            parse_form(name, content)
        except DeploymentError as exc:
            return list(exc.details or [])
        return []

    def store(
        self, session: Session, name: str, content: bytes, deployed_by: str | None
    ) -> tuple[str, int, bool]:
        return deploy_form(session, name, content, deployed_by, source="file")


def install() -> None:
    """Called once by every process that runs commands (web, worker, command line, tests)."""
    task_forms.install(_Binding())
    deployment.register_file_kind(_FormFiles())


def survey_fields(session: Session, form_key: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The weighted score a survey's answers earn, to be stored beside them."""
    kind = survey_type(form_key)
    if kind is None:
        return {}
    return {"survey_score": score(items_for(session, kind), answers)}
