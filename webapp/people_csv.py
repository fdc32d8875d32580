"""Bulk loading of organisation units and users from CSV, all or nothing.

Units: ``code,name,kind,parent``. Users: ``username,display_name,org,roles,groups,password,
admin,active`` where roles and groups are separated by ``;`` and admin and active are yes/no
(active: blank keeps what the user has; no ends their sessions and tokens). A header row is
required; a bad row refuses the whole file with its line number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine.commands import CommandContext, SaveOrgUnit, execute
from engine.errors import EngineError, InvalidInput
from engine.identity import Actor, upsert_user

from .accounts import set_active

UNIT_COLUMNS = ("code", "name", "kind", "parent")
USER_COLUMNS = (
    "username",
    "display_name",
    "org",
    "roles",
    "groups",
    "password",
    "admin",
    "active",
)
YES = ("yes", "y", "true", "1", "是")
NO = ("no", "n", "false", "0", "否")
MAX_ROWS = 20_000


def _rows(text: str, columns: tuple[str, ...], required: tuple[str, ...]) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        raise InvalidInput(
            f"the header must name {', '.join(required)} (and may name {', '.join(columns)})",
            {"missing": missing, "unknown": unknown},
        )
    reader.fieldnames = header
    rows = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS} rows per file")
        rows.append({k: (v or "").strip() for k, v in row.items() if k is not None})
    return rows


def _each(rows: list[dict], save: Callable[[dict], None]) -> int:
    for line, row in enumerate(rows, start=2):
        try:
            save(row)
        except EngineError as exc:
            raise InvalidInput(f"line {line}: {exc}", {"line": line}) from None
    return len(rows)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


@dataclass
class _ImportUnits:
    """Every row's ``SaveOrgUnit`` inside one command: one transaction, each move audited."""

    rows: list[dict]

    def execute(self, context: CommandContext) -> int:
        return _each(
            self.rows,
            lambda r: SaveOrgUnit(r["code"], r["name"], r["kind"], r.get("parent") or None).execute(
                context
            ),
        )


def import_units(session: Session, actor: Actor, text: str) -> int:
    """Units from CSV, parents first; administrators only, all or nothing (committed)."""
    rows = _rows(text, UNIT_COLUMNS, ("code", "name", "kind"))
    return execute(session, _ImportUnits(rows), actor)


def import_users(session: Session, text: str) -> int:
    rows = _rows(text, USER_COLUMNS, ("username",))

    def save(row: dict) -> None:
        if not row["username"]:
            raise InvalidInput("a user needs a username")
        password = row.get("password") or None
        user = upsert_user(
            session,
            username=row["username"],
            display_name=row.get("display_name") or None,
            org_code=row.get("org") or None,
            roles=_split(row["roles"]) if row.get("roles") else None,
            groups=_split(row["groups"]) if row.get("groups") else None,
            is_admin=row.get("admin", "").lower() in YES if row.get("admin") else None,
            password_hash=generate_password_hash(password) if password else None,
        )
        active = (row.get("active") or "").lower()
        if active:
            if active not in YES + NO:
                raise InvalidInput(f"active is yes or no, not {row['active']!r}")
            set_active(session, user, active in YES)
        session.flush()

    return _each(rows, save)
