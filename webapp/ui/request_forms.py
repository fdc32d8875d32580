"""The start forms of the service types on the caller page: one block of fields per type the
agent may open, drawn by the same code as a task's form, and read back from a post.

The fields of a type are posted as ``TYPE.FIELD`` (a page holds several types' blocks, so
their names must not meet); only the chosen type's are read, and one that its start form does
not declare is refused like an undeclared field on a task page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from aftersales.orders.types import TypeSpec
from engine import task_forms
from forms.binding import form_for
from forms.coerce import undeclared_inputs
from forms.validation import coerce_post

from .form_view import Field, form_fields


def start_form(session: Session, spec: TypeSpec, locale: str) -> dict | None:
    if not spec.start_form:
        return None
    version = task_forms.current_version(session, spec.start_form)
    return form_for(session, spec.start_form, version, locale)


def start_blocks(
    session: Session,
    specs: list[TypeSpec],
    locale: str,
    chosen: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Per type: its key, name, what it asks of the product, and its start form's fields
    (with the posted values and errors for the chosen one)."""
    blocks = []
    for spec in specs:
        form = start_form(session, spec, locale)
        mine = spec.key == chosen
        fields: list[Field] = (
            form_fields(
                form, (values or {}) if mine else {}, (errors or {}) if mine else {}, locale
            )
            if form
            else []
        )
        blocks.append(
            {
                "key": spec.key,
                "name": spec.name(locale),
                "product": spec.product,
                "fields": fields,
                "prefix": f"{spec.key}.",
            }
        )
    return blocks


def posted_start_data(
    session: Session, spec: TypeSpec, posted: MultiDict, locale: str
) -> tuple[dict[str, Any], list[str]]:
    """The chosen type's start data from the post, and the names it does not declare."""
    prefix = f"{spec.key}."
    mine: MultiDict = MultiDict(
        (name[len(prefix) :], value)
        for name, value in posted.items(multi=True)
        if name.startswith(prefix)
    )
    form = start_form(session, spec, locale)
    if form is None:
        return {}, list(mine)
    return coerce_post(form, mine), undeclared_inputs(form, list(mine))
