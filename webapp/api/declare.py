"""Each API operation declared once: its parameters, body and answers as JSON Schema.

``@operation(...)`` records the declaration (the OpenAPI document is built from these records,
see ``openapi.py``) and checks every request against it before the view runs: the caller is
authenticated first (401), a path parameter outside its schema names nothing (404), a body over
its size limit is 413, a body that is not JSON is 415 or 400, and a body or query parameter
outside its schema is 422 with a message per field. The view receives the checked values as
``body`` and ``query``.

The schemas are JSON Schema 2020-12, the dialect of OpenAPI 3.1, so the same dicts validate
requests (with ``jsonschema``) and appear in the document unchanged.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .errors import ApiError

JSON_BODY_MAX = 256 * 1024  # bytes of a JSON body unless an operation declares more
MULTIPART = "multipart/form-data"
JSON = "application/json"

OPERATIONS: dict[str, Operation] = {}  # by view function name (the endpoint without "api.")


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers; ``answers`` maps each success status to its schema."""

    summary: str
    answers: Mapping[int, dict[str, Any]]
    errors: frozenset[int] = frozenset()
    body: dict[str, Any] | None = None
    body_type: str = JSON
    body_max: int = JSON_BODY_MAX
    query: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    required_query: tuple[str, ...] = ()
    path: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    auth: bool = True
    description: str | None = None

    @property
    def statuses(self) -> frozenset[int]:
        """Every status the operation can answer: its own and those the checks give."""
        codes = set(self.answers) | set(self.errors)
        if self.auth:
            codes |= {401, 403}  # no or a revoked token; the route policy may refuse a role
        if self.path:
            codes.add(404)
        if self.query:
            codes.add(422)
        if self.body is not None:
            codes |= {413, 415, 422} | ({400} if self.body_type == JSON else set())
        return frozenset(codes)

    def query_schema(self) -> dict[str, Any]:
        return _object(self.query, self.required_query)

    def path_schema(self) -> dict[str, Any]:
        return _object(self.path, tuple(self.path))


def _object(properties: Mapping[str, dict[str, Any]], required: tuple[str, ...]) -> dict:
    return {"type": "object", "properties": dict(properties), "required": list(required)}


def operation(**declared: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the operation of the view below and check each request against it."""
    op = Operation(**declared)
    body_check = _validator(op.body) if op.body is not None else None
    query_check = _validator(op.query_schema()) if op.query else None
    path_check = _validator(op.path_schema()) if op.path else None

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if op.auth:
                from .auth import current_actor

                current_actor()
            if path_check is not None and _problems(path_check, path_values(op, kwargs)):
                raise ApiError(404, "not_found", "nothing is found at this address")
            extra: dict[str, Any] = {}
            problems: dict[str, str] = {}
            if query_check is not None:
                extra["query"] = query = _query_values(op)
                problems.update(_problems(query_check, query))
            if body_check is not None:
                checked_body, extra["body"] = _body(op)
                problems.update(_problems(body_check, checked_body, root="body"))
            if problems:
                raise ApiError(422, "invalid", "the request does not match its schema", problems)
            return view(*args, **kwargs, **extra)

        if view.__name__ in OPERATIONS:
            raise ValueError(f"two API views are named {view.__name__}: endpoints must differ")
        OPERATIONS[view.__name__] = op
        checked.operation = op  # type: ignore[attr-defined]
        return checked

    return decorate


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# --- reading the request -------------------------------------------------------------------

_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def rule_variables(rule: str) -> list[str]:
    """The variables of a Werkzeug rule, in order (``<id:instance_id>`` gives ``instance_id``)."""
    return _VARIABLE.findall(rule)


def path_values(op: Operation, view_args: Mapping[str, Any]) -> dict[str, Any]:
    """The path parameters under their documented names (the rule's variables, in order)."""
    names = rule_variables(request.url_rule.rule) if request.url_rule is not None else []
    return {doc: view_args.get(var) for doc, var in zip(op.path, names, strict=False)}


_WHOLE = re.compile(r"-?[0-9]{1,12}")


def _query_values(op: Operation) -> dict[str, Any]:
    """The declared query parameters that were given, integers parsed; an empty one is absent."""
    values: dict[str, Any] = {}
    for name, schema in op.query.items():
        raw = request.args.get(name)
        if raw is None or raw == "":
            continue
        if schema.get("type") == "integer" and _WHOLE.fullmatch(raw):
            values[name] = int(raw)
        else:
            values[name] = raw
    return values


def _body(op: Operation) -> tuple[Any, Any]:
    """The body as the schema sees it and as the view takes it (they differ for files)."""
    request.max_content_length = op.body_max
    if op.body_type == MULTIPART:
        return _multipart(op)
    raw = request.get_data(cache=True)
    if not raw:
        return {}, {}
    if not (request.mimetype == JSON or request.mimetype.endswith("+json")):
        raise ApiError(415, "unsupported_media_type", f"send the body as {JSON}")
    try:
        data = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise ApiError(400, "bad_request", "the body is nested too deeply") from None
    except ValueError:
        raise ApiError(400, "bad_request", "the body is not valid JSON") from None
    if _has_bad_text(data):
        raise ApiError(400, "bad_request", "the body holds a NUL or an unpaired surrogate")
    return data, data


def _multipart(op: Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    """Form fields as text and files by their names for the schema; files for the view."""
    if request.mimetype != MULTIPART:
        raise ApiError(415, "unsupported_media_type", f"send the files as {MULTIPART}")
    fields = (op.body or {}).get("properties", {})
    lists = {name for name, schema in fields.items() if schema.get("type") == "array"}
    checked: dict[str, Any] = {}
    given: dict[str, Any] = {}
    if None in request.form or None in request.files:
        raise ApiError(422, "invalid", "a form field has no name", {"body": "unnamed field"})
    for name in request.form:
        if name in fields and name not in request.files and _is_binary(fields[name]):
            raise ApiError(422, "invalid", "send files, not text", {name: "send files"})
        values = request.form.getlist(name)
        checked[name] = given[name] = values if name in lists else values[0]
    for name in request.files:
        files = request.files.getlist(name)
        names = [f.filename or "" for f in files]
        checked[name] = names if name in lists else names[0]
        given[name] = files if name in lists else files[0]
    return checked, given


def _is_binary(schema: dict[str, Any]) -> bool:
    items = schema.get("items", schema)
    return items.get("format") == "binary"


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("the number is out of range")
    return value


def _has_bad_text(data: Any) -> bool:
    """NUL and unpaired surrogates cannot be stored (PostgreSQL refuses them): refuse early."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and not _storable(value):
            return True
    return False


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- saying what is wrong, per field -------------------------------------------------------


def _problems(
    validator: Draft202012Validator, instance: Any, root: str | None = None
) -> dict[str, str]:
    """``{field: message}`` for every error; a field is its dotted path (``customer.phone``)."""
    out: dict[str, str] = {}
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        for name, message in _explain(error):
            out.setdefault(name or root or "request", message)
    for name, value in _texts(instance):
        if not _storable(value):
            out.setdefault(name, "holds a character that is not allowed")
    return out


def _texts(instance: Any) -> Iterator[tuple[str, str]]:
    if isinstance(instance, dict):
        for key, value in instance.items():
            if isinstance(value, str):
                yield str(key), value


def _path(error: ValidationError, *more: object) -> str:
    return ".".join(str(p) for p in (*error.absolute_path, *more))


def _explain(error: ValidationError) -> Iterator[tuple[str, str]]:
    """Short messages that never echo the value back (it may be 20,000 characters)."""
    kind, limit = error.validator, error.validator_value
    if kind == "required":
        missing = [n for n in limit if isinstance(error.instance, dict) and n not in error.instance]
        for name in missing:
            yield _path(error, name), "required"
        return
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        for name in sorted(str(n) for n in set(error.instance) - known):
            yield _path(error, name), "unknown field"
        return
    yield _path(error), _message(kind, limit, error.instance)


def _message(kind: str, limit: Any, instance: Any) -> str:
    if kind == "type":
        kinds = limit if isinstance(limit, list) else [limit]
        return "must be " + " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
    if kind == "minLength":
        return "required" if instance == "" else f"at least {limit} characters"
    simple = {
        "maxLength": f"at most {limit} characters",
        "maxItems": f"at most {limit} items",
        "minItems": f"at least {limit} items",
        "maxProperties": f"at most {limit} members",
        "minimum": f"at least {limit}",
        "maximum": f"at most {limit}",
        "pattern": "is not of the expected form",
        "uniqueItems": "has repeated items",
    }
    if kind in simple:
        return simple[kind]
    if kind in ("enum", "const"):
        options = limit if kind == "enum" else [limit]
        return "one of " + ", ".join(str(o) for o in options)
    return "invalid"


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "a list",
    "null": "null",
}
