"""Small helpers for views and templates: safe redirects, pagination, priority, overdue."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict


def is_number(text: object, digits: int = 9) -> bool:
    """Whether ``text`` is a whole number written in ASCII digits (``"²".isdigit()`` is
    true, but no version or id is written that way)."""
    return isinstance(text, str) and re.fullmatch(rf"[0-9]{{1,{digits}}}", text) is not None


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects).

    Accepted: ``/tasks?page=2``. Refused: absolute URLs, scheme-relative ``//host``, ``/\\host``
    (browsers read a backslash as a slash), anything with a scheme, control characters.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def current_path() -> str:
    """The path and query of this request, for a form's ``next`` field."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def reload_url() -> str:
    """Where "reload" leads: this page for a GET, else the local page the form was on."""
    if request.method == "GET":
        return current_path()
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.scheme in ("http", "https"):
        return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    return "/"


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page > 0 else 1

    @property
    def first(self) -> int:
        """1-based number of the first item on this page (0 when there is none)."""
        return 0 if self.total == 0 else min(self.total, (self.page - 1) * self.per_page + 1)

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to link: first, last and ``around`` either side; None marks a gap."""
        shown = {1, self.pages} | set(
            range(max(1, self.page - around), min(self.pages, self.page + around) + 1)
        )
        out: list[int | None] = []
        previous = 0
        for number in sorted(shown):
            if number - previous > 1:
                out.append(None)
            out.append(number)
            previous = number
        return out


def pagination_info(page: int, per_page: int, total: int) -> Pagination:
    per_page = max(1, int(per_page))
    total = max(0, int(total))
    pages = max(1, math.ceil(total / per_page))
    return Pagination(min(max(1, int(page)), pages), per_page, total)


def url_for_page(page: int, param: str = "page") -> str:
    """This request's URL with ``param`` set to ``page``; other query arguments kept."""
    args = MultiDict(request.args)
    args.setlist(param, [str(page)])
    # built by hand: query arguments named like url_for's own (endpoint, _external, ...)
    # must not reach url_for
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"


def priority_level(priority: int | None) -> str:
    """``high`` (70 and up), ``low`` (30 and below) or ``normal``; the engine's default is 50."""
    value = 50 if priority is None else int(priority)
    if value >= 70:
        return "high"
    if value <= 30:
        return "low"
    return "normal"


def is_overdue(due: datetime | None, now: datetime | None = None) -> bool:
    """Whether ``due`` (naive means UTC, as the engine stores it) has passed."""
    if due is None:
        return False
    now = now or datetime.now(UTC)
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return due < now


def batch_status_label(status: str) -> str:
    """A migration batch's status in the reader's language."""
    from flask_babel import gettext as _

    labels = {
        "running": _("Migrating"),
        "completed": _("Migration finished"),
        "cancelled": _("Migration stopped"),
        "failed": _("Migration failed"),
    }
    return labels.get(status, status)


def instance_status_label(status: str) -> str:
    """An instance's status in the reader's language."""
    from flask_babel import gettext as _

    labels = {
        "running": _("running"),
        "suspended": _("suspended"),
        "incident": _("has an incident"),
        "completed": _("completed"),
        "terminated": _("terminated"),
    }
    return labels.get(status, status)


COMMAND_LABELS = {
    "start": _l("started"),
    "claim": _l("claimed"),
    "unclaim": _l("unclaimed"),
    "assign": _l("assigned"),
    "complete": _l("completed"),
    "comment": _l("commented"),
    "message": _l("message received"),
    "correlate_message": _l("message received"),
    "fire_timer": _l("timer fired"),
    "retry": _l("retried"),
    "suspend": _l("suspended"),
    "resume": _l("resumed"),
    "terminate": _l("terminated"),
    "set_variables": _l("changed data"),
}


def command_label(command: str) -> str:
    """A history line's command in the reader's language (only that one is translated)."""
    label = COMMAND_LABELS.get(command)
    return str(label) if label is not None else command


def data_label(key: str) -> str:
    """The label of a well-known order variable shown as task context."""
    from flask_babel import gettext as _

    labels = {
        "customer_name": _("Customer"),
        "phone": _("Phone"),
        "customer_phone": _("Phone"),
        "address": _("Address"),
        "product_model": _("Product model"),
        "fault_description": _("Fault description"),
        "order_number": _("Order number"),
        "serial": _("Serial number"),
    }
    return labels.get(key, key)
