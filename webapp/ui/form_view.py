"""Turns a form (JSON Schema + ui hints) with data and errors into fields a template draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forms.schemas import choice_values, resolve, row_schema
from forms.ui import effective_ui


def _text(value: Any, locale: str) -> str:
    if isinstance(value, dict):
        return value.get(locale) or value.get("zh") or value.get("en") or ""
    return str(value or "")


@dataclass
class Field:
    name: str
    widget: str
    label: str
    help: str = ""
    placeholder: str = ""
    required: bool = False
    readonly: bool = False
    value: Any = None
    options: list[tuple[Any, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    columns: list[Field] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    row_errors: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "string"
    minimum: Any = None
    maximum: Any = None
    multiple: bool = False


def _options(root: dict, prop: dict, hints: dict, locale: str) -> list[tuple[Any, str]]:
    labels = {str(o.get("value")): _text(o.get("label"), locale) for o in hints.get("options", [])}
    if _is_boolean(prop):  # two fixed values; only their labels come from the form
        return [(v, labels[str(v)]) for v in (True, False) if labels.get(str(v))]
    values = choice_values(root, prop) or []
    return [(v, labels.get(str(v), str(v))) for v in values]


def _is_boolean(prop: dict) -> bool:
    kind = prop.get("type")
    return kind == "boolean" or (isinstance(kind, list) and "boolean" in kind)


def _field(
    root: dict,
    name: str,
    prop: dict,
    hints: dict,
    required: set,
    data: dict,
    errors: dict,
    locale: str,
    prefix: str = "",
) -> Field:
    prop = resolve(root, prop)
    kind = prop.get("type", "string")
    kind = next((t for t in kind if t != "null"), "string") if isinstance(kind, list) else kind
    item = resolve(root, prop.get("items") or {}) if kind == "array" else {}
    out = Field(
        name=name,
        widget=hints.get("widget", "text"),
        label=_text(hints.get("label"), locale) or name,
        help=_text(hints.get("help"), locale),
        placeholder=_text(hints.get("placeholder"), locale),
        required=name in required,
        readonly=bool(hints.get("readonly")),
        value=data.get(name, prop.get("default")),
        errors=errors.get(prefix + name, []),
        kind=kind,
        minimum=prop.get("minimum"),
        maximum=prop.get("maximum"),
        multiple=kind == "array" and bool(choice_values(root, item)),
    )
    if out.widget in ("select", "radio") or out.multiple:
        out.options = _options(root, item if out.multiple else prop, hints, locale)
    if out.widget == "table":
        rows_schema = row_schema(root, prop) or {}
        columns = hints.get("columns") or effective_ui(rows_schema, None)
        row_required = set(rows_schema.get("required") or [])
        props = rows_schema.get("properties") or {}
        out.columns = [
            _field(
                root,
                col,
                props.get(col, {}),
                columns["fields"].get(col, {}),
                row_required,
                {},
                {},
                locale,
            )
            for col in columns.get("order", [])
        ]
        value = out.value if isinstance(out.value, list) else []
        out.rows = [r for r in value if isinstance(r, dict)] or [{}]
        out.row_errors = {k: v for k, v in errors.items() if k.startswith(f"{name}.")}
    return out


def form_fields(form: dict, data: dict, errors: dict[str, list[str]], locale: str) -> list[Field]:
    """The fields of ``form`` in their order, with values from ``data`` and their errors."""
    schema = form["schema"]
    root = resolve(schema, schema)
    layout = effective_ui(schema, form.get("ui"))
    properties = root.get("properties") or {}
    required = set(root.get("required") or [])
    return [
        _field(
            schema,
            name,
            properties.get(name, {}),
            layout["fields"].get(name, {}),
            required,
            data,
            errors,
            locale,
        )
        for name in layout["order"]
        if name in properties
    ]
