"""Deployment: parse and check BPMN and DMN files together, then store new versions.

Every file of a deployment is checked before anything is stored; one bad file refuses the
whole deployment. A definition is its process (or decision) id and a version: an unchanged
file is a no-op, a changed one makes the next version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy.orm import Session

from .errors import DeploymentError
from .models import Deployment, ProcessDefinition
from .parsing import (
    NSMAP,
    FileProblem,
    FileRefused,
    ModelFile,
    check_decision_code,
    check_designer_code,
    check_executable,
    check_flows,
    check_service_parameters,
    describe,
    element_line,
    owner,
    read_model_file,
    safe_parser,
)
from .state import dump_spec


@dataclass
class DeployedDefinition:
    kind: str
    key: str
    version: int
    created: bool
    definition_id: int

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "version": self.version,
            "created": self.created,
            "kind": self.kind,
        }


def latest_definition(session: Session, key: str, kind: str = "bpmn") -> ProcessDefinition | None:
    return session.scalar(
        sa.select(ProcessDefinition)
        .where(ProcessDefinition.kind == kind, ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    )


def latest_definitions(session: Session, kind: str = "bpmn") -> list[ProcessDefinition]:
    """The newest version of every key, in one query."""
    newest = (
        sa.select(ProcessDefinition.key, sa.func.max(ProcessDefinition.version).label("version"))
        .where(ProcessDefinition.kind == kind)
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    return list(
        session.scalars(
            sa.select(ProcessDefinition)
            .join(
                newest,
                sa.and_(
                    ProcessDefinition.key == newest.c.key,
                    ProcessDefinition.version == newest.c.version,
                ),
            )
            .where(ProcessDefinition.kind == kind)
            .order_by(ProcessDefinition.key)
        )
    )


def find_definition(
    session: Session, key: str, version: int | None = None
) -> ProcessDefinition | None:
    if version is None:
        return latest_definition(session, key)
    return session.scalar(
        sa.select(ProcessDefinition).where(
            ProcessDefinition.kind == "bpmn",
            ProcessDefinition.key == key,
            ProcessDefinition.version == version,
        )
    )


def _problem_from_validation(model: ModelFile, exc: ValidationException) -> FileProblem:
    element = None
    if getattr(exc, "tag", ""):
        element = f"{exc.tag.replace('bpmn:', '')} {exc.id}".strip()
    message = str(exc.args[0]) if exc.args else str(exc)
    line = exc.line_number if isinstance(exc.line_number, int) else None
    if line is None and getattr(exc, "id", ""):
        line = element_line(model, exc.id)
    return FileProblem(model.name, message, line, element)


def _processes(model: ModelFile) -> list[etree._Element]:
    return [
        p
        for p in model.root.iterfind("bpmn:process", NSMAP)
        if p.get("isExecutable", "true") != "false"
    ]


def _decisions(model: ModelFile) -> list[etree._Element]:
    ns = etree.QName(model.root).namespace
    return list(model.root.iterfind(f"{{{ns}}}decision"))


def _start_lanes(process: etree._Element) -> list[str]:
    starts = {e.get("id") for e in process.iterfind("bpmn:startEvent", NSMAP)}
    lanes = []
    for lane in process.iterfind(".//bpmn:lane", NSMAP):
        refs = {ref.text.strip() for ref in lane.iterfind("bpmn:flowNodeRef", NSMAP) if ref.text}
        if refs & starts and lane.get("name"):
            lanes.append(lane.get("name"))
    return lanes


SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _start_form(process: etree._Element) -> str | None:
    """The form key of a plain start event, so the process can be started from a form."""
    for start in process.iterfind("bpmn:startEvent", NSMAP):
        if len(start):
            for prop in start.iter(f"{{{SPIFF_NS}}}property"):
                if prop.get("name") == "formKey" and prop.get("value"):
                    return prop.get("value")
    return None


def _process_property(process: etree._Element, name: str) -> str | None:
    """A ``spiffworkflow:property`` of the process itself (not of one of its elements)."""
    path = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
    for prop in process.iterfind(path, NSMAP):
        if prop.get("name") == name:
            return prop.get("value")
    return None


def process_startable(process: etree._Element) -> bool:
    """False for a process declared ``startable`` false: only other processes call it."""
    return (_process_property(process, "startable") or "true").strip() != "false"


def _share_startable(session: Session, row: ProcessDefinition) -> None:
    """The newest version's ``startable`` holds for every version of its key: an older one
    (deployed before the process was declared called-only) cannot be started by number."""
    session.execute(
        sa.update(ProcessDefinition)
        .where(
            ProcessDefinition.kind == row.kind,
            ProcessDefinition.key == row.key,
            ProcessDefinition.version < row.version,
        )
        .values(startable=row.startable)
    )


def _message_starts(model: ModelFile, process: etree._Element) -> list[str]:
    names = {
        m.get("id"): m.get("name") or m.get("id")
        for m in model.root.iterfind("bpmn:message", NSMAP)
    }
    found = []
    for start in process.iterfind("bpmn:startEvent", NSMAP):
        for definition in start.iterfind("bpmn:messageEventDefinition", NSMAP):
            name = names.get(definition.get("messageRef"))
            if name:
                found.append(name)
    return found


Reference = dict[str, tuple[ModelFile, etree._Element]]


def _referenced(models: list[ModelFile]) -> tuple[Reference, Reference]:
    """Called processes and decisions, each with the file and element that names it."""
    called: Reference = {}
    decisions: Reference = {}
    for model in models:
        for call in model.root.iterfind(".//bpmn:callActivity", NSMAP):
            if call.get("calledElement"):
                called.setdefault(call.get("calledElement"), (model, call))
        for ref in model.root.iterfind(".//spiffworkflow:calledDecisionId", NSMAP):
            if ref.text:
                decisions.setdefault(ref.text.strip(), (model, ref))
    return called, decisions


def _add_model(parser: SpiffBpmnParser, model: ModelFile) -> None:
    root = etree.fromstring(model.content, safe_parser())
    try:
        if model.kind == "bpmn":
            parser.add_bpmn_xml(root, model.name)
        else:
            parser.add_dmn_xml(root, model.name)
    except ValidationException as exc:
        raise FileRefused(_problem_from_validation(model, exc)) from None
    except etree.LxmlError as exc:
        raise FileRefused(FileProblem(model.name, f"invalid document: {exc}")) from None
    except (MemoryError, RecursionError):
        message = "the document is nested too deeply to read"
        raise FileRefused(
            FileProblem(model.name, message, model.root.sourceline, describe(model.root))
        ) from None


def _stored_models(
    session: Session, kind: str, refs: dict[str, tuple[ModelFile, etree._Element]], have: set[str]
) -> list[ModelFile]:
    """Latest deployed files for referenced processes or decisions not in this deployment."""
    models = []
    for key in sorted(set(refs) - have):
        definition = latest_definition(session, key, kind)
        if definition is None:
            model, element = refs[key]
            what = "process" if kind == "bpmn" else "decision"
            raise FileRefused(
                FileProblem(
                    model.name,
                    f"calls {what} {key!r}, which is neither in this deployment nor deployed",
                    element.sourceline,
                    describe(owner(element)),
                )
            )
        content = definition.source.encode()
        models.append(read_model_file(definition.file_name or f"{key}.{kind}", content))
    return models


class FileKind(Protocol):
    """Another kind of file deployed beside BPMN and DMN (form definitions), by suffix."""

    suffix: str
    kind: str

    def check(self, name: str, content: bytes) -> list[dict]:
        """Problems as ``{"file", "line", "element", "message"}``; empty when the file is good."""

    def store(
        self, session: Session, name: str, content: bytes, deployed_by: str | None
    ) -> tuple[str, int, bool]:
        """Store it unless unchanged: (key, version, created)."""


_file_kinds: dict[str, FileKind] = {}


def register_file_kind(kind: FileKind) -> None:
    _file_kinds[kind.suffix] = kind


DeploymentCheck = Callable[[Session, list[ModelFile], list[tuple[str, bytes]]], list[dict]]
_deployment_checks: list[DeploymentCheck] = []


def register_deployment_check(check: DeploymentCheck) -> None:
    """A check across the files of one deployment and what is deployed already (a service
    type against the statuses its process names): ``check(session, bpmn_and_dmn_models,
    all_files)`` returns problems as ``{"file", "line", "element", "message"}``."""
    if check not in _deployment_checks:
        _deployment_checks.append(check)


def _file_kind(name: str) -> FileKind | None:
    lowered = name.lower()
    return next((k for suffix, k in _file_kinds.items() if lowered.endswith(suffix)), None)


def check_files(files: list[tuple[str, bytes]]) -> tuple[list[ModelFile], list[FileProblem]]:
    models, problems = [], []
    for name, content in files:
        try:
            model = read_model_file(name, content)
            if model.kind == "bpmn":
                check_executable(model)
                check_flows(model)
                check_designer_code(model)
                check_service_parameters(model)
            else:
                check_decision_code(model)
            models.append(model)
        except FileRefused as exc:
            problems.append(exc.problem)
    return models, problems


def deploy(
    session: Session, files: list[tuple[str, bytes]], *, deployed_by: str | None, source: str
) -> list[DeployedDefinition]:
    """Check every file, then store the definitions that are new or changed.

    Raises DeploymentError (with a problem per file) and stores nothing when any file is bad.
    """
    if not files:
        raise DeploymentError("no files to deploy", [])
    others = [(name, content, _file_kind(name)) for name, content in files if _file_kind(name)]
    models, problems = check_files([f for f in files if _file_kind(f[0]) is None])
    found = [p.as_dict() for p in problems]
    for name, content, kind in others:
        found.extend(kind.check(name, content))
    if not found:
        for check in _deployment_checks:
            found.extend(check(session, models, files))
    if found:
        raise DeploymentError("; ".join(_describe(p) for p in found), found)

    bpmn_models = [m for m in models if m.kind == "bpmn"]
    dmn_models = [m for m in models if m.kind == "dmn"]
    process_ids = {p.get("id") for m in bpmn_models for p in m.root.iterfind("bpmn:process", NSMAP)}
    decision_ids = {d.get("id") for m in dmn_models for d in _decisions(m)}
    called, decisions = _referenced(bpmn_models)

    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        for model in dmn_models + _stored_models(session, "dmn", decisions, decision_ids):
            _add_model(parser, model)
        for model in bpmn_models + _stored_models(session, "bpmn", called, process_ids):
            _add_model(parser, model)
        specs = {}
        for model in bpmn_models:
            for process in _processes(model):
                key = process.get("id")
                specs[key] = _build_spec(parser, model, key)
    except FileRefused as exc:
        raise DeploymentError(str(exc.problem), [exc.problem.as_dict()]) from None

    deployment = Deployment(
        deployed_by=deployed_by, source=source, files=[name for name, _ in files]
    )
    session.add(deployment)
    session.flush()
    results = []
    for model in dmn_models:
        for decision in _decisions(model):
            results.append(
                _store(
                    session,
                    deployment,
                    model,
                    "dmn",
                    decision.get("id"),
                    decision.get("name") or "",
                    None,
                )
            )
    for model in bpmn_models:
        for process in _processes(model):
            key = process.get("id")
            definition = _store(
                session, deployment, model, "bpmn", key, process.get("name") or key, specs[key]
            )
            results.append(definition)
            row = session.get(ProcessDefinition, definition.definition_id)
            if definition.created:
                row.start_groups = _start_lanes(process)
                row.start_form_key = _start_form(process)
                row.message_starts = _message_starts(model, process)
                row.startable = process_startable(process)
                _share_startable(session, row)
    for name, content, kind in others:
        key, version, created = kind.store(session, name, content, deployed_by)
        results.append(DeployedDefinition(kind.kind, key, version, created, 0))
    return results


def _describe(problem: dict) -> str:
    where = problem.get("file") or ""
    if problem.get("line"):
        where += f":{problem['line']}"
    if problem.get("element"):
        where += f" ({problem['element']})"
    return f"{where}: {problem.get('message')}"


def _build_spec(parser: SpiffBpmnParser, model: ModelFile, key: str) -> str:
    try:
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
        return dump_spec(spec, subprocess_specs)
    except ValidationException as exc:
        raise FileRefused(_problem_from_validation(model, exc)) from None
    except Exception as exc:  # the parser reports some model errors as plain exceptions
        message = f"cannot build process {key!r}: {exc.__class__.__name__}: {exc}"
        raise FileRefused(FileProblem(model.name, message, None, f"process {key}")) from None


def _store(
    session: Session,
    deployment: Deployment,
    model: ModelFile,
    kind: str,
    key: str,
    name: str,
    spec_json: str | None,
) -> DeployedDefinition:
    digest = hashlib.sha256(model.content).hexdigest()
    latest = latest_definition(session, key, kind)
    if latest is not None and latest.content_hash == digest:
        return DeployedDefinition(kind, key, latest.version, False, latest.id)
    row = ProcessDefinition(
        kind=kind,
        key=key,
        version=(latest.version + 1) if latest else 1,
        name=name,
        file_name=model.name,
        content_hash=digest,
        source=model.content.decode("utf-8"),
        spec_json=spec_json,
        deployment_id=deployment.id,
    )
    session.add(row)
    session.flush()
    return DeployedDefinition(kind, key, row.version, True, row.id)
