"""Server-side validation of submitted form data, with messages written for the person filling it.

Errors are keyed by the path of the field they belong to (``phone``, ``parts.0.qty``; ``""`` for
the form as a whole) so a page can show each message next to its input. A missing required
field is keyed on that field, not on the object that requires it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from .coerce import coerce_post as coerce_post
from .schemas import form_parts, resolve
from .ui import effective_ui

__all__ = ["coerce_post", "format_checker", "undeclared_fields", "validate_data"]

_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?$", re.ASCII
)
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?$", re.ASCII)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def format_checker() -> FormatChecker:
    """jsonschema's checks, with date-time, time and email checked without extra packages.

    A date-time may omit seconds and offset: an HTML datetime-local input posts
    ``2024-05-01T10:30``, the local wall-clock time the person entered.
    """
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        text = value.replace("t", "T").replace(" ", "T").replace("z", "Z").replace("Z", "+00:00")
        datetime.fromisoformat(text)
        return True

    @checker.checks("time", raises=ValueError)
    def _time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _TIME.match(value):
            return False
        datetime.fromisoformat("2000-01-01T" + value.replace("z", "Z").replace("Z", "+00:00"))
        return True

    @checker.checks("date", raises=ValueError)
    def _date(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII)) and bool(
            date.fromisoformat(value)
        )

    @checker.checks("email")
    def _email(value: object) -> bool:
        return not isinstance(value, str) or bool(_EMAIL.match(value))

    return checker


_FORMAT_CHECKER = format_checker()


def validate_data(form: Any, data: Any, locale: str = "zh") -> dict[str, list[str]]:
    """Field errors of ``data`` against the form's schema; empty when the data is valid.

    ``form`` is a FormDefinition, a form document ``{"schema", "ui"?}`` or a bare schema.
    Every form is closed (see ``undeclared_fields``), whether or not its schema says
    ``additionalProperties: false``. Messages are Chinese unless ``locale`` starts with "en".
    """
    schema, ui = form_parts(form)
    english = str(locale).lower().startswith("en")
    validator = Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)
    errors: dict[str, list[str]] = {}
    try:
        found = list(validator.iter_errors(data))
        extra = undeclared_fields(form, data)
    except RecursionError:
        return {"": [_text("generic", english)]}
    described = [pair for error in found for pair in _describe(error, english)]
    described += [(path, _text("not_allowed", english)) for path in extra]
    for path, message in described:
        messages = errors.setdefault(path, [])
        if message not in messages:
            messages.append(message)
    return errors


def undeclared_fields(form: Any, data: Any) -> list[str]:
    """Paths of the keys in ``data`` that the form does not let a person fill in.

    Data in equals the form: an object accepts the ``properties`` its schema declares and
    nothing else, at any depth (the form, a table's rows, an object in an array), whatever
    the schema says about ``additionalProperties`` or ``patternProperties``. A read-only
    field is shown, never filled, so it is not accepted either. Paths read like the errors'
    (``org_unit``, ``parts_used.0.hack``).
    """
    schema, ui = form_parts(form)
    layout = effective_ui(schema, ui) if isinstance(data, dict) else None
    return list(_undeclared(schema, schema, data, (), layout))


def _undeclared(
    root: dict[str, Any], node: object, value: Any, path: tuple, layout: dict[str, Any] | None
) -> Iterator[str]:
    node = resolve(root, node)
    if isinstance(value, dict):
        properties = node.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        hints = (layout or {}).get("fields") or {}
        for name, item in value.items():
            here = (*path, name)
            field = hints.get(name) or {}
            if name not in properties or field.get("readonly"):
                yield _path(here)
            else:
                yield from _undeclared(root, properties[name], item, here, field.get("columns"))
    elif isinstance(value, list):
        prefix = node.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        for index, item in enumerate(value):
            sub = prefix[index] if index < len(prefix) else node.get("items")
            yield from _undeclared(root, sub, item, (*path, index), layout)


def _path(parts: Any, *more: object) -> str:
    return ".".join(str(p) for p in (*parts, *more))


def _describe(error: ValidationError, english: bool) -> list[tuple[str, str]]:
    """(field path, message) pairs for one jsonschema error."""
    keyword = error.validator
    value = error.validator_value
    instance = error.instance
    here = _path(error.absolute_path)
    if keyword == "required":
        present = instance if isinstance(instance, dict) else {}
        return [
            (_path(error.absolute_path, n), _text("required", english))
            for n in value
            if n not in present
        ]
    if keyword == "dependentRequired":
        present = instance if isinstance(instance, dict) else {}
        missing = [
            n
            for trigger, names in value.items()
            if trigger in present
            for n in names
            if n not in present
        ]
        return [(_path(error.absolute_path, n), _text("required", english)) for n in missing]
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        extras = _extra_properties(error)
        if extras:
            return [(_path(error.absolute_path, n), _text("not_allowed", english)) for n in extras]
    return [(here, _message(keyword, value, error, english))]


def _extra_properties(error: ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    known = set(schema.get("properties") or {})
    patterns = [re.compile(p) for p in (schema.get("patternProperties") or {})]
    return [
        name
        for name in error.instance
        if name not in known and not any(p.search(name) for p in patterns)
    ]


def _message(keyword: str | None, value: Any, error: ValidationError, english: bool) -> str:
    if keyword is None:  # the false schema
        return _text("not_allowed", english)
    if keyword == "type":
        expected = [value] if isinstance(value, str) else [t for t in value if t != "null"]
        return _text(f"type_{expected[0] if expected else 'null'}", english)
    if keyword == "format":
        return _text(f"format_{value}", english, fallback="format")
    if keyword == "minLength" and value == 1:
        return _text("not_empty", english)
    if keyword == "minItems" and english and value == 1:
        return "Add at least 1 item"
    if keyword in _NUMERIC:
        return _text(keyword, english, n=_number(value))
    return _text(keyword, english, fallback="generic")


_NUMERIC = {
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
}

# keyword -> (zh, en); {n} is the keyword's number.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("此项为必填", "This field is required"),
    "not_empty": ("此项不能为空", "This field must not be empty"),
    "not_allowed": ("不允许填写此项", "This field is not allowed"),
    "type_string": ("应为文本", "Must be text"),
    "type_number": ("请输入数字", "Must be a number"),
    "type_integer": ("请输入整数", "Must be a whole number"),
    "type_boolean": ("请选择是或否", "Must be yes or no"),
    "type_array": ("应为列表", "Must be a list"),
    "type_object": ("格式不正确", "Invalid value"),
    "type_null": ("此项应为空", "Must be empty"),
    "minimum": ("请输入不小于 {n} 的数", "Must be at least {n}"),
    "maximum": ("请输入不大于 {n} 的数", "Must be at most {n}"),
    "exclusiveMinimum": ("请输入大于 {n} 的数", "Must be greater than {n}"),
    "exclusiveMaximum": ("请输入小于 {n} 的数", "Must be less than {n}"),
    "multipleOf": ("应为 {n} 的整数倍", "Must be a multiple of {n}"),
    "minLength": ("至少输入 {n} 个字符", "Must be at least {n} characters"),
    "maxLength": ("最多输入 {n} 个字符", "Must be at most {n} characters"),
    "minItems": ("至少填写 {n} 项", "Add at least {n} items"),
    "maxItems": ("最多填写 {n} 项", "At most {n} items"),
    "uniqueItems": ("不能有重复项", "Items must not repeat"),
    "minProperties": ("至少填写 {n} 项", "Fill in at least {n} fields"),
    "maxProperties": ("最多填写 {n} 项", "Fill in at most {n} fields"),
    "pattern": ("格式不正确", "Invalid format"),
    "enum": ("请从给定选项中选择", "Choose one of the options"),
    "const": ("值不正确", "Invalid value"),
    "format": ("格式不正确", "Invalid format"),
    "format_date": (
        "格式不正确：应为日期 YYYY-MM-DD",
        "Invalid format: expected a date YYYY-MM-DD",
    ),
    "format_date-time": (
        "格式不正确：应为日期时间 YYYY-MM-DD HH:MM",
        "Invalid format: expected a date and time YYYY-MM-DD HH:MM",
    ),
    "format_time": ("格式不正确：应为时间 HH:MM", "Invalid format: expected a time HH:MM"),
    "format_email": ("格式不正确：应为电子邮件地址", "Invalid format: expected an email address"),
    "format_uuid": ("格式不正确：应为 UUID", "Invalid format: expected a UUID"),
    "generic": ("填写的内容不符合要求", "Invalid value"),
}


def _text(name: str, english: bool, fallback: str = "generic", **values: object) -> str:
    zh, en = MESSAGES.get(name) or MESSAGES[fallback]
    return (en if english else zh).format(**values)


def _number(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
