"""Phone numbers in one canonical form: a mobile number as its 11 digits, a landline as its
area code and number; spaces, dashes, brackets and the country code are how people write
them, not part of the number."""

from __future__ import annotations

import pytest

from aftersales.customers.phones import InvalidPhone, lookup_form, normalize


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("0086-13800138000", "13800138000"),
        ("0086 138 0013 8000", "13800138000"),
        (" 8613800138000", "13800138000"),  # "+86" whose "+" a URL turned into a space
        ("(+86) 138-0013-8000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits of a Chinese keyboard
        ("021-6488 1234", "02164881234"),
        ("(021)64881234", "02164881234"),
        ("（021）6488-1234", "02164881234"),
        ("021 6488 1234", "02164881234"),
        ("02164881234", "02164881234"),
        ("+86 21 6488 1234", "02164881234"),  # written internationally, without the trunk 0
        ("+86 (0)21 6488 1234", "02164881234"),
        ("0086-21-64881234", "02164881234"),
        ("010-8888 6666", "01088886666"),  # Beijing
        ("0571-8765 4321", "057187654321"),  # Hangzhou, 8 digits
        ("0898-123 4567", "08981234567"),  # Haikou, 7 digits
    ],
)
def test_every_way_of_writing_a_number_gives_its_canonical_form(
    written: str, canonical: str
) -> None:
    assert normalize(written) == canonical
    assert lookup_form(written) == canonical


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "empty"),
        ("  - ", "empty"),
        (None, "empty"),
        ("138OO138OOO", "characters"),  # letters O for zeros
        ("call 13800138000", "characters"),
        ("138 0013 8000 ext 12", "characters"),
        ("1380013", "too_short"),
        ("6488 1234", "too_short"),  # a landline without its area code
        ("021-648", "too_short"),
        ("138001380001", "too_long"),
        ("021-6488 1234 5678", "too_long"),
        ("12345678901", "unknown"),  # 11 digits, but no mobile prefix
        ("+44 20 7946 0958", "unknown"),  # another country
    ],
)
def test_what_is_no_phone_number_is_refused_with_the_reason(written: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as refused:
        normalize(written)
    assert refused.value.reason == reason


def test_a_lookup_of_a_partial_number_keeps_what_was_typed_without_separators() -> None:
    # a picker searches by prefix: what is not a whole number is cleaned, not refused
    assert lookup_form("138 0013") == "1380013"
    assert lookup_form("021-6488") == "0216488"
    assert lookup_form("+86 138 00") == "13800"
    assert lookup_form("陈") == "陈"
