"""Service form types (单据类型) as data: what an agent opens for a customer.

A type is a ``*.service.json`` file (CONTRACT.md) deployed beside the BPMN and forms, or a
document a designer saves in the browser; both pass the same checks and make a new version
only when the content changed. Nothing in the code names a type: opening, numbering, the
board's columns and who may open what all read the type's latest version, so a type deployed
while the server runs is usable at once in every web and worker process.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.orders.models import ServiceType
from engine.business_status import STATUS_PATTERN
from engine.errors import DeploymentError, InvalidInput, NotFound
from engine.identity import ROLES, Actor

SUFFIX = ".service.json"
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PREFIX = re.compile(r"^[A-Z]{1,4}$")
NEEDS = ("required", "optional", "none")
MEMBERS = {
    "key",
    "name",
    "prefix",
    "process",
    "start_form",
    "open",
    "customer",
    "product",
    "callback",
    "statuses",
}
REQUIRED = ("key", "name", "prefix", "process", "statuses")
MAX_BYTES = 64 * 1024
MAX_STATUSES = 30
SOURCES = ("file", "ui", "api")


@dataclass(frozen=True)
class Status:
    key: str
    name_zh: str
    name_en: str
    final: bool

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh


@dataclass(frozen=True)
class TypeSpec:
    """One version of a type as the code reads it (immutable, so it is cached per row)."""

    key: str
    version: int
    name_zh: str
    name_en: str
    prefix: str
    process: str
    start_form: str | None
    open_roles: frozenset[str]
    open_groups: frozenset[str]
    customer: str
    product: str
    callback: str | None
    statuses: tuple[Status, ...]

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh

    @property
    def first_status(self) -> str:
        return self.statuses[0].key

    def status(self, key: str) -> Status | None:
        return next((s for s in self.statuses if s.key == key), None)

    def is_final(self, key: str) -> bool:
        found = self.status(key)
        return found is not None and found.final

    def may_open(self, actor: Actor) -> bool:
        return (
            actor.is_admin
            or bool(self.open_roles & set(actor.roles))
            or bool(self.open_groups & set(actor.groups))
        )


def problem(name: str, message: str, element: str = "$") -> dict:
    return {"file": name, "line": None, "element": element, "message": message}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    keys = [k for k, _ in pairs]
    doubled = sorted({k for k in keys if keys.count(k) > 1})
    if doubled:
        raise ValueError(f"duplicate member {doubled[0]!r}")
    return dict(pairs)


def read_document(name: str, content: bytes | str) -> tuple[dict | None, list[dict]]:
    """The file as a JSON object, or the problems that stop it being one."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    if len(content) > MAX_BYTES:
        return None, [problem(name, f"file is larger than {MAX_BYTES // 1024} KB")]
    try:
        document = json.loads(content.decode("utf-8-sig"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        return None, [problem(name, "not UTF-8 text")]
    except (ValueError, RecursionError) as exc:
        return None, [problem(name, f"not valid JSON: {exc}")]
    if not isinstance(document, dict):
        return None, [problem(name, "a service type is a JSON object")]
    return document, []


def _names(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) <= {"zh", "en"}
        and all(
            isinstance(value.get(k), str) and 0 < len(value[k].strip()) <= 80 for k in ("zh", "en")
        )
    )


def check_document(name: str, document: dict) -> list[dict]:
    """Every problem of the document on its own (what it refers to is checked elsewhere)."""
    problems = []

    def refuse(message: str, element: str = "$") -> None:
        problems.append(problem(name, message, element))

    for member in sorted(set(document) - MEMBERS):
        refuse(f"unknown member {member!r}", f"$.{member}")
    for member in REQUIRED:
        if member not in document:
            refuse(f"{member!r} is required")
    key = document.get("key")
    if "key" in document and not (isinstance(key, str) and KEY.match(key)):
        refuse("key must match ^[a-z][a-z0-9_]{0,39}$", "$.key")
    if name.endswith(SUFFIX) and isinstance(key, str) and "/" not in name:
        stem = name.rsplit("/", 1)[-1][: -len(SUFFIX)]
        if stem and stem != key:
            refuse(f"the file {name!r} holds key {key!r}; name it {key}{SUFFIX}", "$.key")
    if "name" in document and not _names(document["name"]):
        refuse("name needs zh and en texts of 1 to 80 characters", "$.name")
    prefix = document.get("prefix")
    if "prefix" in document and not (isinstance(prefix, str) and PREFIX.match(prefix)):
        refuse("prefix is 1 to 4 capital letters (A-Z)", "$.prefix")
    for member in ("process", "start_form", "callback"):
        value = document.get(member)
        if (
            member in document
            and value is not None
            and not (isinstance(value, str) and KEY.match(value))
        ):
            refuse(f"{member} must be a key like ^[a-z][a-z0-9_]*$", f"$.{member}")
    if document.get("process") is None and "process" in document:
        refuse("process is required", "$.process")
    for member in ("customer", "product"):
        if member in document and document[member] not in NEEDS:
            refuse(f"{member} is one of {', '.join(NEEDS)}", f"$.{member}")
    problems.extend(_open_problems(name, document.get("open")))
    problems.extend(_status_problems(name, document.get("statuses")))
    return problems


def _open_problems(name: str, value: Any) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, dict) or set(value) - {"roles", "groups"}:
        return [problem(name, 'open is {"roles": [...], "groups": [...]}', "$.open")]
    problems = []
    for member in ("roles", "groups"):
        items = value.get(member, [])
        if not isinstance(items, list) or not all(
            isinstance(i, str) and KEY.match(i) for i in items
        ):
            problems.append(problem(name, f"open.{member} is a list of names", f"$.open.{member}"))
    unknown = sorted(set(value.get("roles") or []) - set(ROLES)) if not problems else []
    if unknown:
        problems.append(problem(name, f"unknown role {unknown[0]!r}", "$.open.roles"))
    return problems


def _status_problems(name: str, statuses: Any) -> list[dict]:
    if statuses is None:
        return []
    if not isinstance(statuses, list) or not statuses or len(statuses) > MAX_STATUSES:
        return [problem(name, f"statuses is a list of 1 to {MAX_STATUSES}", "$.statuses")]
    problems, seen = [], set()
    for index, status in enumerate(statuses):
        where = f"$.statuses[{index}]"
        if not isinstance(status, dict) or set(status) - {"key", "name", "final"}:
            problems.append(problem(name, "a status is {key, name, final?}", where))
            continue
        key = status.get("key")
        if not (isinstance(key, str) and STATUS_PATTERN.match(key)):
            problems.append(problem(name, "a status key matches ^[a-z][a-z0-9_]*$", where))
        elif key in seen:
            problems.append(problem(name, f"status {key!r} is listed twice", where))
        seen.add(key)
        if not _names(status.get("name")):
            problems.append(problem(name, "a status needs zh and en names", where))
        if not isinstance(status.get("final", False), bool):
            problems.append(problem(name, "final is true or false", where))
    if not problems and statuses[0].get("final"):
        problems.append(
            problem(name, "the first status (at opening) cannot be final", "$.statuses[0]")
        )
    return problems


def content_hash(document: dict) -> str:
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# parsed versions; keyed by content too, as row ids repeat across databases (tests, restores)
_specs: dict[tuple[str, int, str], TypeSpec] = {}


def spec_of(row: ServiceType) -> TypeSpec:
    cache_key = (row.key, row.version, row.content_hash)
    spec = _specs.get(cache_key)
    if spec is None:
        d = row.document
        opening = d.get("open") or {}
        spec = TypeSpec(
            key=row.key,
            version=row.version,
            name_zh=d["name"]["zh"],
            name_en=d["name"]["en"],
            prefix=d["prefix"],
            process=d["process"],
            start_form=d.get("start_form"),
            open_roles=frozenset(opening.get("roles") or ()),
            open_groups=frozenset(opening.get("groups") or ()),
            customer=d.get("customer", "required"),
            product=d.get("product", "optional"),
            callback=d.get("callback"),
            statuses=tuple(
                Status(s["key"], s["name"]["zh"], s["name"]["en"], bool(s.get("final")))
                for s in d["statuses"]
            ),
        )
        _specs[cache_key] = spec
    return spec


def _latest_row(session: Session, key: str) -> ServiceType | None:
    return session.scalar(
        sa.select(ServiceType)
        .where(ServiceType.key == key)
        .order_by(ServiceType.version.desc())
        .limit(1)
    )


CACHE = "service_types"  # the session's read of the types: one query per request, not per use


def _session_cache(session: Session) -> dict[str, Any]:
    return session.info.setdefault(CACHE, {})


def forget(session: Session) -> None:
    """Drop the session's read of the types (a type was stored, or the caller wants a fresh
    read)."""
    session.info.pop(CACHE, None)


@sa.event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    forget(session)


def latest_rows(session: Session) -> list[ServiceType]:
    """The latest version of every type, in the order they were first deployed (read once per
    session: a request's pages and the commands it runs see the same types)."""
    cache = _session_cache(session)
    if "latest" not in cache:
        cache["latest"] = _latest_rows(session)
    return cache["latest"]


def _latest_rows(session: Session) -> list[ServiceType]:
    latest = (
        sa.select(
            ServiceType.key,
            sa.func.max(ServiceType.version).label("version"),
            sa.func.min(ServiceType.id).label("first"),
        )
        .group_by(ServiceType.key)
        .subquery()
    )
    return list(
        session.scalars(
            sa.select(ServiceType)
            .join(
                latest,
                sa.and_(ServiceType.key == latest.c.key, ServiceType.version == latest.c.version),
            )
            .order_by(latest.c.first)
        )
    )


def latest_types(session: Session) -> list[TypeSpec]:
    return [spec_of(row) for row in latest_rows(session)]


def get_type(session: Session, key: str, version: int | None = None) -> TypeSpec:
    if version is None:
        row = _latest_row(session, key) if isinstance(key, str) else None
    else:
        row = session.scalar(
            sa.select(ServiceType).where(ServiceType.key == key, ServiceType.version == version)
        )
    if row is None:
        raise NotFound(f"service type {key!r} is not deployed")
    return spec_of(row)


def type_versions(session: Session, key: str) -> list[ServiceType]:
    return list(
        session.scalars(
            sa.select(ServiceType).where(ServiceType.key == key).order_by(ServiceType.version)
        )
    )


def is_order_process(session: Session, process_key: str) -> bool:
    """Whether some type's version opens orders with this process."""
    return (
        session.scalar(
            sa.select(ServiceType.id).where(ServiceType.process_key == process_key).limit(1)
        )
        is not None
    )


def statuses_by_type(session: Session) -> dict[tuple[str, int], TypeSpec]:
    """Every version of every type, for naming the statuses of orders of any version."""
    cache = _session_cache(session)
    if "all" not in cache:
        rows = session.scalars(sa.select(ServiceType))
        cache["all"] = {(r.key, r.version): spec_of(r) for r in rows}
    return cache["all"]


def store(
    session: Session, document: dict, created_by: str | None, source: str
) -> tuple[str, int, bool]:
    """Store a checked document as the next version unless it is unchanged."""
    if source not in SOURCES:
        raise InvalidInput(f"source is one of {', '.join(SOURCES)}")
    digest = content_hash(document)
    latest = _latest_row(session, document["key"])
    if latest is not None and latest.content_hash == digest:
        return latest.key, latest.version, False
    row = ServiceType(
        key=document["key"],
        version=(latest.version + 1) if latest else 1,
        content_hash=digest,
        name_zh=document["name"]["zh"].strip(),
        name_en=document["name"]["en"].strip(),
        prefix=document["prefix"],
        process_key=document["process"],
        document=document,
        source=source,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    forget(session)
    return row.key, row.version, True


def refused(problems: list[dict]) -> DeploymentError:
    return DeploymentError(
        "; ".join(f"{p['file']} ({p['element']}): {p['message']}" for p in problems), problems
    )
