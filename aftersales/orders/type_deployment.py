"""Deploying service types: the file kind the engine stores beside BPMN and forms, and the
checks across a deployment that a type file alone cannot make (its process, start form and
the statuses the process names; another type's prefix).

A BPMN file deployed alone is checked too: a new version of a type's process (or of a
process it calls) that names a status the type does not list is refused.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from aftersales.orders import types
from aftersales.orders.models import ServiceOrder
from aftersales.orders.service import RESERVED_VARIABLES
from engine import deployment
from engine.business_status import BPMN, called_processes, named_statuses
from engine.deployment import latest_definition, process_startable
from engine.models import ProcessInstance
from engine.parsing import ModelFile, read_model_file
from forms.models import FormDefinition


class ServiceTypeFiles:
    suffix = types.SUFFIX
    kind = "service_type"

    def check(self, name: str, content: bytes) -> list[dict]:
        document, problems = types.read_document(name, content)
        return problems or types.check_document(name, document)

    def store(
        self, session: Session, name: str, content: bytes, deployed_by: str | None
    ) -> tuple[str, int, bool]:
        document, _ = types.read_document(name, content)
        return types.store(session, document, deployed_by, "file")


class _Processes:
    """Process XML by key: this deployment's files first, then the latest deployed version."""

    def __init__(self, session: Session, models: list[ModelFile]) -> None:
        self.session = session
        self.roots: dict[str, etree._Element] = {}
        self.deployed_here: set[str] = set()
        for model in models:
            if model.kind != "bpmn":
                continue
            for process in model.root.iter(f"{{{BPMN}}}process"):
                self.roots[process.get("id")] = model.root
                self.deployed_here.add(process.get("id"))

    def root(self, key: str) -> etree._Element | None:
        if key not in self.roots:
            row = latest_definition(self.session, key)
            self.roots[key] = (
                read_model_file(row.file_name or f"{key}.bpmn", row.source.encode()).root
                if row is not None
                else None
            )
        return self.roots[key]

    def exists(self, key: str) -> bool:
        return self.root(key) is not None

    def startable(self, key: str) -> bool:
        if key in self.deployed_here:
            return any(
                process_startable(p)
                for p in self.roots[key].iter(f"{{{BPMN}}}process")
                if p.get("id") == key
            )
        row = latest_definition(self.session, key)
        return row is None or row.startable

    def closure(self, key: str) -> tuple[dict[str, list[str]], set[str]]:
        """The statuses named by the process and every process it calls (status ->
        "process/element"), and the processes visited."""
        found: dict[str, list[str]] = {}
        seen: set[str] = set()
        todo = [key]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            root = self.root(current)
            if root is None:
                continue
            for status, elements in named_statuses(root, current).items():
                found.setdefault(status, []).extend(f"{current}/{e}" for e in elements)
            todo.extend(called_processes(root, current))
        return found, seen


def _deployed_forms(files: list[tuple[str, bytes]]) -> dict[str, set[str]]:
    """The forms of this deployment: key -> the fields their schema declares."""
    found: dict[str, set[str]] = {}
    for name, content in files:
        if name.lower().endswith(".form.json"):
            try:
                document = json.loads(content.decode("utf-8-sig"))
                fields = set((document.get("schema") or {}).get("properties") or {})
                found[document.get("key")] = fields
            except (ValueError, AttributeError, UnicodeDecodeError):
                continue
    return found


def _form_fields(session: Session, key: str, here: dict[str, set[str]]) -> set[str] | None:
    """The fields form ``key`` declares (this deployment's version first), None if none."""
    if key in here:
        return here[key]
    form = session.scalar(
        sa.select(FormDefinition)
        .where(FormDefinition.key == key)
        .order_by(FormDefinition.version.desc())
        .limit(1)
    )
    return set((form.schema or {}).get("properties") or {}) if form is not None else None


def _started_alone(session: Session, process_key: str) -> bool:
    """Whether the process has instances that no order opened (it is someone's process)."""
    return (
        session.scalar(
            sa.select(ProcessInstance.id)
            .where(
                ProcessInstance.process_key == process_key,
                ~sa.exists().where(ServiceOrder.process_instance_id == ProcessInstance.id),
            )
            .limit(1)
        )
        is not None
    )


def check_type(
    session: Session,
    name: str,
    document: dict[str, Any],
    processes: _Processes,
    forms_here: dict[str, set[str]],
    prefixes: dict[str, str],
) -> list[dict]:
    """What a type refers to: its process (startable on its own by an order), its start form,
    the statuses its process names, and a prefix no other type uses."""
    problems = []

    def refuse(message: str, element: str) -> None:
        problems.append(types.problem(name, message, element))

    key, process = document["key"], document["process"]
    if not processes.exists(process):
        refuse(f"process {process!r} is neither in this deployment nor deployed", "$.process")
    elif not processes.startable(process):
        refuse(f"process {process!r} is only called by other processes", "$.process")
    elif not types.is_order_process(session, process) and _started_alone(session, process):
        refuse(
            f"process {process!r} has instances started on their own; "
            "an order type's process is started only by opening orders",
            "$.process",
        )
    else:
        problems.extend(_status_coverage(name, document, processes))
    start_form = document.get("start_form")
    fields = _form_fields(session, start_form, forms_here) if start_form else set()
    if fields is None:
        refuse(f"form {start_form!r} is neither in this deployment nor deployed", "$.start_form")
    elif reserved := sorted(fields & set(RESERVED_VARIABLES)):
        refuse(
            f"start form {start_form!r} declares {', '.join(reserved)}, which the order sets",
            "$.start_form",
        )
    owner = prefixes.get(document["prefix"])
    if owner is not None and owner != key:
        refuse(f"prefix {document['prefix']!r} is already used by type {owner!r}", "$.prefix")
    return problems


def _status_coverage(name: str, document: dict, processes: _Processes) -> list[dict]:
    listed = {s["key"] for s in document["statuses"]}
    named, _ = processes.closure(document["process"])
    return [
        types.problem(
            name,
            f"{', '.join(sorted(elements))} set(s) status {status!r}, which type "
            f"{document['key']!r} does not list",
            "$.statuses",
        )
        for status, elements in sorted(named.items())
        if status not in listed
    ]


def check_deployment(
    session: Session, models: list[ModelFile], files: list[tuple[str, bytes]]
) -> list[dict]:
    documents = {}
    for name, content in files:
        if name.lower().endswith(types.SUFFIX):
            document, _ = types.read_document(name, content)
            documents[name] = document
    processes = _Processes(session, models)
    if not documents and not processes.deployed_here:
        return []
    deployed = {row.key: row for row in types.latest_rows(session)}
    prefixes = {row.prefix: row.key for row in deployed.values()}
    problems = []
    mine: dict[str, str] = {}
    redeployed = [d["key"] for d in documents.values()]
    others = {p: k for p, k in prefixes.items() if k not in redeployed}
    forms_here = _deployed_forms(files)
    for name, document in documents.items():
        if redeployed.count(document["key"]) > 1:
            problems.append(types.problem(name, f"type {document['key']!r} is deployed twice"))
        other = mine.get(document["prefix"])
        if other is not None and other != document["key"]:
            problems.append(
                types.problem(name, f"prefix {document['prefix']!r} is also type {other!r}'s")
            )
        mine[document["prefix"]] = document["key"]
        problems.extend(check_type(session, name, document, processes, forms_here, others))
    for key, row in deployed.items():
        if key in redeployed:
            continue
        _, visited = processes.closure(row.process_key)
        if visited & processes.deployed_here:
            problems.extend(_status_coverage(f"{key}{types.SUFFIX}", row.document, processes))
    return problems


def check_saved(session: Session, document: dict[str, Any]) -> None:
    """A type edited in the browser: the same checks as a file, against what is deployed."""
    name = f"{document.get('key')}{types.SUFFIX}"
    problems = types.check_document(name, document)
    if not problems:
        processes = _Processes(session, [])
        prefixes = {row.prefix: row.key for row in types.latest_rows(session)}
        problems = check_type(session, name, document, processes, {}, prefixes)
    if problems:
        raise types.refused(problems)


def install() -> None:
    deployment.register_file_kind(ServiceTypeFiles())
    deployment.register_deployment_check(check_deployment)
