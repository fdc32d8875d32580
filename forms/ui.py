"""The UI a form renders with: every field's widget, labels and options, gaps filled in.

A form file may leave out its ``ui`` or parts of it; the renderer should never have to guess,
so this completes it from the schema (order, widget by type and format, labels from
``title``, options from ``enum``).
"""

from __future__ import annotations

import json
from typing import Any

from .schemas import choice_values, enum_values, main_type, resolve, row_schema, same_value


def default_widget(root: dict[str, Any], prop: object) -> str:
    """The widget for a property that the ui does not name, chosen by its type and format."""
    node = resolve(root, prop)
    kind = main_type(root, node)
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "select" if enum_values(root, node) is not None else "number"
    if kind == "array":
        items = resolve(root, node.get("items"))
        if enum_values(root, items) is not None:
            return "checkbox"
        if row_schema(root, node):
            return "table"
        return "textarea"
    if enum_values(root, node) is not None:
        return "select"
    if node.get("format") == "date":
        return "date"
    if node.get("format") == "date-time":
        return "datetime"
    if kind == "object" or (isinstance(node.get("maxLength"), int) and node["maxLength"] > 200):
        return "textarea"
    return "text"


def default_ui(schema: dict[str, Any]) -> dict[str, Any]:
    """The complete ui of a form without one: properties in order, widgets by type."""
    return effective_ui(schema, None)


def effective_ui(schema: dict[str, Any], ui: dict[str, Any] | None) -> dict[str, Any]:
    """The ui with every gap filled: what a renderer needs and nothing it must guess.

    Properties that ``order`` leaves out follow in schema order (a required field must never
    be impossible to fill); labels default to the property's ``title`` and then its name;
    options list every enum value, in the ui's order first.
    """
    return _effective_layout(schema, schema, ui or {})


def _effective_layout(root: dict[str, Any], obj: object, layout: dict[str, Any]) -> dict[str, Any]:
    properties = resolve(root, obj).get("properties") or {}
    order = [n for n in layout.get("order", []) if n in properties]
    order += [n for n in properties if n not in order]
    hints_by_name = layout.get("fields", {})
    fields = {}
    for name in order:
        prop = resolve(root, properties[name])
        hints = hints_by_name.get(name, {})
        widget = hints.get("widget") or default_widget(root, prop)
        title = prop.get("title") if isinstance(prop.get("title"), str) else name
        field: dict[str, Any] = {
            "widget": widget,
            "label": _both(hints.get("label"), title),
            "readonly": bool(hints.get("readonly", prop.get("readOnly", False))),
        }
        if hints.get("help") or isinstance(prop.get("description"), str):
            field["help"] = _both(hints.get("help"), prop.get("description", ""))
        if "placeholder" in hints:
            field["placeholder"] = hints["placeholder"]
        options = _effective_options(root, prop, widget, hints.get("options"))
        if options is not None:
            field["options"] = options
        if widget == "table":
            field["columns"] = _effective_layout(
                root, row_schema(root, prop) or {}, hints.get("columns", {})
            )
        fields[name] = field
    return {"order": order, "fields": fields}


def _both(text: dict[str, str] | None, fallback: str) -> dict[str, str]:
    text = text or {}
    zh = text.get("zh") or text.get("en") or fallback
    return {"zh": zh, "en": text.get("en") or zh}


_YES_NO = [
    {"value": True, "label": {"zh": "是", "en": "Yes"}},
    {"value": False, "label": {"zh": "否", "en": "No"}},
]


def _effective_options(
    root: dict[str, Any], prop: dict[str, Any], widget: str, given: list[dict] | None
) -> list[dict] | None:
    if widget not in ("select", "radio", "checkbox"):
        return None
    node = prop
    if main_type(root, node) == "array":
        node = resolve(root, node.get("items"))
    if main_type(root, node) == "boolean":
        if widget == "checkbox" and not given:
            return None
        values: list[Any] = [True, False]
        labels = {json.dumps(o["value"]): o["label"] for o in _YES_NO}
    else:
        values = choice_values(root, node) or []
        labels = {}
    for option in given or []:
        labels[json.dumps(option["value"])] = option["label"]
    ordered = [o["value"] for o in given or [] if any(same_value(o["value"], v) for v in values)]
    ordered += [v for v in values if not any(same_value(v, o) for o in ordered)]
    return [{"value": v, "label": _both(labels.get(json.dumps(v)), _plain(v))} for v in ordered]


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
