"""Periods a report or `/stats` covers: a case is in a period when it was FILED in it.

Accepted spellings (local dates are in the org's time zone; every period is half-open,
``start <= created_at < end``):

- rolling windows ending now: ``day`` (1 day), ``week`` (7), ``month`` (30), ``quarter`` (90),
  ``year`` (365);
- a calendar month ``YYYY-MM``, a day ``YYYY-MM-DD``, an inclusive range of days
  ``YYYY-MM-DD..YYYY-MM-DD``;
- Chinese aliases for chat: 今天 / 昨天 (that local day), 本周 / 上周 (Monday-based calendar
  week), 本月 / 上月, 本季度 (calendar quarter), 今年 (calendar year), and 近7天 / 近30天 /
  近90天 / 近一年 (the rolling windows). ``today`` and ``yesterday`` work too.

A period that cannot be read raises `PeriodError` whose `code` says why, so the chat can
answer in the user's language and the CLI in English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ROLLING = {"day": 1, "week": 7, "month": 30, "quarter": 90, "year": 365}
ROLLING_ALIASES = {"近7天": "week", "近一周": "week", "近30天": "month", "近90天": "quarter"}
ROLLING_ALIASES |= {"近一年": "year", "近24小时": "day"}
# How a rolling window is named to people, by language.
ROLLING_NAMES = {
    "zh": {
        "day": "近24小时",
        "week": "近7天",
        "month": "近30天",
        "quarter": "近90天",
        "year": "近一年",
    },
    "en": {
        "day": "last 24 hours",
        "week": "last 7 days",
        "month": "last 30 days",
        "quarter": "last 90 days",
        "year": "last 365 days",
    },
}
CALENDAR_ALIASES = ("今天", "昨天", "本周", "上周", "本月", "上月", "本季度", "今年")
CALENDAR_ALIASES_EN = {"today": "今天", "yesterday": "昨天"}
EXAMPLES = "day, week, month, quarter, year, 2026-11, 2026-11-25, 2026-11-01..2026-11-15, 本月"

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class PeriodError(ValueError):
    """A period that cannot be read; `code` is unknown | bad_date | reversed."""

    def __init__(self, spec: str, code: str, message: str) -> None:
        super().__init__(message)
        self.spec = spec
        self.code = code


@dataclass(frozen=True)
class Period:
    """A half-open window [start, end) in UTC, with the spelling it came from."""

    spec: str
    start: datetime
    end: datetime
    timezone: str

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def local_bounds(self) -> tuple[str, str]:
        """The window as local times for people: ``2026-11-24 09:00``."""
        tz = ZoneInfo(self.timezone)
        fmt = "%Y-%m-%d %H:%M"
        return self.start.astimezone(tz).strftime(fmt), self.end.astimezone(tz).strftime(fmt)

    def to_json(self) -> dict[str, str]:
        start, end = self.local_bounds()
        return {
            "spec": self.spec,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "start_local": start,
            "end_local": end,
            "timezone": self.timezone,
            "rule": "cases filed in [start, end)",
        }


def _day(spec: str, text: str) -> date:
    match = _DAY.fullmatch(text)
    if match is None:
        raise PeriodError(spec, "unknown", f"{text!r} is not a date YYYY-MM-DD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise PeriodError(spec, "bad_date", f"{text!r} is not a real date ({exc})") from None


def _local(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _calendar(alias: str, today: date) -> tuple[date, date]:
    """First day and the day after the last day of a calendar alias."""
    if alias == "今天":
        return today, today + timedelta(days=1)
    if alias == "昨天":
        return today - timedelta(days=1), today
    if alias in ("本周", "上周"):
        monday = today - timedelta(days=today.weekday())
        if alias == "上周":
            monday -= timedelta(days=7)
        return monday, monday + timedelta(days=7)
    first = today.replace(day=1)
    if alias == "本月":
        return first, _add_months(first, 1)
    if alias == "上月":
        return _add_months(first, -1), first
    if alias == "本季度":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return start, _add_months(start, 3)
    return date(today.year, 1, 1), date(today.year + 1, 1, 1)  # 今年


def parse_period(spec: str, now: datetime, timezone: str) -> Period:
    """Read a period spelling (see the module docstring) relative to `now`."""
    text = spec.strip()
    tz = ZoneInfo(timezone)
    key = text.lower()
    key = ROLLING_ALIASES.get(key, key)
    if key in ROLLING:
        return Period(text, now - timedelta(days=ROLLING[key]), now, timezone)
    alias = CALENDAR_ALIASES_EN.get(key, key)
    if alias in CALENDAR_ALIASES:
        first, after = _calendar(alias, now.astimezone(tz).date())
        return Period(text, _local(first, tz), _local(after, tz), timezone)
    if ".." in text:
        left, _, right = text.partition("..")
        first, last = _day(text, left.strip()), _day(text, right.strip())
        if last < first:
            raise PeriodError(text, "reversed", f"{text!r}: the range ends before it starts")
        return Period(text, _local(first, tz), _local(last + timedelta(days=1), tz), timezone)
    month = _MONTH.fullmatch(text)
    if month is not None:
        if not 1 <= int(month[2]) <= 12:
            raise PeriodError(text, "bad_date", f"{text!r}: there is no month {month[2]}")
        first = date(int(month[1]), int(month[2]), 1)
        return Period(text, _local(first, tz), _local(_add_months(first, 1), tz), timezone)
    if _DAY.fullmatch(text):
        day = _day(text, text)
        return Period(text, _local(day, tz), _local(day + timedelta(days=1), tz), timezone)
    raise PeriodError(text, "unknown", f"unknown period {text!r}; use one of: {EXAMPLES}")


def period_name(spec: str, language: str) -> str:
    """A period as people say it: `week` is 近7天 / last 7 days; other spellings (dates,
    本月 …) already are."""
    key = spec.strip().lower()
    key = ROLLING_ALIASES.get(key, key)
    names = ROLLING_NAMES["zh" if language.startswith("zh") else "en"]
    return names.get(key, spec)


def looks_like_period(token: str) -> bool:
    """Whether a /stats argument was meant as a period (so a typo gets the period error)."""
    key = token.strip().lower()
    return (
        key in ROLLING
        or key in ROLLING_ALIASES
        or key in CALENDAR_ALIASES
        or key in CALENDAR_ALIASES_EN
        or key[:1].isdigit()
    )
