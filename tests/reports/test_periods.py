"""Periods: rolling windows, calendar spellings in the org's time zone, specific errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reports.periods import PeriodError, looks_like_period, parse_period, period_name

# 2026-11-25 09:00 in Shanghai, a Wednesday.
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"


def bounds(spec: str) -> tuple[datetime, datetime]:
    period = parse_period(spec, NOW, TZ)
    return period.start, period.end


@pytest.mark.parametrize(
    ("spec", "days"), [("day", 1), ("week", 7), ("month", 30), ("quarter", 90), ("year", 365)]
)
def test_rolling_windows_end_now(spec: str, days: int) -> None:
    assert bounds(spec) == (NOW - timedelta(days=days), NOW)


def test_calendar_spellings_are_local_days() -> None:
    # Local midnight in Shanghai is 16:00 UTC the day before.
    assert bounds("2026-11") == (
        datetime(2026, 10, 31, 16, tzinfo=UTC),
        datetime(2026, 11, 30, 16, tzinfo=UTC),
    )
    assert bounds("2026-12") == (
        datetime(2026, 11, 30, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    assert bounds("2026-11-20") == (
        datetime(2026, 11, 19, 16, tzinfo=UTC),
        datetime(2026, 11, 20, 16, tzinfo=UTC),
    )
    assert bounds("2026-11-01..2026-11-15") == (
        datetime(2026, 10, 31, 16, tzinfo=UTC),
        datetime(2026, 11, 15, 16, tzinfo=UTC),
    )


def test_chinese_aliases() -> None:
    assert bounds("今天") == bounds("2026-11-25") == bounds("today")
    assert bounds("昨天") == bounds("2026-11-24")
    assert bounds("本周") == bounds("2026-11-23..2026-11-29")  # Monday to Sunday
    assert bounds("上周") == bounds("2026-11-16..2026-11-22")
    assert bounds("本月") == bounds("2026-11")
    assert bounds("上月") == bounds("2026-10")
    assert bounds("本季度") == bounds("2026-10-01..2026-12-31")
    assert bounds("今年") == bounds("2026-01-01..2026-12-31")
    assert bounds("近7天") == bounds("week")
    assert bounds("近30天") == bounds("month")


@pytest.mark.parametrize(
    ("spec", "code", "words"),
    [
        ("fortnight", "unknown", "unknown period 'fortnight'"),
        ("2026-13", "bad_date", "there is no month 13"),
        ("2026-02-30", "bad_date", "not a real date"),
        ("2026-11-20..2026-11-01", "reversed", "ends before it starts"),
        ("2026-11-01..soon", "unknown", "'soon' is not a date"),
    ],
)
def test_bad_periods_say_what_is_wrong(spec: str, code: str, words: str) -> None:
    with pytest.raises(PeriodError, match=words) as caught:
        parse_period(spec, NOW, TZ)
    assert caught.value.code == code


def test_what_looks_like_a_period() -> None:
    assert looks_like_period("2026-13")
    assert looks_like_period("本月")
    assert looks_like_period("week")
    assert not looks_like_period("宝玉直社区")
    assert not looks_like_period("traffic")


def test_rolling_windows_are_named_as_people_say_them() -> None:
    assert period_name("week", "zh") == "近7天"
    assert period_name("近30天", "en") == "last 30 days"
    assert period_name("YEAR", "en") == "last 365 days"
    assert period_name("2026-11", "zh") == "2026-11" and period_name("本月", "en") == "本月"
