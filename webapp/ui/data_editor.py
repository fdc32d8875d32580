"""The instance data editor: the fields in which an operator changes the variables of a
suspended or failed instance, and how what they post is read back.

The page used to ask for every value as JSON in one-line inputs: a text showed as
``"\\u8d75\\u654f"`` and a text typed without its quotes was refused, so saving failed for
anyone who edited a name or an address. Each variable now gets a field of its kind (text,
number, yes/no, and JSON for lists, objects and null), and its kind says how the posted text
is read; the JSON view edits the whole object at once for those who want it. Either way only
the variables whose value the operator changed go to ``SetVariables`` (nothing else is
rewritten), and one field that cannot be read refuses the whole save, naming the field.

No request globals: the view passes the posted form and the instance's current variables.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from engine.commands import check_variables
from engine.errors import InvalidInput

KINDS = ("text", "number", "boolean", "json")
FIELDS, JSON_VIEW = "fields", "json"
TEXTAREA_CHARS = 80  # a longer text gets a text area, as one with a line break does
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE, _FALSE = ("true", "是", "yes"), ("false", "否", "no")


class Unreadable(ValueError):
    """A posted value that its kind cannot read; the message says what to write instead."""


@dataclass
class Field:
    """One variable as the form shows it: its kind, its text, and why it was refused."""

    name: str
    kind: str
    text: str
    error: str = ""

    @property
    def multiline(self) -> bool:
        return self.kind == "json" or "\n" in self.text or len(self.text) > TEXTAREA_CHARS


@dataclass
class Editor:
    """What the data section of the instance page shows: the typed fields (with the row that
    adds a variable) or the whole object as JSON, with what a refused save typed."""

    view: str
    fields: list[Field]
    new: Field = field(default_factory=lambda: Field("", "text", ""))
    new_name_error: str = ""
    json_text: str = ""
    json_error: str = ""

    @property
    def refused(self) -> bool:
        return bool(
            self.json_error or self.new_name_error or self.new.error or any_error(self.fields)
        )


def any_error(fields: list[Field]) -> bool:
    return any(f.error for f in fields)


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "json"


def shown(value: Any, kind: str) -> str:
    """The text a field of ``kind`` shows for ``value``; ``read`` gives the value back."""
    if kind == "text":
        return value
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        return repr(value)
    return json.dumps(value, ensure_ascii=False, indent=2)


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _json(text: str) -> Any:
    """JSON as the standard has it: Python's reader also takes NaN and Infinity, which no
    other reader of the stored state would."""
    return json.loads(text, parse_constant=_no_constant)


def read(kind: str, text: str) -> Any:
    """The value a field of ``kind`` posted as ``text``; Unreadable says what is wrong."""
    if kind == "text":
        return text.replace("\r\n", "\n")  # a text area posts CRLF line ends
    if kind == "number":
        typed = text.strip()
        if not _NUMBER.match(typed):
            raise Unreadable(_("Enter a number, such as 12 or 3.5."))
        number = int(typed) if _INTEGER.match(typed) else float(typed)
        if not math.isfinite(number):
            raise Unreadable(_("Enter a number, such as 12 or 3.5."))
        return number
    if kind == "boolean":
        typed = text.strip().lower()
        if typed in _TRUE or typed in _FALSE:
            return typed in _TRUE
        raise Unreadable(_("Choose yes or no."))
    try:
        return _json(text)
    except ValueError:
        raise Unreadable(_('Write JSON: 12, "text", true, null, [1, 2] or {"a": 1}.')) from None


def _json_problem(exc: ValueError) -> str:
    """Where the JSON goes wrong, in the reader's language (the parser's own message is
    English)."""
    if isinstance(exc, json.JSONDecodeError):
        return _(
            "This is not valid JSON: look at line %(line)s, column %(column)s.",
            line=exc.lineno,
            column=exc.colno,
        )
    return _("This is not valid JSON: NaN and Infinity are not JSON numbers.")


def same(a: Any, b: Any) -> bool:
    """Equal as stored: ``1 == True`` and ``[1] == [1.0]`` in Python, but not in the data."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def editor_for(variables: Mapping[str, Any], view: str = FIELDS) -> Editor:
    """The editor of an instance's current variables, in the view asked for."""
    fields = [Field(name, kind_of(v), shown(v, kind_of(v))) for name, v in variables.items()]
    return Editor(
        view=JSON_VIEW if view == JSON_VIEW else FIELDS,
        fields=fields,
        json_text=json.dumps(dict(variables), ensure_ascii=False, indent=2),
    )


def read_fields(form: Mapping[str, str], current: Mapping[str, Any]) -> tuple[dict, Editor]:
    """The variables the typed fields changed, and the editor as posted.

    ``value.NAME`` holds the text of variable NAME, read by the kind of its current value (a
    variable not posted is left alone); ``new_name``, ``new_kind`` and ``new_value`` add one.
    """
    changed: dict[str, Any] = {}
    editor = editor_for(current)
    for item in editor.fields:
        posted = form.get(f"value.{item.name}")
        if posted is None:
            continue
        item.text = posted
        try:
            value = read(item.kind, posted)
        except Unreadable as exc:
            item.error = str(exc)
            continue
        if not same(value, _as_posted(current[item.name], item.kind)):
            changed[item.name] = value
    name = (form.get("new_name") or "").strip()
    kind = form.get("new_kind") if form.get("new_kind") in KINDS else "text"
    editor.new = Field(name, kind, form.get("new_value") or "")
    if name:
        editor.new_name_error = _name_error(name, current)
        try:
            value = read(kind, editor.new.text)
        except Unreadable as exc:
            editor.new.error = str(exc)
        else:
            if not editor.new_name_error:
                changed[name] = value
    return changed, editor


def _as_posted(value: Any, kind: str) -> Any:
    """The current value as its field posts it back untouched (a text area's line ends)."""
    return value.replace("\r\n", "\n") if kind == "text" else value


def _name_error(name: str, current: Mapping[str, Any]) -> str:
    if name in current:
        return _("This variable exists already: change it in its own field.")
    try:
        check_variables({name: None})
    except InvalidInput:
        return _("A name starts with a letter and has only letters, digits and _.")
    return ""


def read_json(text: str, current: Mapping[str, Any]) -> tuple[dict, Editor]:
    """The variables the JSON view changed, and the editor as posted.

    The text must be one JSON object; a variable left out of it is refused rather than
    dropped, since the engine keeps every variable an instance has.
    """
    editor = editor_for(current, JSON_VIEW)
    editor.json_text = text
    try:
        posted = _json(text)
    except ValueError as exc:
        editor.json_error = _json_problem(exc)
        return {}, editor
    if not isinstance(posted, dict):
        editor.json_error = _('Write one JSON object: {"name": value, ...}.')
        return {}, editor
    left_out = sorted(set(current) - set(posted))
    if left_out:
        editor.json_error = _(
            "A variable cannot be removed here; put back %(names)s.", names=", ".join(left_out)
        )
        return {}, editor
    bad = sorted(k for k in posted if k not in current and _name_error(k, current))
    if bad:
        editor.json_error = _(
            "A name starts with a letter and has only letters, digits and _: %(names)s",
            names=", ".join(bad),
        )
        return {}, editor
    changed = {k: v for k, v in posted.items() if k not in current or not same(v, current[k])}
    return changed, editor
