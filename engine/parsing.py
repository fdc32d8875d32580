"""Reading BPMN and DMN files safely, and checking the code designers wrote in them.

lxml's defaults resolve entities; a hostile file could read local files or expand an entity
bomb. Files here are parsed with entities, DTDs and the network off and a size limit, and a
document whose parsed tree has a DOCTYPE (entity declarations live only there) is refused,
whatever encoding it was written in: a byte pattern would miss a UTF-16 file.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from lxml import etree

from .errors import ScriptError
from .scripting import check_expression, check_script
from .services import registry as operations

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
_SENDER_NAMES = re.compile(r"^[\w.-]+(\s*,\s*[\w.-]+)*$")
_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_UTF8_NAMES = {"UTF-8", "UTF8", "US-ASCII", "ASCII"}
# DMN input entries: "?" outside quotes stands for the input, as SpiffWorkflow's DMNEngine has it.
_DMN_QUESTION = re.compile(r"(\?)(?=(?:[^\'\"]|[\'\"][^\'\"]*[\'\"])*$)")


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
        root = etree.fromstring(content, safe_parser())
    except etree.XMLSyntaxError as exc:
        if _doctype_line(content, None):  # an entity it could not resolve, a <!doctype>, ...
            raise _doctype_refusal(name, content, None) from None
        _refuse_if_not_utf8(name, content)
        raise FileRefused(FileProblem(name, f"malformed XML: {exc.msg}", exc.lineno)) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _doctype_refusal(name, content, docinfo.encoding)
    _refuse_if_not_utf8(name, content)
    encoding = docinfo.encoding or "UTF-8"
    if encoding.upper() not in _UTF8_NAMES or b"\0" in content:
        message = f"file is not UTF-8 text (it is {encoding}); save it as UTF-8"
        raise FileRefused(FileProblem(name, message))
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


def _refuse_if_not_utf8(name: str, content: bytes) -> None:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise FileRefused(FileProblem(name, "file is not UTF-8 text", line)) from None


def _doctype_refusal(name: str, content: bytes, encoding: str | None) -> FileRefused:
    line = _doctype_line(content, encoding)
    return FileRefused(FileProblem(name, "DOCTYPE and entity declarations are not allowed", line))


def _doctype_line(content: bytes, encoding: str | None) -> int | None:
    """Where a DOCTYPE stands, read in the encoding the parser found (or, when it could not
    parse the file, in UTF-8 and UTF-16); None when there is none."""
    for codec in (encoding, "utf-8", "utf-16", "utf-16-le", "utf-16-be"):
        if codec is None:
            continue
        try:
            text = content.decode(codec, errors="replace")
        except LookupError:
            continue
        match = _DOCTYPE.search(text)
        if match:
            return text[: match.start()].count("\n") + 1
    return None


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


def check_service_parameters(model: ModelFile) -> None:
    """Refuse a parameter the named operation does not take.

    Operations find their case through the calling instance; a parameter naming an order
    (as processes before issue 11 passed ``order_number``) would otherwise fail only when
    the step runs. An operation not registered here is left to fail as an incident.
    """
    for operator in model.root.iterfind(".//spiffworkflow:serviceTaskOperator", NSMAP):
        operation = operations.get(operator.get("id") or "")
        if operation is None or operation.takes_any:
            continue
        for param in operator.iterfind("spiffworkflow:parameters/spiffworkflow:parameter", NSMAP):
            if param.get("id") not in operation.parameters:
                takes = ", ".join(operation.parameters) or "none"
                raise FileRefused(
                    FileProblem(
                        model.name,
                        f"operation {operation.name!r} takes no parameter {param.get('id')!r}"
                        f" (it takes: {takes})",
                        param.sourceline,
                        describe(owner(param)),
                    )
                )


def _refuse_property(file: str, prop: etree._Element, message: str) -> None:
    raise FileRefused(FileProblem(file, message, prop.sourceline, describe(owner(prop))))


def _check_property(file: str, prop: etree._Element) -> None:
    key, value = prop.get("name"), prop.get("value") or ""
    if key == "startable" and value.strip() not in ("true", "false"):
        _refuse_property(file, prop, 'startable is "true" or "false"')
    elif key == "messageSenders" and not _SENDER_NAMES.match(value.strip()):
        _refuse_property(
            file, prop, "messageSenders lists group or role names, separated by commas"
        )
    elif key == "dueIn" and not ISO_DURATION.match(value.strip()):
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


def check_executable(model: ModelFile) -> None:
    """Refuse a BPMN file that deploys nothing anyone could start or call."""
    processes = model.root.findall("bpmn:process", NSMAP)
    if any(p.get("isExecutable", "true") != "false" for p in processes):
        return
    where = processes[0] if processes else model.root
    message = (
        'no process in this file is executable (isExecutable="false" everywhere)'
        if processes
        else "the file holds no process"
    )
    raise FileRefused(FileProblem(model.name, message, where.sourceline, describe(where)))


def _dmn_text(element: etree._Element) -> str | None:
    text = element.find("{*}text")
    return text.text if text is not None else None


def _dmn_condition(input_expression: str, entry: str, file: str, element: etree._Element) -> str:
    """The expression SpiffWorkflow's DMNEngine builds from an input entry at run time."""
    match = _DMN_QUESTION.sub("dmninputexpr", entry)
    if "dmninputexpr" in match:
        return match
    try:
        ast.parse(entry)
    except SyntaxError:
        return input_expression + entry
    except (MemoryError, RecursionError):
        raise FileRefused(
            FileProblem(
                file,
                "input entry does not compile: the code is nested too deeply to compile",
                element.sourceline,
                describe(owner(element)),
            )
        ) from None
    return f"({input_expression}) == ({entry})"


def check_decision_code(model: ModelFile) -> None:
    """Refuse a DMN file whose input expressions, input entries or output entries would
    not compile, the way a script's are refused, naming the cell."""
    name = model.name
    for table in model.root.iter("{*}decisionTable"):
        inputs = []
        for column in table.iterfind("{*}input"):
            expression = column.find("{*}inputExpression")
            text = _dmn_text(expression) if expression is not None else None
            if text is not None and text.strip():
                _check(name, expression, text, "eval", "input expression")
            inputs.append(text if text and text.strip() else "dmninput")
        for rule in table.iterfind("{*}rule"):
            for index, entry in enumerate(rule.iterfind("{*}inputEntry")):
                text = (_dmn_text(entry) or "").strip()
                if not text or text == "-":
                    continue
                column = inputs[index] if index < len(inputs) else "dmninput"
                _check(
                    name, entry, _dmn_condition(column, text, name, entry), "eval", "input entry"
                )
            for entry in rule.iterfind("{*}outputEntry"):
                text = _dmn_text(entry)
                if text is not None and text.strip():
                    _check(name, entry, text, "eval", "output entry")
