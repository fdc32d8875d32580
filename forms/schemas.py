"""Reading a form's JSON Schema the way a widget sees it: one type, its choices, its rows.

Only local references (``#/...``) are followed; format.py refuses every other kind before a
schema is stored, so nothing here can reach outside the document.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

MAX_RANGE_CHOICES = 100
MISSING = object()


def pointer(root: Any, ref: str) -> Any:
    """What a local reference (``#`` or ``#/a/b``) points at in the schema, or MISSING."""
    node = root
    for token in ref[2:].split("/") if ref.startswith("#/") else []:
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return MISSING
    return node


def resolve(root: dict[str, Any], node: object) -> dict[str, Any]:
    """A subschema with its local $ref followed (siblings of $ref win); {} for true/unknown."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 32:
        target = pointer(root, node["$ref"])
        if not isinstance(target, dict):
            break
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node if isinstance(node, dict) else {}


def json_types(root: dict[str, Any], node: object) -> set[str] | None:
    """The JSON types a subschema allows, without null; None when it does not say."""
    node = resolve(root, node)
    declared = node.get("type")
    if isinstance(declared, str):
        types = {declared}
    elif isinstance(declared, list):
        types = set(declared)
    elif isinstance(node.get("enum"), list) or "const" in node:
        values = node["enum"] if isinstance(node.get("enum"), list) else [node["const"]]
        types = {_type_of(v) for v in values}
    elif "format" in node or "pattern" in node or "maxLength" in node:
        types = {"string"}
    elif "items" in node or "prefixItems" in node:
        types = {"array"}
    elif "properties" in node:
        types = {"object"}
    else:
        return None
    types.discard("null")
    if "integer" in types and "number" in types:
        types.discard("integer")
    return types


def main_type(root: dict[str, Any], node: object) -> str | None:
    """The one type a widget edits (integer before number when both are allowed)."""
    types = json_types(root, node)
    if not types:
        return None
    for name in ("array", "object", "boolean", "integer", "number", "string"):
        if name in types:
            return name
    return None


def _type_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def enum_values(root: dict[str, Any], node: object) -> list[Any] | None:
    node = resolve(root, node)
    if isinstance(node.get("enum"), list):
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    return None


def choice_values(root: dict[str, Any], node: object) -> list[Any] | None:
    """What a select or radio offers: the enum, or every integer of a small closed range."""
    values = enum_values(root, node)
    if values is not None:
        return values
    node = resolve(root, node)
    low, high = node.get("minimum"), node.get("maximum")
    closed = main_type(root, node) == "integer" and _is_int(low) and _is_int(high)
    if closed and 0 <= high - low <= MAX_RANGE_CHOICES:
        return list(range(low, high + 1))
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def row_schema(root: dict[str, Any], node: object) -> dict[str, Any] | None:
    """The row object of a table property (an array of objects with properties), else None."""
    node = resolve(root, node)
    if main_type(root, node) != "array":
        return None
    items = resolve(root, node.get("items"))
    if main_type(root, items) != "object" or not isinstance(items.get("properties"), dict):
        return None
    return items


def same_value(a: object, b: object) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def form_parts(form: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(schema, ui) of a FormDefinition, a form document {"schema", "ui"?}, or a bare schema."""
    schema = getattr(form, "schema", None)
    if isinstance(schema, dict):
        return schema, getattr(form, "ui", None)
    if isinstance(form, dict) and isinstance(form.get("schema"), dict):
        ui = form.get("ui")
        return form["schema"], ui if isinstance(ui, dict) else None
    if isinstance(form, dict):
        return form, None
    raise TypeError(f"not a form: {type(form).__name__}")
