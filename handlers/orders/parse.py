"""Reading a `/order` command: its targets, its deadline and its text; a mistake says
which template explains it."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from escalation import orders as chase
from org.durations import parse_duration
from org.view import OrgView, UnitView

MAX_ORDER_CHARS = 1000
MAX_AHEAD = timedelta(days=366)
# "all grids of": `haizhuang/grids`, `海幢街道全部网格`, `宝玉直社区所有网格`.
ALL_GRIDS = re.compile(r"(.+?)(?:/grids|全部网格|所有网格)", re.IGNORECASE)
TARGET_SEPARATORS = re.compile(r"[,，、]")
DATE_TOKEN = re.compile(r"(?:(\d{4})-)?(\d{1,2})-(\d{1,2})")
TIME_TOKEN = re.compile(r"(\d{1,2}):(\d{2})")
FIRST_WORD = re.compile(r"\s*(\S+)\s*(.*)", re.DOTALL)


class OrderInputError(Exception):
    """A mistake in a /order command: the template that explains it, and its context."""

    def __init__(self, template: str, **context: Any) -> None:
        super().__init__(template)
        self.template = template
        self.context = context


def find_unit(org: OrgView, word: str) -> UnitView | None:
    """A unit by id (any case) or by its exact name; never the leadership pseudo-unit."""
    lowered = word.lower()
    for unit in org.units.values():
        if unit.level != "leadership" and (unit.id.lower() == lowered or unit.name == word):
            return unit
    return None


def suggest(org: OrgView, word: str) -> str | None:
    """The unit name closest to a mistyped one, for "did you mean"."""
    names: dict[str, str] = {}
    for unit in sorted(org.units.values(), key=lambda u: u.id):
        if unit.level != "leadership":
            names.setdefault(unit.name, unit.name)
            names.setdefault(unit.id, unit.name)
    found = difflib.get_close_matches(word, list(names), n=1, cutoff=0.5)
    return names[found[0]] if found else None


def grids_under(org: OrgView, unit: UnitView) -> list[UnitView]:
    """The base grids in a street's or community's tree (a grid: itself)."""
    return [g for g in org.grids() if unit.id in {u.id for u in chase.chain(org, g.id)}]


def parse_targets(org: OrgView, word: str) -> list[UnitView]:
    """`宝玉直第一网格,baoyuzhi-2`, `haizhuang/grids`, `海幢街道全部网格` → units, in order,
    each once."""
    found: dict[str, UnitView] = {}
    items = [item.strip() for item in TARGET_SEPARATORS.split(word) if item.strip()]
    for item in items:
        group = ALL_GRIDS.fullmatch(item)
        unit = find_unit(org, group[1] if group else item)
        if unit is None:
            typed = group[1] if group else item
            raise OrderInputError(
                "order_unknown_unit", unit_name=typed, suggestion=suggest(org, typed)
            )
        units = grids_under(org, unit) if group else [unit]
        if not units:
            raise OrderInputError("order_no_targets", unit_name=item)
        for one in units:
            found.setdefault(one.id, one)
    if not found:
        raise OrderInputError("order_no_targets", unit_name="")
    return list(found.values())


def parse_deadline(rest: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, str]:
    """A duration (`2h`, `3d`) or a local date-time (`12-01 18:00`, `2026-12-01 18:00`) at
    the start of `rest`; returns the instant and what follows. A date without a year is this
    year's, or next year's when this year's was more than half a year ago (a December order
    for January)."""
    first = FIRST_WORD.fullmatch(rest)
    if first is None:
        raise OrderInputError("order_bad_deadline", typed="")
    word, after = first[1], first[2]
    if date := DATE_TOKEN.fullmatch(word):
        second = FIRST_WORD.fullmatch(after)
        clock = TIME_TOKEN.fullmatch(second[1]) if second else None
        if second is None or clock is None:
            raise OrderInputError("order_bad_deadline", typed=word)
        typed = f"{word} {second[1]}"
        local_now = now.astimezone(tz)
        year = int(date[1]) if date[1] else local_now.year
        try:
            due = datetime(
                year, int(date[2]), int(date[3]), int(clock[1]), int(clock[2]), tzinfo=tz
            )
            if not date[1] and due < now - timedelta(days=183):
                due = due.replace(year=year + 1)
        except ValueError:
            raise OrderInputError("order_bad_deadline", typed=typed) from None
        rest_text = second[2]
    else:
        if word.isdigit():  # a bare number would be seconds: surely not what a leader meant
            raise OrderInputError("order_bad_deadline", typed=word)
        try:
            span = parse_duration(word)
        except ValueError:
            raise OrderInputError("order_bad_deadline", typed=word) from None
        if span > MAX_AHEAD:
            raise OrderInputError("order_bad_deadline", typed=word)
        due, typed, rest_text = now + span, word, after
    if due <= now:
        raise OrderInputError("order_past_deadline", due=due)
    if due - now > MAX_AHEAD:
        raise OrderInputError("order_bad_deadline", typed=typed)
    return due.astimezone(now.tzinfo), rest_text


@dataclass(frozen=True)
class OrderRequest:
    targets: list[UnitView]
    due: datetime
    text: str


def parse_order(org: OrgView, args: str, now: datetime) -> OrderRequest:
    """`TARGETS DEADLINE TEXT`; every mistake raises its own `OrderInputError`."""
    first = FIRST_WORD.fullmatch(args)
    if first is None:
        raise OrderInputError("order_usage")
    targets = parse_targets(org, first[1])
    if not first[2].strip():
        raise OrderInputError("order_bad_deadline", typed="")
    due, text = parse_deadline(first[2], now, ZoneInfo(org.timezone))
    text = text.strip()
    if not text:
        raise OrderInputError("order_no_text")
    if len(text) > MAX_ORDER_CHARS:
        raise OrderInputError("order_too_long", length=len(text), limit=MAX_ORDER_CHARS)
    for unit in targets:
        if chase.first_reachable(chase.chain(org, unit.id), 0) is None:
            raise OrderInputError("order_no_chat", unit_name=unit.name)
    return OrderRequest(targets, due, text)
