"""The org file's vocabulary and field types: each validator raises ValueError with a
message written for the admin."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
)

from org.durations import parse_duration
from org.levels import LEVELS, Level
from triage.categories import Category

# ---------------------------------------------------------------------------------------------
# Vocabulary. The category codes are a stable contract (DESIGN.md); they are repeated here
# rather than imported from triage/ so that reading a config never pulls in the classifier.
# ---------------------------------------------------------------------------------------------

CATEGORY_CODES: tuple[str, ...] = tuple(str(c) for c in Category)  # the ten + other
UNIT_LEVELS: tuple[str, ...] = ("street", "community", "grid")
LADDER_LEVELS: tuple[str, ...] = LEVELS
PRIORITIES: tuple[str, ...] = ("urgent", "normal", "low")
ROLES: tuple[str, ...] = (
    "resident",
    "grid_worker",
    "community_staff",
    "street_staff",
    "department_staff",
    "leader",
    "admin",
)

UnitLevel = Literal["street", "community", "grid"]
LadderLevel = Level
Priority = Literal["urgent", "normal", "low"]
Role = Literal[
    "resident",
    "grid_worker",
    "community_staff",
    "street_staff",
    "department_staff",
    "leader",
    "admin",
]
Language = Literal["zh", "en"]

# The storage layer keeps the leadership chat as a pseudo-unit with this id
# (storage/org_import.py), so no unit or department may take it.
_RESERVED_IDS = frozenset({"leadership"})

# A staff role is useless without a place to work; this says which kind of place.
_ROLE_PLACE: dict[str, str] = {
    "grid_worker": "grid",
    "community_staff": "community",
    "street_staff": "street",
    "department_staff": "department",
}

# The level each unit level must sit under; None: at the top of the tree.
_PARENT_LEVEL: dict[str, str | None] = {"street": None, "community": "street", "grid": "community"}

Loc = tuple[str | int, ...]

# ---------------------------------------------------------------------------------------------
# Field validators: each raises ValueError with a message written for the admin; pydantic's
# "Value error, " prefix is removed when the error is reported.
# ---------------------------------------------------------------------------------------------

_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_CASE_PREFIX_RE = re.compile(r"[A-Z]{1,6}")


def _suggest(word: str, choices: Iterable[object]) -> str:
    """`` (did you mean 'x'?)`` when `word` looks like a typo of one of `choices`."""
    names = [str(c) for c in choices]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid id: use lowercase letters, digits, - and _ (e.g. baoyuzhi-1)"
        )
    return value


def _check_category(value: str) -> str:
    if value not in CATEGORY_CODES:
        raise ValueError(
            f"unknown category '{value}'{_suggest(value, CATEGORY_CODES)}; "
            f"use one of: {', '.join(CATEGORY_CODES)}"
        )
    return value


def _check_name(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _to_duration(value: Any) -> Any:
    """Read ``15m`` etc. before pydantic's own timedelta parsing (which wants ISO 8601)."""
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"bad duration '{value}': must be longer than zero")
        return value
    if isinstance(value, str | int | float):
        return parse_duration(value)
    return parse_duration(str(value))


def _check_priority(value: str) -> str:
    if value not in PRIORITIES:
        raise ValueError(
            f"unknown priority '{value}'{_suggest(value, PRIORITIES)}; use urgent, normal or low"
        )
    return value


def _all_priorities(value: dict[str, timedelta]) -> dict[str, timedelta]:
    missing = [p for p in PRIORITIES if p not in value]
    if missing:
        raise ValueError(
            f"missing {', '.join(missing)}: give a duration for each of urgent, normal and low"
        )
    return value


def _check_ladder(value: list[LadderLevel]) -> list[LadderLevel]:
    if not value:
        raise ValueError("the ladder must not be empty: start it with grid")
    seen: set[str] = set()
    for level in value:
        if level in seen:
            raise ValueError(f"'{level}' appears twice; each level can be climbed once")
        seen.add(level)
    if value[0] != "grid":
        raise ValueError(
            f"the ladder must start with grid (cases are filed at a grid), not '{value[0]}'"
        )
    return value


def _check_point(value: Any) -> Any:
    """A point is ``[lon, lat]``; checked here so the message says so, not 'tuple too long'."""
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        or not all(math.isfinite(v) for v in value)
    ):
        raise ValueError("a point is [lon, lat] in degrees, e.g. [113.28, 23.11]")
    return (float(value[0]), float(value[1]))


def _check_area(value: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A polygon of ≥3 points in range, reported once per area rather than once per point.

    The usual mistake is writing every point as [lat, lon], so the message says so.
    """
    if len(value) < 3:
        raise ValueError(
            f"an area is a polygon and needs at least 3 [lon, lat] points, got {len(value)}"
        )
    bad = [
        (i, lon, lat)
        for i, (lon, lat) in enumerate(value)
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0)
    ]
    if bad:
        i, lon, lat = bad[0]
        what = "longitude" if not -180.0 <= lon <= 180.0 else "latitude"
        more = f" ({len(bad)} of {len(value)} points are out of range)" if len(bad) > 1 else ""
        swapped = all(-180.0 <= p[1] <= 180.0 and -90.0 <= p[0] <= 90.0 for p in value)
        hint = "; points are [lon, lat]: are they swapped?" if swapped else ""
        limits = "-180..180" if what == "longitude" else "-90..90"
        raise ValueError(f"point {i + 1} [{lon}, {lat}]: {what} is outside {limits}{more}{hint}")
    return value


def _to_phone(value: Any) -> Any:
    """YAML reads an unquoted phone number as an int; a phone number is text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _positive_id(value: int) -> int:
    if value <= 0:
        raise ValueError(
            f"{value} is not a Telegram user id: a person's id is a positive number "
            "(negative numbers are chats)"
        )
    return value


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "all"]
Slug = Annotated[str, AfterValidator(_check_slug)]
Name = Annotated[str, AfterValidator(_check_name)]
CategoryCode = Annotated[str, AfterValidator(_check_category)]
Duration = Annotated[timedelta, BeforeValidator(_to_duration)]
# Keys are typed `str` (checked to be a priority) so callers can pass the mapping on as a
# plain dict[str, timedelta]; a Literal key type would make dict invariance bite them.
PriorityKey = Annotated[str, AfterValidator(_check_priority)]
PriorityDurations = Annotated[dict[PriorityKey, Duration], AfterValidator(_all_priorities)]
Point = Annotated[tuple[float, float], BeforeValidator(_check_point)]
Area = Annotated[list[Point], AfterValidator(_check_area)]
Phone = Annotated[str, BeforeValidator(_to_phone)]
UserId = Annotated[int, AfterValidator(_positive_id)]


def _default_ack() -> dict[str, timedelta]:
    return {"urgent": timedelta(minutes=10), "normal": timedelta(hours=2), "low": timedelta(days=1)}


def _default_resolve() -> dict[str, timedelta]:
    return {"urgent": timedelta(hours=4), "normal": timedelta(days=3), "low": timedelta(days=7)}


def _default_ladder() -> list[LadderLevel]:
    return list(LEVELS)
