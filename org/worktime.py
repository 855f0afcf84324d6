"""Working time: deadlines that count office hours, Chinese public holidays and make-up
working days (调休), in the org's time zone.

Non-urgent deadlines in a district are promised in working time: a report at 17:50 on the
eve of National Day is not "overdue" at 19:50. Conventions, so that a policy reads naturally:
a duration shorter than a day counts working hours; whole days count working days (`3d` =
the same time of day on the third working day after).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkingHours:
    start: time = time(9, 0)
    end: time = time(18, 0)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("working hours must end after they start")

    def span(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)


@cache
def is_workday(day: date) -> bool:
    """Chinese working day: weekdays minus public holidays plus make-up days. For a year the
    calendar does not know yet, Monday to Friday (and a warning, once)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


@cache
def _warn_unknown_year(year: int) -> None:
    log.warning("no Chinese holiday calendar for %s: counting Monday to Friday", year)


def add_working_time(
    start: datetime, duration: timedelta, tz: str, hours: WorkingHours
) -> datetime:
    """`start` + `duration` of working time; returns an aware UTC datetime."""
    zone = ZoneInfo(tz)
    local = _clamp_forward(start.astimezone(zone), hours)
    days, rest = divmod(duration, timedelta(days=1))
    for _ in range(days):
        local = _clamp_forward(local + timedelta(days=1), hours, keep_time=True)
    remaining = rest
    while remaining > timedelta(0):
        end_today = datetime.combine(local.date(), hours.end, zone)
        available = end_today - local
        if remaining <= available:
            local += remaining
            break
        remaining -= available
        local = _clamp_forward(
            datetime.combine(local.date() + timedelta(days=1), hours.start, zone), hours
        )
    return local.astimezone(UTC)


def _clamp_forward(local: datetime, hours: WorkingHours, keep_time: bool = False) -> datetime:
    """The first working instant at or after `local` (in its zone)."""
    zone = local.tzinfo
    while True:
        if is_workday(local.date()):
            start = datetime.combine(local.date(), hours.start, zone)
            end = datetime.combine(local.date(), hours.end, zone)
            if local < start:
                return start
            if local < end or (keep_time and local == end):
                return local
        local = datetime.combine(local.date() + timedelta(days=1), hours.start, zone)
        keep_time = False
