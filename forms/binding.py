"""Plugs form definitions into the engine: deployment of ``*.form.json`` files, the version a
new task pins, and the check of a completion against it.

A form key ``survey:TYPE`` names no stored form but the survey items bound to form type
TYPE: a callback task renders and checks those, at their current state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine import deployment, task_forms
from engine.errors import DeploymentError
from engine.identity import Actor

from . import widgets
from .format import parse_form
from .models import FormDefinition
from .store import deploy_form, get_form
from .survey import items_for, score, survey_schema
from .validation import validate_data

SURVEY_PREFIX = "survey:"
SURVEY_VERSION = 0
_LATEST_VERSION = sa.select(sa.func.max(FormDefinition.version)).where(
    FormDefinition.key == sa.bindparam("key")
)


def survey_type(form_key: str | None) -> str | None:
    if form_key and form_key.startswith(SURVEY_PREFIX):
        return form_key[len(SURVEY_PREFIX) :] or None
    return None


def form_for(session: Session, form_key: str, version: int | None, locale: str) -> dict | None:
    """The ``{"schema", "ui", "title"}`` a task renders with, or None for no such form.

    The schema and ui are shared with other callers (a stored version never changes, so
    it is read once per database): read them, never change them.
    """
    kind = survey_type(form_key)
    if kind is not None:
        items = items_for(session, kind)
        return {**survey_schema(items, locale), "title": None, "survey": True} if items else None
    if version is None:
        return None
    schema, ui, (zh, en) = _stored(session, form_key, version)
    first, second = (en, zh) if locale == "en" else (zh, en)
    title = first or second or form_key  # as FormDefinition.title
    return {"schema": schema, "ui": ui, "title": title, "survey": False}


_STORED: OrderedDict[tuple, tuple[dict, Any, tuple[str, str]]] = OrderedDict()
_STORED_SIZE = 512
_STORED_LOCK = threading.Lock()


def _stored(session: Session, key: str, version: int) -> tuple[dict, Any, tuple[str, str]]:
    """A stored form version by (database, key, version): every completion checks one, and
    a version is immutable, so the row is read from the database only on a miss."""
    cache_key = (session.get_bind(), key, version)
    with _STORED_LOCK:
        hit = _STORED.get(cache_key)
        if hit is not None:
            _STORED.move_to_end(cache_key)
            return hit
    form = get_form(session, key, version)
    found = (form.schema, form.ui, (form.title_zh, form.title_en))
    with _STORED_LOCK:
        _STORED[cache_key] = found
        while len(_STORED) > _STORED_SIZE:
            _STORED.popitem(last=False)
    return found


class _Binding:
    def current_version(self, session: Session, form_key: str) -> int | None:
        if survey_type(form_key) is not None:
            return SURVEY_VERSION
        with session.no_autoflush:  # forms are not what a command has pending: no flush
            return session.scalar(_LATEST_VERSION, {"key": form_key})

    def field_errors(
        self,
        session: Session,
        form_key: str,
        version: int | None,
        data: dict,
        locale: str,
        actor: Actor | None = None,
    ) -> dict[str, list[str]]:
        """The schema's errors, then, on fields valid so far, values naming no record the
        actor may pick (``forms.widgets``)."""
        form = form_for(session, form_key, version, locale)
        if form is None:  # a key naming no form (a survey with no items) declares no field
            return task_forms.undeclared(data, locale)
        document = {"schema": form["schema"], "ui": form["ui"]}
        errors = validate_data(document, data, locale)
        with session.no_autoflush:
            unknown = widgets.unknown_values(session, actor, document, data, locale)
        for path, messages in unknown.items():
            errors.setdefault(path, messages)
        return errors

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
    widgets.register_check("user", widgets.unknown_users, widgets.USER_MESSAGE)


def survey_fields(session: Session, form_key: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The weighted score a survey's answers earn, to be stored beside them."""
    kind = survey_type(form_key)
    if kind is None:
        return {}
    return {"survey_score": score(items_for(session, kind), answers)}
