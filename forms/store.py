"""Form versions in the database: deploy from files, save from the UI, read them back.

A version is never changed: a task keeps validating against the version it was created with.
An unchanged form (same canonical-JSON hash as the latest version) stores nothing, so
deploying a folder twice is harmless. Functions here flush, the caller commits.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound

from .format import ParsedForm, parse_document, parse_form
from .models import FormDefinition

SOURCES = ("file", "ui", "api")


class FormVersions(NamedTuple):
    form: FormDefinition
    versions: int


def deploy_form(
    session: Session, name: str, content: bytes, actor: Any, source: str = "file"
) -> tuple[str, int, bool]:
    """Check a form file and store it as the next version unless unchanged.

    Returns (key, version, created). Raises FormFileError (a DeploymentError) for a bad file.
    """
    return _store(session, parse_form(name, content), actor, source)


def save_form(
    session: Session, key: str, document: dict[str, Any], actor: Any
) -> tuple[str, int, bool]:
    """Store a form edited in the UI: the same checks as a file, a new version when changed."""
    if not isinstance(document, dict):
        raise InvalidInput("a form is a JSON object")
    document = {**document, "key": document.get("key", key)}
    if document["key"] != key:
        raise InvalidInput(f"the document's key {document['key']!r} is not {key!r}")
    return _store(session, parse_document(f"{key}.form.json", _plain(document)), actor, "ui")


def _plain(document: dict[str, Any]) -> Any:
    """The document as JSON would read it (tuples become lists, no shared objects)."""
    try:
        return json.loads(json.dumps(document, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the form is not plain JSON: {exc}") from None


def _store(session: Session, parsed: ParsedForm, actor: Any, source: str) -> tuple[str, int, bool]:
    if source not in SOURCES:
        raise InvalidInput(f"source is one of {', '.join(SOURCES)}, not {source!r}")
    digest = parsed.content_hash
    latest = _latest(session, parsed.key)
    if latest is not None and latest.content_hash == digest:
        return latest.key, latest.version, False
    row = FormDefinition(
        key=parsed.key,
        version=(latest.version + 1) if latest else 1,
        content_hash=digest,
        title_zh=parsed.title_zh,
        title_en=parsed.title_en,
        schema=parsed.schema,
        ui=parsed.ui,
        created_by=_username(actor),
        source=source,
    )
    session.add(row)
    session.flush()
    return row.key, row.version, True


def _username(actor: Any) -> str | None:
    if actor is None or isinstance(actor, str):
        return actor
    return getattr(actor, "username", None)


def _latest(session: Session, key: str) -> FormDefinition | None:
    return session.scalar(
        sa.select(FormDefinition)
        .where(FormDefinition.key == key)
        .order_by(FormDefinition.version.desc())
        .limit(1)
    )


def latest_form(session: Session, key: str) -> FormDefinition:
    form = _latest(session, key)
    if form is None:
        raise NotFound(f"form {key!r} is not deployed")
    return form


def get_form(session: Session, key: str, version: int) -> FormDefinition:
    form = session.scalar(
        sa.select(FormDefinition).where(
            FormDefinition.key == key, FormDefinition.version == version
        )
    )
    if form is None:
        raise NotFound(f"form {key!r} has no version {version}")
    return form


def form_versions(session: Session, key: str) -> list[int]:
    return list(
        session.scalars(
            sa.select(FormDefinition.version)
            .where(FormDefinition.key == key)
            .order_by(FormDefinition.version)
        )
    )


def list_forms(session: Session) -> list[FormVersions]:
    """The latest version of every form key with how many versions it has, by key."""
    counts = (
        sa.select(
            FormDefinition.key,
            sa.func.max(FormDefinition.version).label("latest"),
            sa.func.count().label("versions"),
        )
        .group_by(FormDefinition.key)
        .subquery()
    )
    rows = session.execute(
        sa.select(FormDefinition, counts.c.versions)
        .join(
            counts,
            sa.and_(FormDefinition.key == counts.c.key, FormDefinition.version == counts.c.latest),
        )
        .order_by(FormDefinition.key)
    )
    return [FormVersions(form, versions) for form, versions in rows]


def form_document(form: FormDefinition) -> dict[str, Any]:
    """A stored version as a form document: what the UI editor loads and saves back."""
    return {
        "key": form.key,
        "title": {"zh": form.title_zh, "en": form.title_en},
        "schema": form.schema,
        "ui": form.ui,
    }
