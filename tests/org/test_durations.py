"""Durations as admins write them in the org file (``90s``, ``15m``, ``2h``, ``3d``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from org.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("3d", timedelta(days=3)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        (" 10m ", timedelta(minutes=10)),
        ("90", timedelta(seconds=90)),
        (90, timedelta(seconds=90)),
        (90.0, timedelta(seconds=90)),
        ("0h5m", timedelta(minutes=5)),
    ],
)
def test_parses(text: str | int | float, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0",
        "0s",
        "0h0m",
        0,
        -5,
        "-5m",
        "abc",
        "2 hours",
        "1.5h",
        "1M",  # a month? a minute? neither.
        "30m1h",  # out of order
        "1h1h",
        "h",
        "5x",
        1.5,
        float("nan"),
        float("inf"),
        True,
        "99999999999999d",
    ],
)
def test_rejects(text: str | int | float) -> None:
    with pytest.raises(ValueError, match=r"^bad duration '.*': use a number followed by s, m, h"):
        parse_duration(text)


def test_message_names_the_input_and_the_fix() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("soon")
    assert str(info.value) == (
        "bad duration 'soon': use a number followed by s, m, h or d, e.g. 90s, 15m, 2h, 3d"
    )


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=15), "15m"),
        (timedelta(hours=2), "2h"),
        (timedelta(days=3), "3d"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1d2h3m4s"),
        (timedelta(0), "0s"),
        (timedelta(minutes=-5), "-5m"),
        (timedelta(seconds=59.6), "1m"),
    ],
)
def test_formats_compactly(td: timedelta, text: str) -> None:
    assert format_duration(td) == text


@pytest.mark.parametrize("text", ["90s", "15m", "2h", "3d", "1h30m", "1d2h3m4s", "7d", "86399s"])
def test_format_is_the_inverse_of_parse(text: str) -> None:
    td = parse_duration(text)
    assert parse_duration(format_duration(td)) == td
