"""Times and durations as people read them: one time zone per user, on every page and export.

The database holds naive UTC (``engine/models.py``). A person reads times in their own zone:
``User.time_zone`` (an IANA name chosen on the profile page), else the app's
``BABEL_DEFAULT_TIMEZONE`` (Asia/Shanghai). ``select_timezone`` is Flask-Babel's timezone
selector, and everything here converts through Flask-Babel, so the pages, the workbooks and the
messages of one request all show the same zone.

- Pages render every time with the Jinja filter ``datetime``:
  ``{{ task.due_at|datetime }}`` gives ``<time datetime="2026-12-04T08:00:00Z"
  title="中国（上海）时间 GMT+08:00">2026-12-04 16:00</time>``; ``|datetime("date")`` the day,
  ``|datetime("short")`` ``12-04 16:00`` (the phone view), ``|datetime(zone=True)`` adds the
  offset to the visible text (where a deadline is the point of the page). It takes naive UTC
  (as stored), aware datetimes and ISO 8601 text with ``Z`` or an offset (as the domain's
  views carry them).
- ``local_text`` is the same text without markup (attributes, workbooks), ``local_naive`` the
  wall-clock time for a spreadsheet cell, ``utc_midnight`` the start of a local day as stored.
- API answers are not localised: ISO 8601 in UTC with ``Z`` (``webapp/api/common.iso``).
- Durations: the filter ``duration`` (``duration_text``) writes at most two units with Babel's
  ``format_timedelta``, in the reader's language: ``3小时20分钟``, ``3 hours, 20 minutes``.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import pytz
from babel.dates import get_timezone as babel_zone
from babel.dates import get_timezone_location
from babel.lists import format_list
from flask import Flask, has_request_context
from flask_babel import format_datetime, format_timedelta, get_locale, get_timezone
from markupsafe import Markup

from .i18n import DEFAULT_LOCALE, signed_in_user

log = logging.getLogger(__name__)

DEFAULT_ZONE = "Asia/Shanghai"
# the regions of the IANA database whose zones a person picks; pytz's common list without the
# legacy aliases ("US/Eastern", "GMT+0", "PRC"), plus UTC
REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
ZONES: tuple[str, ...] = tuple(
    name for name in pytz.common_timezones if name == "UTC" or name.split("/", 1)[0] in REGIONS
)
_ZONE_SET = frozenset(ZONES)
# Babel date patterns of the filter's kinds
PATTERNS = {
    "datetime": "yyyy-MM-dd HH:mm",
    "date": "yyyy-MM-dd",
    "short": "MM-dd HH:mm",
    "time": "HH:mm",
}
DURATION_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def is_zone(name: object) -> bool:
    """Whether ``name`` is one of the IANA zones a user may choose (``ZONES``)."""
    return isinstance(name, str) and name in _ZONE_SET


def select_timezone() -> str | None:
    """Flask-Babel's timezone selector: the signed-in user's zone; None means the default."""
    if not has_request_context():
        return None
    try:
        user = signed_in_user()
    except Exception:  # a broken user loader (database down) must not break the error page
        log.exception("could not load the signed-in user to choose a time zone")
        return None
    zone = getattr(user, "time_zone", None) if user is not None else None
    return zone if is_zone(zone) else None


def zone_name() -> str:
    """The IANA name of the request's zone, e.g. ``Asia/Shanghai``."""
    return str(get_timezone())


def zone_label() -> str:
    """The request's zone as the reader's language names it: ``中国（上海）时间``."""
    return _zone_label(zone_name(), _locale_code())


@lru_cache(maxsize=1024)
def _zone_label(name: str, locale: str) -> str:
    return "UTC" if name == "UTC" else get_timezone_location(babel_zone(name), locale=locale)


def _locale_code() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else DEFAULT_LOCALE


def as_utc(value: datetime | str | None) -> datetime | None:
    """An aware UTC datetime from naive UTC (as stored), an aware datetime, or ISO 8601 text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local_text(value: datetime | date | str | None, kind: str = "datetime") -> str:
    """``value`` as the user's wall clock shows it (``PATTERNS[kind]``); a plain date as is."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    moment = as_utc(value)
    return format_datetime(moment, PATTERNS[kind]) if moment is not None else ""


def offset_text(value: datetime | str | None = None) -> str:
    """The user's offset from UTC at ``value`` (default now), e.g. ``GMT+08:00``, as Babel's
    ``ZZZZ`` writes it; computed directly, as a page prints it for every time it shows."""
    moment = as_utc(value) or datetime.now(UTC)
    offset = moment.astimezone(get_timezone()).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "GMT"
    sign = "+" if minutes > 0 else "-"
    return f"GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def time_tag(
    value: datetime | date | str | None, kind: str = "datetime", *, zone: bool = False
) -> Markup:
    """The filter ``datetime``: a ``<time>`` element with the UTC instant, the user's local
    text and the zone in its title (and in the text with ``zone=True``)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return Markup('<time datetime="{0}">{0}</time>').format(value.isoformat())
    moment = as_utc(value)
    if moment is None:
        return Markup("")
    text = local_text(moment, kind)
    offset = offset_text(moment)
    if zone:
        text = f"{text} ({offset})"
    stamp = moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return Markup('<time datetime="{}" title="{} {}">{}</time>').format(
        stamp, zone_label(), offset, text
    )


def local_naive(value: datetime | str | None) -> datetime | None:
    """The user's wall-clock time of ``value`` without a zone: a spreadsheet cell's datetime."""
    moment = as_utc(value)
    if moment is None:
        return None
    return moment.astimezone(get_timezone()).replace(tzinfo=None)


def utc_midnight(day: date) -> datetime:
    """The start of ``day`` in the user's time zone, as naive UTC (as the engine stores it)."""
    zone = get_timezone()
    local = zone.localize(datetime(day.year, day.month, day.day))
    return local.astimezone(UTC).replace(tzinfo=None)


def local_today(now: datetime | None = None) -> date:
    """Today's date in the user's time zone; ``now`` is naive UTC (default: the engine's clock)."""
    from engine.models import utcnow

    return as_utc(now or utcnow()).astimezone(get_timezone()).date()


def today_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The start and end of the user's today, as naive UTC."""
    today = local_today(now)
    return utc_midnight(today), utc_midnight(today + timedelta(days=1))


def duration_text(seconds: float | timedelta | None, units: int = 2) -> str:
    """At most ``units`` units, largest first, each written by Babel's ``format_timedelta``
    in the reader's language: ``3天4小时``, ``2 hours, 5 minutes``, ``12秒钟``."""
    if seconds is None:
        return ""
    if isinstance(seconds, timedelta):
        seconds = seconds.total_seconds()
    rest = max(0, round(seconds))  # the database's float arithmetic gives 11999.9999
    parts = []
    for unit, size in DURATION_UNITS:
        count, rest = divmod(rest, size)
        if count:
            # threshold=count keeps Babel on this unit (it would write 14 days as "2 weeks")
            parts.append(
                format_timedelta(timedelta(seconds=count * size), granularity=unit, threshold=count)
            )
        elif parts:
            break  # "3 days", not "3 days 0 hours"; the next unit is below the precision
        if len(parts) == units:
            break
    if not parts:
        return format_timedelta(timedelta(0), granularity="second")
    return format_list(parts, style="unit-narrow", locale=_locale_code())


@lru_cache(maxsize=8)
def _zone_choices(locale: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, f"{name} · {_zone_label(name, locale)}") for name in ZONES)


def zone_choices() -> tuple[tuple[str, str], ...]:
    """(IANA name, label) of every zone a user may choose, labelled in the reader's language:
    ``Asia/Shanghai · 中国（上海）时间``."""
    return _zone_choices(_locale_code())


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", DEFAULT_ZONE)
    app.jinja_env.filters["datetime"] = time_tag
    app.jinja_env.filters["duration"] = duration_text
    app.jinja_env.globals.update(local_text=local_text, zone_name=zone_name, zone_label=zone_label)
