"""The case record as pages draw it: each completed step's data shown by the form that
recorded it (its labels, option names, tables, photos and signature), beside the facts the
domain gathered (``aftersales.orders.case``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.orders.case import Case, Step
from forms.binding import form_for

from ..models import Attachment
from . import bp
from .form_view import Field, form_fields


@dataclass(frozen=True)
class ShownStep:
    step: Step
    name: str
    by: str
    fields: list[Field]


def shown_steps(session: Session, case: Case, locale: str) -> list[ShownStep]:
    shown = []
    for step in case.steps:
        form = (
            form_for(session, step.form_key, step.form_version, locale) if step.form_key else None
        )
        fields = [
            f
            for f in (form_fields(form, step.data, {}, locale) if form else [])
            if f.name in step.data and step.data[f.name] not in (None, "", [])
        ]
        shown.append(
            ShownStep(
                step=step,
                name=case.names.get(step.activity)
                or (form.get("title") if form and not step.activity else None)
                or step.name,
                by=case.person(step.completed_by),
                fields=fields,
            )
        )
    return shown


def attachments_of(session: Session, instance_id: int | None) -> list[Attachment]:
    if instance_id is None:
        return []
    return list(
        session.scalars(
            sa.select(Attachment)
            .where(Attachment.instance_id == instance_id)
            .order_by(Attachment.created_at)
        )
    )


@bp.app_template_global("option_label")
def option_label(f: Field, value: Any) -> str:
    """The name a select, radio or yes/no field gives a stored value."""
    for option, label in f.options:
        if option == value or str(option) == str(value):
            return label
    return "" if value is None else str(value)
