"""Typed form data from a flat HTML form post, following the form's schema and widgets.

An HTML form posts strings only. This turns them into the JSON the schema describes, and
leaves whatever does not parse in place as the raw string: validation then reports it next to
its field ("请输入数字") instead of the request failing. It never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .schemas import form_parts, main_type, resolve
from .ui import effective_ui

_TRUE = {"on", "true", "1", "yes", "y", "是"}
_FALSE = {"off", "false", "0", "no", "n", "否"}
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
MAX_ROWS = 1000
UPLOAD_SUFFIX = "__upload"  # a photo field's file input: ``photos__upload``


def coerce_post(form: Any, fields: Any) -> dict[str, Any]:
    """The typed data of a post like ``MultiDict.to_dict(flat=False)``.

    - integer and number fields become numbers ("1,200.50" too); what does not parse stays.
    - a boolean checkbox that is absent is False; a yes/no radio that is absent is omitted.
    - an array of enum values (multi-checkbox, multi-select) collects every posted value.
    - a table's rows come as ``parts-0-code``, ``parts-0-qty``, ``parts-1-code``...; rows
      with nothing filled in are skipped.
    - an empty string omits the field (so ``required`` fires), as does an empty list or
      table when the field is required; otherwise an empty list is [].
    - read-only fields and names the schema does not know are ignored.
    """
    try:
        schema, ui = form_parts(form)
        layout = effective_ui(schema, ui)
        properties = resolve(schema, schema).get("properties") or {}
        required = resolve(schema, schema).get("required") or []
    except Exception:  # a broken form gives no data rather than an error page
        return {}
    posted = _posted(fields)
    data: dict[str, Any] = {}
    for name in layout["order"]:
        hints = layout["fields"][name]
        if hints.get("readonly"):
            continue
        try:
            found, value = _field(schema, properties[name], hints, name, posted, name in required)
        except Exception:
            found, value = _raw(posted.get(name))
        if found:
            data[name] = value
    return data


def undeclared_inputs(form: Any, names: Iterable[str]) -> list[str]:
    """The posted names that are no input of the form, in the order given.

    The inputs are the form's fields, a table's cells (``parts-0-qty``) and a photo field's
    file input (``photos__upload``). ``coerce_post`` never reads anything else, but a post
    that carries more was not made by the form's page: the caller refuses it, naming them.
    """
    try:
        schema, ui = form_parts(form)
        layout = effective_ui(schema, ui)
    except Exception:  # a broken form has no inputs
        layout = {"order": [], "fields": {}}
    inputs: set[str] = set()
    cells: list[re.Pattern[str]] = []
    for name in layout["order"]:
        hints = layout["fields"][name]
        inputs.add(name)
        if hints.get("widget") == "photo":
            inputs.add(name + UPLOAD_SUFFIX)
        if hints.get("widget") == "table":
            columns = hints.get("columns", {}).get("order") or []
            alternatives = "|".join(re.escape(c) for c in columns) or "(?!)"
            cells.append(re.compile(rf"^{re.escape(name)}-\d{{1,6}}-(?:{alternatives})$"))
    return [n for n in names if n not in inputs and not any(c.match(n) for c in cells)]


def _posted(fields: Any) -> dict[str, list[str]]:
    """Every posted name with its list of strings, whatever mapping the caller had."""
    if not isinstance(fields, Mapping) and not hasattr(fields, "getlist"):
        return {}
    result: dict[str, list[str]] = {}
    try:
        for key in list(fields.keys()):
            values = fields.getlist(key) if hasattr(fields, "getlist") else fields[key]
            if values is None:
                values = []
            elif isinstance(values, str | bytes) or not isinstance(values, list | tuple):
                values = [values]
            result[str(key)] = [_string(v) for v in values if v is not None]
    except Exception:
        return result
    return result


def _string(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _raw(values: list[str] | None) -> tuple[bool, Any]:
    if values and values[0].strip():
        return True, values[0]
    return False, None


def _field(
    root: dict[str, Any],
    prop: object,
    hints: dict[str, Any],
    name: str,
    posted: dict[str, list[str]],
    required: bool,
) -> tuple[bool, Any]:
    node = resolve(root, prop)
    kind = main_type(root, node)
    widget = hints.get("widget")
    if widget == "table":
        rows = _rows(root, node, hints.get("columns") or {}, name, posted)
        return (False, None) if required and not rows else (True, rows)
    if kind == "array":
        items = resolve(root, node.get("items"))
        values = posted.get(name, [])
        if widget == "textarea":
            values = [line for v in values for line in v.splitlines()]
        values = [v.strip() for v in values if v.strip()]
        item_kind = main_type(root, items)
        result = [_scalar(item_kind, v) for v in values]
        return (False, None) if required and not result else (True, result)
    return _single(kind, widget, posted.get(name, []))


def _single(kind: str | None, widget: str | None, values: list[str]) -> tuple[bool, Any]:
    if kind == "boolean":
        tokens = [v.strip() for v in values if v.strip()]
        lowered = [t.lower() for t in tokens]
        if not tokens:
            return (True, False) if widget == "checkbox" else (False, None)
        if any(t in _TRUE for t in lowered):
            return True, True
        if all(t in _FALSE for t in lowered):
            return True, False
        return True, tokens[0]
    value = values[0] if values else ""
    if not value.strip():
        return False, None
    if widget == "textarea":
        return True, value.replace("\r\n", "\n").replace("\r", "\n")
    return True, _scalar(kind, value.strip())


def _scalar(kind: str | None, text: str) -> Any:
    """A number from its text when the type wants one; the text itself when it does not parse."""
    if kind not in ("integer", "number"):
        return text
    cleaned = text.replace(",", "") if _THOUSANDS.match(text) else text
    try:
        if _INTEGER.match(cleaned):
            return int(cleaned)
        if _NUMBER.match(cleaned):
            number = float(cleaned)
            if not math.isfinite(number):
                return text
            return int(number) if kind == "integer" and number.is_integer() else number
    except (ValueError, OverflowError):
        return text
    return text


def _rows(
    root: dict[str, Any],
    node: dict[str, Any],
    columns: dict[str, Any],
    name: str,
    posted: dict[str, list[str]],
) -> list[dict[str, Any]]:
    items = resolve(root, node.get("items"))
    properties = items.get("properties") or {}
    pattern = re.compile(rf"^{re.escape(name)}-(\d{{1,6}})-(.+)$")
    indexes: set[int] = set()
    for key in posted:
        match = pattern.match(key)
        if match and match.group(2) in properties:
            indexes.add(int(match.group(1)))
    rows = []
    for index in sorted(indexes)[:MAX_ROWS]:
        row: dict[str, Any] = {}
        filled = False
        for column in columns.get("order", list(properties)):
            hints = columns.get("fields", {}).get(column, {})
            if hints.get("readonly") or column not in properties:
                continue
            values = posted.get(f"{name}-{index}-{column}", [])
            filled = filled or any(v.strip() for v in values)
            kind = main_type(root, resolve(root, properties[column]))
            try:
                found, value = _single(kind, hints.get("widget"), values)
            except Exception:
                found, value = _raw(values)
            if found:
                row[column] = value
        if filled:
            rows.append(row)
    return rows
