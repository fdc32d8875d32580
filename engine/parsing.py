"""Reading BPMN and DMN files safely, and checking the code designers wrote in them.

lxml's defaults resolve entities; a hostile file could read local files or expand an entity
bomb. Files here are parsed with entities, DTDs and the network off and a size limit, and a
document with a DOCTYPE is refused before lxml sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .errors import ScriptError
from .scripting import check_expression, check_script

MAX_FILE_BYTES = 5 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = {
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
}
NSMAP = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
ISO_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_UNQUOTED_TIME = re.compile(r"^(R\d*/)?(P[0-9YMWDTHS.]+|\d{4}-\d{2}-\d{2}\S*)(/\S+)?$")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass
class FileProblem:
    """Where a file went wrong, in terms a designer can act on."""

    file: str
    message: str
    line: int | None = None
    element: str | None = None

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "element": self.element,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element:
            where += f" ({self.element})"
        return f"{where}: {self.message}"


class FileRefused(Exception):
    def __init__(self, problem: FileProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class ModelFile:
    name: str
    content: bytes
    kind: str
    root: etree._Element = field(repr=False)


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def read_model_file(name: str, content: bytes) -> ModelFile:
    """Parse one uploaded file; raise FileRefused naming the file and line on any problem."""
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(FileProblem(name, f"file is larger than {MAX_FILE_BYTES} bytes"))
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise FileRefused(FileProblem(name, "file is not UTF-8 text", line)) from None
    match = _DOCTYPE.search(content)
    if match:
        line = content[: match.start()].count(b"\n") + 1
        raise FileRefused(
            FileProblem(name, "DOCTYPE and entity declarations are not allowed", line)
        )
    try:
        root = etree.fromstring(content, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise FileRefused(FileProblem(name, f"malformed XML: {exc.msg}", exc.lineno)) from None
    namespace = etree.QName(root).namespace
    if namespace == BPMN_NS and etree.QName(root).localname == "definitions":
        kind = "bpmn"
    elif namespace in DMN_NAMESPACES and etree.QName(root).localname == "definitions":
        kind = "dmn"
    else:
        raise FileRefused(
            FileProblem(name, "not a BPMN 2.0 or DMN definitions document", root.sourceline)
        )
    return ModelFile(name, content, kind, root)


def describe(element: etree._Element) -> str:
    tag = etree.QName(element).localname
    ident = element.get("id")
    return f"{tag} {ident}" if ident else tag


def owner(element: etree._Element) -> etree._Element:
    """The nearest ancestor with an id: the element a designer would look for."""
    node = element
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node if node is not None else element


def _check(file: str, element: etree._Element, source: str, mode: str, what: str) -> None:
    try:
        check_script(source) if mode == "exec" else check_expression(source)
    except ScriptError as exc:
        found = owner(element)
        raise FileRefused(
            FileProblem(
                file, f"{what} does not compile: {exc}", element.sourceline, describe(found)
            )
        ) from None


def check_flows(model: ModelFile) -> None:
    """Refuse sequence flows whose ends are not elements of the same process."""
    for process in model.root.iterfind("bpmn:process", NSMAP):
        ids = {e.get("id") for e in process.iter() if e.get("id")}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            for end in ("sourceRef", "targetRef"):
                ref = flow.get(end)
                if not ref or ref not in ids:
                    raise FileRefused(
                        FileProblem(
                            model.name,
                            f"{end} {ref!r} names no element of process {process.get('id')!r}",
                            flow.sourceline,
                            describe(flow),
                        )
                    )


def element_line(model: ModelFile, element_id: str) -> int | None:
    for element in model.root.iter():
        if element.get("id") == element_id:
            return element.sourceline
    return None


def check_designer_code(model: ModelFile) -> None:
    """Refuse a BPMN file whose scripts, conditions or expressions do not compile."""
    root, name = model.root, model.name
    for script in root.iterfind(".//bpmn:scriptTask/bpmn:script", NSMAP):
        _check(name, script, script.text or "", "exec", "script")
    for tag in ("preScript", "postScript"):
        for script in root.iterfind(f".//spiffworkflow:{tag}", NSMAP):
            if (script.text or "").strip():
                _check(name, script, script.text, "exec", tag)
    for cond in root.iterfind(".//bpmn:conditionExpression", NSMAP):
        if (cond.text or "").strip():
            _check(name, cond, cond.text, "eval", "condition")
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for timer in root.iterfind(f".//bpmn:{tag}", NSMAP):
            text = (timer.text or "").strip()
            if _UNQUOTED_TIME.match(text):
                found = owner(timer)
                raise FileRefused(
                    FileProblem(
                        name,
                        f'timer expressions are Python: write the literal quoted, "{text}"',
                        timer.sourceline,
                        describe(found),
                    )
                )
            _check(name, timer, text, "eval", "timer expression")
    for tag in ("loopCardinality", "completionCondition"):
        for expr in root.iterfind(f".//bpmn:{tag}", NSMAP):
            if (expr.text or "").strip():
                _check(name, expr, expr.text, "eval", tag)
    for param in root.iterfind(".//spiffworkflow:parameter", NSMAP):
        if param.get("value") is not None:
            _check(name, param, param.get("value"), "eval", "service parameter")
    for payload in root.iterfind(".//spiffworkflow:messagePayload", NSMAP):
        if (payload.text or "").strip():
            _check(name, payload, payload.text, "eval", "message payload")
    for prop in root.iterfind(".//spiffworkflow:property", NSMAP):
        _check_property(name, prop)


def _check_property(file: str, prop: etree._Element) -> None:
    key, value = prop.get("name"), prop.get("value") or ""
    if key == "dueIn" and not ISO_DURATION.match(value.strip()):
        _check(file, prop, value, "eval", "dueIn expression")
    elif key == "title":
        _check(file, prop, value, "eval", "title expression")
    elif key == "priority":
        try:
            priority = int(value)
        except ValueError:
            priority = -1
        if not 0 <= priority <= 100:
            found = owner(prop)
            raise FileRefused(
                FileProblem(
                    file,
                    "priority must be a whole number from 0 to 100",
                    prop.sourceline,
                    describe(found),
                )
            )
