"""Chinese phone numbers in their one stored form, whatever way a caller or an agent writes them.

The canonical form is digits only:

- a mobile number is its 11 digits, ``13800138000``;
- a landline is its area code with the trunk ``0`` and then the local number,
  ``02164881234`` (Shanghai 021), ``057187654321`` (Hangzhou 0571).

Accepted around the digits: spaces, dashes, parentheses and dots (``021-6488 1234``,
``(021)64881234``), full-width characters a Chinese input method types (``（０２１）``), and the
country code ``+86``, ``0086`` or ``86`` (``+86 138 0013 8000``, ``0086-13800138000``; written
internationally a landline drops its trunk 0, ``+86 21 6488 1234``).

``normalize`` gives the canonical form or raises ``InvalidPhone`` with a ``reason`` a form can
show; ``lookup_form`` never raises, for lookups and prefix searches of what someone typed.
Pure functions: no database, no Flask.
"""

from __future__ import annotations

import re
import unicodedata

SEPARATORS = re.compile(r"[\s\-()\.\u2010-\u2015]")
COUNTRY = re.compile(r"^(?:\+|00)?86")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Beijing 010 and the 02X cities have 8-digit numbers; the 0XXX areas 7 or 8 digits
LANDLINE = re.compile(r"^(?:0(?:10|2\d)\d{8}|0[3-9]\d{2}\d{7,8})$")
SHORTEST = 10  # a 4-digit area code and a 7-digit number is 11; below 10 nothing is whole
LONGEST = 12


class InvalidPhone(ValueError):
    """Not a phone number; ``reason`` says why: ``empty``, ``characters`` (anything but digits
    and the separators), ``too_short``, ``too_long`` or ``unknown`` (another country's code,
    or the right length without a mobile or area-code pattern)."""

    def __init__(self, reason: str, raw: str) -> None:
        super().__init__(f"not a phone number ({reason}): {raw!r}")
        self.reason = reason


def _digits(raw: str) -> str:
    """``raw`` without separators, in ASCII (full-width digits and brackets folded)."""
    return SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))


def _national(text: str) -> str:
    """``text`` without a country code, with the trunk 0 a landline written internationally
    lost. ``86`` without ``+`` or ``00`` counts only before a mobile number (``+`` becomes a
    space in a URL), since 86... is no area code's start anyway."""
    match = COUNTRY.match(text)
    if match is None:
        return text
    rest = text[match.end() :]
    if not match.group(0).startswith(("+", "00")) and not MOBILE.match(rest):
        return text
    if rest and rest[0] in "23456789":
        rest = "0" + rest
    return rest


def normalize(raw: str | None) -> str:
    """The canonical form of ``raw``, or ``InvalidPhone``."""
    text = _digits(raw or "")
    if not text:
        raise InvalidPhone("empty", raw or "")
    if not re.fullmatch(r"\+?[0-9]+", text):
        raise InvalidPhone("characters", raw or "")
    number = _national(text)
    if not number.isdigit():  # another country's code: the product serves Chinese numbers
        raise InvalidPhone("unknown", raw or "")
    if len(number) < SHORTEST or (number.startswith("1") and len(number) < 11):
        raise InvalidPhone("too_short", raw or "")
    if len(number) > LONGEST or (number.startswith("1") and len(number) > 11):
        raise InvalidPhone("too_long", raw or "")
    if MOBILE.match(number) or LANDLINE.match(number):
        return number
    raise InvalidPhone("unknown", raw or "")


def lookup_form(raw: str | None) -> str:
    """What to look ``raw`` up by: its canonical form when it is a whole number, else the
    same cleaning without the checks (a prefix typed into a picker, or something that matches
    nothing)."""
    try:
        return normalize(raw)
    except InvalidPhone:
        return _national(_digits(raw or ""))
