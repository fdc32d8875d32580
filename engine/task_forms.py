"""Where the engine meets form definitions, without knowing their format.

A task pins the version of its form when it is created, and a completion is checked
against that version. Data in equals the form: a task without a form accepts no data, and a
form accepts only the fields it declares. The forms package installs the binding; without
one, tasks carry no version and a form's fields are not checked (an engine used without
forms), but a task without a form still accepts no data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from .identity import Actor

NO_FORM = {"zh": "此任务没有表单，不接受此项", "en": "This task has no form for this field"}


class FormBinding(Protocol):
    def current_version(self, session: Session, form_key: str) -> int | None:
        """The version a task created now should be checked against; None if no such form."""

    def field_errors(
        self,
        session: Session,
        form_key: str,
        version: int | None,
        data: dict,
        locale: str,
        actor: Actor | None = None,
    ) -> dict[str, list[str]]:
        """Errors per field path of ``data`` against that form version; empty when valid.

        A form accepts only the fields it declares; a key that names no form declares none.
        ``actor``: who submits it, for fields whose value must name a record they may pick.
        """

    def derived_fields(self, session: Session, form_key: str, data: dict) -> dict:
        """Values the form computes from the submitted ones (a survey's weighted score)."""


_binding: FormBinding | None = None


def install(binding: FormBinding | None) -> None:
    global _binding
    _binding = binding


def current_version(session: Session, form_key: str | None) -> int | None:
    if _binding is None or not form_key:
        return None
    return _binding.current_version(session, form_key)


def undeclared(data: dict, locale: str) -> dict[str, list[str]]:
    """Every submitted field refused: the answer of a task (or form) that declares none."""
    message = NO_FORM["en" if str(locale).lower().startswith("en") else "zh"]
    return {str(name): [message] for name in data}


def field_errors(
    session: Session,
    form_key: str | None,
    version: int | None,
    data: dict,
    locale: str,
    actor: Actor | None = None,
) -> dict[str, list[str]]:
    """Errors per field path of a completion's data; without a form, any field is one."""
    if not form_key:
        return undeclared(data, locale)
    if _binding is None:
        return {}
    return _binding.field_errors(session, form_key, version, data, locale, actor)


def derived_fields(session: Session, form_key: str | None, data: dict) -> dict:
    if _binding is None or not form_key:
        return {}
    return _binding.derived_fields(session, form_key, data)
