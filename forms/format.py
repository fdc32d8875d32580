"""The form file format (``NAME.form.json``): reading a file and refusing what cannot work.

A form file is refused before anything is stored when it could not render or validate the way
its author meant: every problem is reported with the file and the JSON path
(``$.ui.fields.phone.widget``) so a designer can find it without reading a traceback. README.md
in this folder describes the format for designers; ``FORM_FILE_SCHEMA`` is the same description
as data.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from engine.errors import DeploymentError
from engine.parsing import FileProblem

from .schemas import (
    MISSING,
    choice_values,
    json_types,
    main_type,
    pointer,
    resolve,
    row_schema,
    same_value,
)
from .ui import default_ui as default_ui
from .ui import default_widget
from .ui import effective_ui as effective_ui

MAX_FORM_BYTES = 1024 * 1024
MAX_DEPTH = 64
KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,199}$"
# field names become process variables that conditions and scripts name, and table cells are
# posted as ``parts-0-qty``: so Python identifiers, ASCII, no "-" or "."
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$")
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# widget -> what it edits; README.md explains each.
WIDGETS = (
    "text",
    "textarea",
    "number",
    "money",
    "date",
    "datetime",
    "select",
    "radio",
    "checkbox",
    "table",
    "photo",
    "signature",
    "customer",
    "product",
    "user",
    "outlet",
    "part",
    "kb_article",
)
_STRING_WIDGETS = {
    "text",
    "textarea",
    "signature",
    "customer",
    "product",
    "user",
    "outlet",
    "part",
}

_TEXT = {
    "type": "object",
    "properties": {
        "zh": {"type": "string", "maxLength": 2000},
        "en": {"type": "string", "maxLength": 2000},
    },
    "additionalProperties": False,
    "minProperties": 1,
}

FORM_FILE_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "title": "A form file (NAME.form.json)",
    "type": "object",
    "required": ["key", "schema"],
    "properties": {
        "$comment": {"type": "string"},
        "key": {"type": "string", "pattern": KEY_PATTERN},
        "title": {
            "type": "object",
            "properties": {
                "zh": {"type": "string", "maxLength": 200},
                "en": {"type": "string", "maxLength": 200},
            },
            "additionalProperties": False,
            "minProperties": 1,
        },
        "schema": {"type": "object"},
        "ui": {"$ref": "#/$defs/layout"},
    },
    "additionalProperties": False,
    "$defs": {
        "text": _TEXT,
        "layout": {
            "type": "object",
            "properties": {
                "order": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "fields": {"type": "object", "additionalProperties": {"$ref": "#/$defs/field"}},
            },
            "additionalProperties": False,
        },
        "field": {
            "type": "object",
            "properties": {
                "widget": {"enum": list(WIDGETS)},
                "label": {"$ref": "#/$defs/text"},
                "help": {"$ref": "#/$defs/text"},
                "placeholder": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/text"}]},
                "options": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["value", "label"],
                        "properties": {
                            "value": {"type": ["string", "number", "boolean"]},
                            "label": {"$ref": "#/$defs/text"},
                        },
                        "additionalProperties": False,
                    },
                },
                "columns": {"$ref": "#/$defs/layout"},
                "readonly": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
    },
}
_FORMAT_VALIDATOR = Draft202012Validator(FORM_FILE_SCHEMA)
# what Draft202012Validator.check_schema does, keeping every error to report the most useful
_META_VALIDATOR = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


class FormFileError(DeploymentError):
    """A form file (or a form edited in the UI) that cannot be stored.

    A DeploymentError because form files are deployed with BPMN files (``csm deploy``, the
    deployments API) and are reported the same way: ``details`` is a list of problems, each
    ``{"file", "line", "element", "message"}`` with the JSON path as ``element``.
    """

    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems), [p.as_dict() for p in problems])
        self.problems = problems


@dataclass(frozen=True)
class ParsedForm:
    """A checked form document, normalised to what is stored and hashed."""

    name: str
    key: str
    title_zh: str
    title_en: str
    schema: dict[str, Any]
    ui: dict[str, Any]

    @property
    def document(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": {"zh": self.title_zh, "en": self.title_en},
            "schema": self.schema,
            "ui": self.ui,
        }

    @property
    def content_hash(self) -> str:
        return content_hash(self.document)


def content_hash(document: dict[str, Any]) -> str:
    """sha256 of the canonical JSON, so reformatting a file does not make a new version."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_form(name: str, content: bytes) -> ParsedForm:
    """Read and check a form file; raises FormFileError naming the file and where."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    if len(content) > MAX_FORM_BYTES:
        raise _refuse(name, f"file is larger than {MAX_FORM_BYTES // 1024} KB")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _refuse(name, f"not UTF-8 text (byte {exc.start})", line=line) from None
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise _refuse(name, message, line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        message = "invalid JSON: nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise _refuse(name, message) from None
    return parse_document(name, document)


def parse_document(name: str, document: object) -> ParsedForm:
    """Check a form document already read from JSON (a file, or an edit from the UI)."""
    try:
        return _parse_document(name, document)
    except RecursionError:
        raise _refuse(name, "nested too deeply") from None


def _parse_document(name: str, document: object) -> ParsedForm:
    if not isinstance(document, dict):
        raise _refuse(name, "a form file is a JSON object", "$")
    if _depth(document) > MAX_DEPTH:
        raise _refuse(name, f"nested more than {MAX_DEPTH} levels deep", "$")
    problems = [
        FileProblem(name, error.message, None, error.json_path)
        for error in sorted(_FORMAT_VALIDATOR.iter_errors(document), key=_error_order)
    ]
    if problems:
        raise FormFileError(problems)

    schema = document["schema"]
    problems = [FileProblem(name, m, None, p) for p, m in _schema_problems(schema)]
    if problems:
        raise FormFileError(problems)
    ui = document.get("ui", {})
    problems = [FileProblem(name, m, None, p) for p, m in _layout_problems(schema, schema, ui)]
    if problems:
        raise FormFileError(problems)
    title = document.get("title", {})
    return ParsedForm(
        name=name,
        key=document["key"],
        title_zh=title.get("zh", ""),
        title_en=title.get("en", ""),
        schema=schema,
        ui=ui,
    )


def _refuse(name: str, message: str, path: str | None = None, line: int | None = None) -> Exception:
    return FormFileError([FileProblem(name, message, line, path)])


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"invalid JSON: duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"invalid JSON: {name} is not a JSON number")


def _error_order(error: Any) -> tuple[str, ...]:
    return tuple(str(p) for p in error.absolute_path)


def _depth(value: object, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


# ---- the JSON Schema in the file -------------------------------------------------------------

_DATA_KEYWORDS = {"enum", "const", "default", "examples"}


def _schema_problems(schema: dict[str, Any]) -> list[tuple[str, str]]:
    declared = schema.get("$schema")
    if declared is not None and declared.rstrip("#") != DRAFT_2020_12:
        return [("$.schema.$schema", f"only JSON Schema 2020-12 ({DRAFT_2020_12}) is supported")]
    error = best_match(_META_VALIDATOR.iter_errors(schema))
    if error is not None:
        return [("$.schema" + error.json_path[1:], f"not a valid JSON Schema: {error.message}")]
    problems = list(_reference_problems(schema))
    if problems:
        return problems
    if schema.get("type") != "object":
        problems.append(("$.schema.type", 'the form schema must have "type": "object"'))
    if not schema.get("properties"):
        problems.append(("$.schema.properties", "the form schema needs at least one property"))
    problems.extend(_open_object_problems(schema, schema, "$.schema"))
    return problems


_OPEN_KEYWORDS = ("additionalProperties", "unevaluatedProperties", "patternProperties")


def _open_object_problems(
    root: dict[str, Any], node: object, path: str, depth: int = 0
) -> Iterator[tuple[str, str]]:
    """A form accepts only the fields it declares (the validator closes every object), so a
    schema that says otherwise would mislead its author: refuse it where the data goes."""
    node = resolve(root, node)
    if depth > MAX_DEPTH:
        return
    for name in _OPEN_KEYWORDS:
        if name in node and (name == "patternProperties" or node[name] is not False):
            rule = "is not allowed" if name == "patternProperties" else "may only be false"
            yield (
                f"{path}.{name}",
                f"a form accepts only the fields its properties declare: {name} {rule}",
            )
    properties = node.get("properties")
    for name, prop in (properties if isinstance(properties, dict) else {}).items():
        yield from _open_object_problems(root, prop, f"{path}.properties.{name}", depth + 1)
    prefix = node.get("prefixItems")
    for index, item in enumerate(prefix if isinstance(prefix, list) else []):
        yield from _open_object_problems(root, item, f"{path}.prefixItems[{index}]", depth + 1)
    if isinstance(node.get("items"), dict):
        yield from _open_object_problems(root, node["items"], f"{path}.items", depth + 1)


def _reference_problems(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Only local references (#/...): a form must never make the server fetch anything."""
    for path, node in _walk_schema(schema, "$.schema"):
        if path != "$.schema" and isinstance(node.get("$id"), str):
            yield f"{path}.$id", "$id is only allowed at the top of the form schema"
        for ref_keyword in ("$ref", "$dynamicRef"):
            ref = node.get(ref_keyword)
            if not isinstance(ref, str):
                continue
            if ref != "#" and not ref.startswith("#/"):
                yield f"{path}.{ref_keyword}", f"only local references (#/...) are allowed: {ref!r}"
            elif pointer(schema, ref) is MISSING:
                yield f"{path}.{ref_keyword}", f"reference {ref!r} points at nothing in the schema"


def _walk_schema(node: object, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _walk_schema(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk_schema(value, f"{path}[{index}]")


# ---- the UI hints ----------------------------------------------------------------------------


def _layout_problems(
    root: dict[str, Any], obj: dict[str, Any], layout: dict[str, Any], path: str = "$.ui"
) -> Iterator[tuple[str, str]]:
    properties = resolve(root, obj).get("properties") or {}
    for index, name in enumerate(layout.get("order", [])):
        if name not in properties:
            yield f"{path}.order[{index}]", f"{name!r} is not a property of the schema"
    fields = layout.get("fields", {})
    for name in fields:
        if name not in properties:
            yield f"{path}.fields.{name}", f"{name!r} is not a property of the schema"
    nested = path != "$.ui"
    for name, prop in properties.items():
        if not FIELD_NAME.match(name) or keyword.iskeyword(name):
            yield (
                f"{path}.fields.{name}",
                f"field name {name!r}: a letter or _, then letters, digits or _ (at most 80),"
                " and not a Python keyword",
            )
            continue
        hints = fields.get(name, {})
        widget = hints.get("widget") or default_widget(root, prop)
        where = f"{path}.fields.{name}"
        message = _widget_problem(root, prop, widget, nested)
        if message:
            yield (f"{where}.widget" if "widget" in hints else where), message
            continue
        yield from _option_problems(root, prop, widget, hints.get("options"), where)
        if "columns" in hints and widget != "table":
            yield f"{where}.columns", "columns are only for the table widget"
        if widget == "table":
            columns = hints.get("columns", {})
            yield from _layout_problems(
                root, row_schema(root, prop) or {}, columns, f"{where}.columns"
            )


def _widget_problem(root: dict[str, Any], prop: object, widget: str, nested: bool) -> str | None:
    """Why a widget cannot edit a property, or None when it fits."""
    node = resolve(root, prop)
    types = json_types(root, node)
    kind = main_type(root, node)
    if types is not None and len(types) > 1:
        return f"a form field has one type (and maybe null), not {sorted(types)}"
    if nested and kind in ("array", "object"):
        return "a table column holds one value (not an array or object)"
    if kind == "object":
        return "nested objects are not supported: use a table (an array of objects) or fields"
    items = resolve(root, node.get("items"))
    if widget in _STRING_WIDGETS:
        if widget == "textarea" and kind == "array" and main_type(root, items) == "string":
            return None
        if kind not in (None, "string"):
            return f"widget {widget!r} edits a string, the property is {kind!r}"
        return None
    if widget in ("number", "money"):
        return None if kind in ("number", "integer") else f"widget {widget!r} needs a number"
    if widget == "kb_article":
        return None if kind == "integer" else "widget 'kb_article' needs an integer (its id)"
    if widget in ("date", "datetime"):
        fmt = "date" if widget == "date" else "date-time"
        if kind != "string" or node.get("format") != fmt:
            return f'widget {widget!r} needs {{"type": "string", "format": "{fmt}"}}'
        return None
    if widget in ("select", "radio", "checkbox"):
        if kind == "boolean":
            return None if widget in ("radio", "checkbox") else "select needs an enum, not boolean"
        if kind == "array":
            if widget == "radio":
                return "radio chooses one value; use checkbox or select for a list"
            if choice_values(root, items) is None:
                return f"widget {widget!r} on an array needs items with an enum"
            return None
        if widget == "checkbox":
            return "checkbox needs a boolean, or an array whose items have an enum"
        if choice_values(root, node) is None:
            return (
                f"widget {widget!r} needs an enum (or an integer minimum..maximum) in the schema;"
                " ui options only label the values"
            )
        return None
    if widget == "table":
        return None if row_schema(root, node) else "table needs an array of objects with properties"
    if widget == "photo":
        if kind == "array" and main_type(root, items) in (None, "string"):
            return None
        return "photo needs an array of strings (attachment ids)"
    return f"unknown widget {widget!r}"


def _option_problems(
    root: dict[str, Any], prop: object, widget: str, options: list[dict] | None, where: str
) -> Iterator[tuple[str, str]]:
    if options is None:
        return
    if widget not in ("select", "radio", "checkbox"):
        yield f"{where}.options", f"options are only for select, radio and checkbox, not {widget!r}"
        return
    node = resolve(root, prop)
    if main_type(root, node) == "array":
        node = resolve(root, node.get("items"))
    allowed = [True, False] if main_type(root, node) == "boolean" else choice_values(root, node)
    for index, option in enumerate(options):
        if not any(same_value(option["value"], v) for v in allowed or []):
            yield f"{where}.options[{index}].value", f"{option['value']!r} is not in the enum"
