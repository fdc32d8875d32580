"""The engine's clock: everything it timestamps can be recorded as of another moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.models import clock_set_to, utcnow


def test_inside_the_block_now_is_the_moment_given() -> None:
    moment = datetime(2026, 9, 1, 8, 30)
    with clock_set_to(moment):
        assert abs(utcnow() - moment) < timedelta(seconds=1)


def test_the_clock_keeps_running_from_that_moment() -> None:
    moment = datetime(2026, 9, 1, 8, 30)
    with clock_set_to(moment):
        first = utcnow()
        second = utcnow()
    assert moment <= first <= second


def test_after_the_block_now_is_now_again() -> None:
    with clock_set_to(datetime(2020, 1, 1)):
        pass
    real = datetime.now(UTC).replace(tzinfo=None)
    assert abs(utcnow() - real) < timedelta(seconds=1)
