"""The org file: the district's tree of units, chats, people and deadlines, as YAML.

An admin writes this file by hand, so every mistake must come back as *where* (line and field
path) and *what to do*, and all of them at once. That is why parsing is done in three layers:

1. YAML is composed into nodes and rebuilt into plain data while recording the line of every
   mapping key and sequence item, keyed by its path (``("units", 0, "chat")``).
2. The data is validated by the pydantic models below (frozen, ``extra="forbid"`` so a typo
   such as ``chta:`` is an error instead of a silently ignored key). Each pydantic error's
   ``loc`` is the same kind of path, so it maps straight to a line.
3. Cross-reference checks that no single field can make (unknown parent, duplicate ids, a
   grid without a chat, chats bound twice, …) run on the same data, even when step 2 failed,
   so one run of ``gridcall check-config`` lists everything.

Constructing `OrgConfig` directly in Python runs the cross-reference checks too (they raise
a pydantic ``ValidationError``), so a hand-built org in a test cannot be inconsistent either.
"""

from __future__ import annotations

import difflib
import math
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from escalation.durations import parse_duration
from storage.orgerrors import OrgFileError, OrgIssue
from triage.categories import Category

__all__ = [
    "CATEGORY_CODES",
    "LADDER_LEVELS",
    "PRIORITIES",
    "ROLES",
    "UNIT_LEVELS",
    "DemoConfig",
    "DemoResident",
    "DepartmentConfig",
    "DigestConfig",
    "FlatUnit",
    "LeadershipConfig",
    "OrdersConfig",
    "OrgConfig",
    "OrgFileError",
    "OrgIssue",
    "PersonConfig",
    "PolicyConfig",
    "UnitConfig",
    "load_org",
    "parse_org",
]

# ---------------------------------------------------------------------------------------------
# Vocabulary. The category codes are a stable contract (DESIGN.md); they are repeated here
# rather than imported from triage/ so that reading a config never pulls in the classifier.
# ---------------------------------------------------------------------------------------------

CATEGORY_CODES: tuple[str, ...] = tuple(str(c) for c in Category)  # the ten + other
UNIT_LEVELS: tuple[str, ...] = ("street", "community", "grid")
LADDER_LEVELS: tuple[str, ...] = ("grid", "community", "street", "department", "leadership")
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
LadderLevel = Literal["grid", "community", "street", "department", "leadership"]
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
    return ["grid", "community", "street", "department", "leadership"]


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


class _OrgModel(BaseModel):
    """Frozen (config is read once and shared) and strict about unknown keys (typos)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        """``departments:`` with nothing after it means "none", not "expected a list"."""
        if isinstance(data, dict):
            return {
                k: v
                for k, v in data.items()
                if not (
                    v is None
                    and isinstance(k, str)
                    and k in cls.model_fields
                    and not cls.model_fields[k].is_required()
                )
            }
        return data


class DuplicatesConfig(_OrgModel):
    """When a new report joins an open case instead of opening another (合并).

    Same grid and category, filed within `window`, and either similar wording
    (`similarity`, 0..1, character bigram overlap) or a location within `radius_m` metres.
    At `raise_priority_at` reporters the case's priority goes one step up.
    """

    window: Duration = timedelta(days=3)
    radius_m: Annotated[int, Field(ge=1, le=10_000)] = 150
    similarity: Annotated[float, Field(gt=0, le=1)] = 0.4
    raise_priority_at: Annotated[int, Field(ge=2, le=1000)] = 3


def _check_clock(value: Any) -> Any:
    if isinstance(value, int) and 0 <= value < 24 * 60:  # YAML 1.1 reads 9:00 as 9*60+0
        return f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return value
    raise ValueError(f'bad time {value!r}: use HH:MM, e.g. "09:00"')


ClockTime = Annotated[str, BeforeValidator(_check_clock)]


def _off_is_zero(value: Any) -> Any:
    return 0.0 if value is False or (isinstance(value, str) and value.lower() == "off") else value


PartialDurations = dict[PriorityKey, Duration]


class WorkingHoursConfig(_OrgModel):
    """Office hours for non-urgent deadlines (with Chinese public holidays and 调休)."""

    start: ClockTime = "09:00"
    end: ClockTime = "18:00"

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"working hours end ({self.end}) must be after start ({self.start})")
        return self


class CategoryDeadlines(_OrgModel):
    """Deadlines of one category that differ from the org's (only the priorities given)."""

    ack: PartialDurations = Field(default_factory=dict)
    resolve: PartialDurations = Field(default_factory=dict)


class PolicyConfig(_OrgModel):
    """Deadlines per priority and the ladder a late case climbs (四呼四应)."""

    duplicates: DuplicatesConfig = Field(default_factory=DuplicatesConfig)
    # 催办 at this fraction of each deadline's span; 0 or `off` for no reminders.
    remind_at: Annotated[float, BeforeValidator(_off_is_zero), Field(ge=0, lt=1)] = 0.75
    working_hours: WorkingHoursConfig | None = None
    max_returns: Annotated[int, Field(ge=1, le=10)] = 2
    feedback_window: Duration = timedelta(days=3)  # 回访: then a resolved case closes itself
    categories: dict[CategoryCode, CategoryDeadlines] = Field(default_factory=dict)

    ack: PriorityDurations = Field(default_factory=_default_ack)
    resolve: PriorityDurations = Field(default_factory=_default_resolve)
    ladder: Annotated[list[LadderLevel], AfterValidator(_check_ladder)] = Field(
        default_factory=_default_ladder
    )


class DigestConfig(_OrgModel):
    """The morning digest (早报) to leaders' subscriptions: new, overdue and stuck cases."""

    at: ClockTime = "08:30"  # local time (the org's time zone), every day
    # A case counts as stuck when nothing happened to it for this long.
    stuck_after: Duration = timedelta(days=1)


class OrdersConfig(_OrgModel):
    """Orders (令): how long a unit has to press 收到 before it is chased up its ladder."""

    ack: Duration = timedelta(hours=1)
    # 催办 at this fraction of the acknowledge span; 0 or `off` for no reminders.
    remind_at: Annotated[float, BeforeValidator(_off_is_zero), Field(ge=0, lt=1)] = 0.5


class UnitConfig(_OrgModel):
    """A street, community or grid; children either nested in `units` or pointing at `parent`."""

    id: Slug
    name: Name
    level: UnitLevel
    chat: int | None = None
    resident_chats: list[int] = Field(default_factory=list)
    area: Area | None = None
    parent: Slug | None = None
    units: list[UnitConfig] = Field(default_factory=list)
    key: bool = False
    categories: list[CategoryCode] = Field(default_factory=list)
    # 就近派单: who is on duty on which weekday (mon … sun, or `all`), by telegram id.
    rota: dict[Weekday, list[int]] = Field(default_factory=dict)


class DepartmentConfig(_OrgModel):
    """A functional department (职能部门) and the categories it owns."""

    id: Slug
    name: Name
    chat: int | None = None
    categories: list[CategoryCode] = Field(default_factory=list)


class LeadershipConfig(_OrgModel):
    """The top rung (提级呼、领导应): one channel the leaders read."""

    chat: int | None = None
    name: Name = "领导"


class PersonConfig(_OrgModel):
    """Someone the bot knows by Telegram id; `units` are unit or department ids."""

    name: Name
    telegram: UserId
    roles: Annotated[list[Role], Field(min_length=1)]
    units: list[str] = Field(default_factory=list)
    phone: Phone | None = None
    location: Point | None = None  # where a grid worker is based (就近派单 prefers the nearest)


class DemoResident(_OrgModel):
    """A pretend resident for ``gridcall demo``'s sandbox chat."""

    name: Name
    telegram: UserId
    chats: list[int] = Field(default_factory=list)


class DemoConfig(_OrgModel):
    """Only read by ``gridcall demo``."""

    residents: list[DemoResident] = Field(default_factory=list)


@dataclass(frozen=True)
class FlatUnit:
    """A unit with its parent resolved, whichever way the file wrote the tree."""

    id: str
    name: str
    level: UnitLevel
    parent_id: str | None
    chat: int | None
    resident_chats: list[int] = field(default_factory=list)
    area: list[tuple[float, float]] | None = None
    key: bool = False
    categories: list[str] = field(default_factory=list)


_SKIP_CROSS_CHECK = "gridcall.orgfile.skip_cross_check"


class OrgConfig(_OrgModel):
    """The whole org file. Build it with `load_org` / `parse_org` to get line numbers."""

    name: Name
    timezone: str = "Asia/Shanghai"
    language: Language = "zh"
    case_prefix: str = "HZ"
    # Residents' names and phone numbers leave the grid's chat only when this is true.
    show_resident_details: bool = False
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    digest: DigestConfig | None = None  # no digest unless configured
    orders: OrdersConfig = Field(default_factory=OrdersConfig)
    units: list[UnitConfig]
    departments: list[DepartmentConfig] = Field(default_factory=list)
    leadership: LeadershipConfig | None = None
    people: list[PersonConfig] = Field(default_factory=list)
    demo: DemoConfig | None = None

    _flat: list[FlatUnit] = PrivateAttr(default_factory=list)
    _by_id: dict[str, FlatUnit] = PrivateAttr(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown time zone '{value}': use an IANA name such as Asia/Shanghai"
            ) from None
        return value

    @field_validator("case_prefix")
    @classmethod
    def _case_prefix(cls, value: str) -> str:
        if not _CASE_PREFIX_RE.fullmatch(value):
            raise ValueError(f"'{value}' must be 1 to 6 capital letters, e.g. HZ")
        return value

    @field_validator("units")
    @classmethod
    def _some_units(cls, value: list[UnitConfig]) -> list[UnitConfig]:
        if not value:
            raise ValueError("add at least one street, community or grid")
        return value

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> Self:
        # parse_org runs these itself (with line numbers) and skips them here.
        if info.context and info.context.get(_SKIP_CROSS_CHECK):
            return self
        problems = _cross_check(self.model_dump(), _format_loc)
        if problems:
            raise ValueError(
                "inconsistent org:\n"
                + "\n".join(f"{_format_loc(loc)}: {msg}" for loc, msg in problems)
            )
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._flat = list(_flatten(self.units, None))
        by_id: dict[str, FlatUnit] = {}
        for unit in self._flat:
            by_id.setdefault(unit.id, unit)
        self._by_id = by_id

    # -- derived views ------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The org's time zone, for showing deadlines in local time."""
        return ZoneInfo(self.timezone)

    def all_units(self) -> list[FlatUnit]:
        """Every street, community and grid, in file order, nested children right after their
        parent (a unit placed with `parent:` stays where it is written)."""
        return list(self._flat)

    def unit(self, unit_id: str) -> FlatUnit | None:
        """The street, community or grid with this id (departments: see `department`)."""
        return self._by_id.get(unit_id)

    def department(self, department_id: str) -> DepartmentConfig | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def children(self, unit_id: str) -> list[FlatUnit]:
        return [u for u in self._flat if u.parent_id == unit_id]

    def ancestors(self, unit_id: str) -> list[FlatUnit]:
        """Parent first, up to the street: the ladder's community and street rungs."""
        out: list[FlatUnit] = []
        current = self._by_id.get(unit_id)
        while current is not None and current.parent_id is not None and len(out) < len(self._flat):
            current = self._by_id.get(current.parent_id)
            if current is not None:
                out.append(current)
        return out

    def grid_for_resident_chat(self, chat_id: int) -> FlatUnit | None:
        """The grid that serves this residents' chat (each chat belongs to one grid)."""
        return next((u for u in self._flat if chat_id in u.resident_chats), None)

    def person(self, telegram_id: int) -> PersonConfig | None:
        return next((p for p in self.people if p.telegram == telegram_id), None)

    def people_in(self, unit_id: str) -> list[PersonConfig]:
        """People who list this unit or department id in their `units`."""
        return [p for p in self.people if unit_id in p.units]

    def departments_for(self, category: str) -> list[DepartmentConfig]:
        return [d for d in self.departments if category in d.categories]


def _flatten(units: list[UnitConfig], parent_id: str | None) -> Iterator[FlatUnit]:
    for unit in units:
        yield FlatUnit(
            id=unit.id,
            name=unit.name,
            level=unit.level,
            parent_id=parent_id if parent_id is not None else unit.parent,
            chat=unit.chat,
            resident_chats=list(unit.resident_chats),
            area=list(unit.area) if unit.area is not None else None,
            key=unit.key,
            categories=list(unit.categories),
        )
        yield from _flatten(unit.units, unit.id)


# ---------------------------------------------------------------------------------------------
# Cross-reference checks. They read plain data (the YAML as loaded, or a model dump) and are
# defensive about types: a value of the wrong type is pydantic's to report, so it is skipped
# here rather than reported twice.
# ---------------------------------------------------------------------------------------------

Problem = tuple[Loc, str]


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass
class _RawUnit:
    loc: Loc
    data: Mapping[str, Any]
    nest_parent: _RawUnit | None

    @property
    def id(self) -> str | None:
        value = self.data.get("id")
        return value if isinstance(value, str) else None

    @property
    def level(self) -> str | None:
        value = self.data.get("level")
        return value if isinstance(value, str) and value in UNIT_LEVELS else None

    @property
    def label(self) -> str:
        return f"{self.level or 'unit'} '{self.id}'"


def _walk_units(items: Any, loc: Loc, parent: _RawUnit | None) -> Iterator[_RawUnit]:
    for i, item in enumerate(_as_list(items)):
        if isinstance(item, dict):
            unit = _RawUnit((*loc, i), item, parent)
            yield unit
            yield from _walk_units(item.get("units"), (*unit.loc, "units"), unit)


def _cross_check(data: Mapping[str, Any], where: Callable[[Loc], str]) -> list[Problem]:
    """Everything that needs more than one field to see. `where` names a place in messages."""
    problems: list[Problem] = []
    units = list(_walk_units(data.get("units"), ("units",), None))
    departments: list[tuple[Loc, Mapping[str, Any]]] = [
        (("departments", i), d)
        for i, d in enumerate(_as_list(data.get("departments")))
        if isinstance(d, dict)
    ]

    # One id space for units and departments: people's `units` may name either.
    kinds: dict[str, str] = {}  # id -> unit level or "department"
    first_at: dict[str, Loc] = {}
    by_id: dict[str, _RawUnit] = {}
    owners: list[tuple[Loc, str | None, str]] = [(u.loc, u.id, u.level or "unit") for u in units]
    owners += [
        (loc, d.get("id") if isinstance(d.get("id"), str) else None, "department")
        for loc, d in departments
    ]
    for loc, ident, kind in owners:
        if ident is None:
            continue
        if ident in _RESERVED_IDS:
            problems.append(((*loc, "id"), f"'{ident}' is reserved for the leadership chat"))
        elif ident in first_at:
            problems.append(
                (
                    (*loc, "id"),
                    f"duplicate id '{ident}': already used by the {kinds[ident]} at "
                    f"{where(first_at[ident])} (units and departments share one set of ids)",
                )
            )
        else:
            first_at[ident] = loc
            kinds[ident] = kind
    for u in units:
        if u.id is not None and u.id not in by_id and first_at.get(u.id) == u.loc:
            by_id[u.id] = u

    for u in units:
        problems += _check_unit_tree(u, by_id, kinds)
        problems += _check_unit_fields(u)

    problems += _check_chats(data, units, departments, where)
    problems += _check_people(data, kinds, where)
    problems += _check_rotas(data, units)
    return problems


def _check_rotas(data: Mapping[str, Any], units: list[_RawUnit]) -> list[Problem]:
    """Everyone on a grid's rota is a person of that grid."""
    members: dict[int, set[str]] = {}
    for person in _as_list(data.get("people")):
        if isinstance(person, dict) and (tg := _as_int(person.get("telegram"))) is not None:
            members[tg] = {u for u in _as_list(person.get("units")) if isinstance(u, str)}
    problems: list[Problem] = []
    for u in units:
        rota = u.data.get("rota")
        if not isinstance(rota, dict) or not rota:
            continue
        if u.level != "grid":
            problems.append(((*u.loc, "rota"), "only a grid has a rota"))
            continue
        for day, ids in rota.items():
            for j, ident in enumerate(_as_list(ids)):
                tg = _as_int(ident)
                if tg is None:
                    continue
                if tg not in members:
                    problems.append(((*u.loc, "rota", day, j), f"nobody has telegram id {tg}"))
                elif u.id not in members[tg]:
                    problems.append(
                        ((*u.loc, "rota", day, j), f"{tg} is not a person of grid '{u.id}'")
                    )
    return problems


def _check_unit_tree(
    u: _RawUnit, by_id: Mapping[str, _RawUnit], kinds: Mapping[str, str]
) -> list[Problem]:
    """Parents exist and the levels nest street > community > grid."""
    problems: list[Problem] = []
    declared_raw = u.data.get("parent")
    declared = declared_raw if isinstance(declared_raw, str) else None
    parent_loc = (*u.loc, "parent")
    parent: _RawUnit | None
    if u.nest_parent is not None:
        parent = u.nest_parent
        if declared is not None and declared != parent.id:
            problems.append(
                (
                    parent_loc,
                    f"{u.label} is nested under {parent.label} but says parent: "
                    f"'{declared}'; keep one of the two",
                )
            )
            return problems
        where_wrong = u.loc
    elif declared is not None:
        found = by_id.get(declared)
        if found is None:
            if kinds.get(declared) == "department":
                msg = f"'{declared}' is a department; a unit's parent is a street or community"
            elif declared in kinds:
                return problems  # a duplicate id, already reported
            else:
                msg = f"unit '{declared}' does not exist{_suggest(declared, by_id)}"
            problems.append((parent_loc, msg))
            return problems
        if found is u:
            problems.append((parent_loc, f"{u.label} cannot be its own parent"))
            return problems
        parent = found
        where_wrong = parent_loc
    else:
        parent = None
        where_wrong = u.loc

    if u.level is None:
        return problems
    expected = _PARENT_LEVEL[u.level]
    if parent is None:
        if expected is not None:
            problems.append(
                (
                    u.loc,
                    f"{u.label} has no parent: list it in the units: of a {expected}, "
                    f"or give it parent: <{expected} id>",
                )
            )
    elif parent.level is not None and parent.level != expected:
        if expected is None:
            msg = f"{u.label} is under {parent.label}, but a street has no parent"
        else:
            msg = (
                f"{u.label} is under {parent.label}, but a {u.level}'s parent must be a {expected}"
            )
        problems.append((where_wrong, msg))
    return problems


def _check_unit_fields(u: _RawUnit) -> list[Problem]:
    """Fields that only make sense at some levels, and the grid's staff chat."""
    problems: list[Problem] = []
    if u.level is None:
        return problems
    if u.level == "grid":
        if u.data.get("chat") is None:
            problems.append(
                (
                    (*u.loc, "chat"),
                    f"grid '{u.id}' has no staff chat: the grid worker's "
                    "group must be set so cases can be dispatched",
                )
            )
    else:
        if u.data.get("area") is not None:
            problems.append(
                ((*u.loc, "area"), f"area is only for grids, and {u.label} is not a grid")
            )
        if _as_list(u.data.get("resident_chats")):
            problems.append(
                (
                    (*u.loc, "resident_chats"),
                    f"resident_chats are only for grids, and {u.label} is not a grid: "
                    "list each residents' chat under the grid that serves it",
                )
            )
        if u.data.get("key") is True:
            problems.append(
                (
                    (*u.loc, "key"),
                    f"key: true marks a key grid (重点网格), and {u.label} is not a grid",
                )
            )
    if _as_list(u.data.get("categories")) and u.data.get("key") is not True:
        problems.append(
            (
                (*u.loc, "categories"),
                "categories are only for key grids: add key: true, or remove categories",
            )
        )
    return problems


def _check_chats(
    data: Mapping[str, Any],
    units: list[_RawUnit],
    departments: list[tuple[Loc, Mapping[str, Any]]],
    where: Callable[[Loc], str],
) -> list[Problem]:
    """A residents' chat belongs to exactly one grid and is nobody's staff chat.

    Intake decides which grid a report belongs to from the chat it came from, and a staff
    chat is where cases are pushed: mixing the two would file staff talk as reports and show
    residents the internal pings.
    """
    problems: list[Problem] = []
    staff: dict[int, str] = {}
    for u in units:
        chat = _as_int(u.data.get("chat"))
        if chat is not None:
            staff.setdefault(chat, f"the staff chat of {u.label}")
    for _, d in departments:
        chat = _as_int(d.get("chat"))
        if chat is not None:
            staff.setdefault(chat, f"the chat of department '{d.get('id')}'")
    leadership = data.get("leadership")
    if isinstance(leadership, dict):
        chat = _as_int(leadership.get("chat"))
        if chat is not None:
            staff.setdefault(chat, "the leadership chat")

    residents: dict[int, tuple[_RawUnit, Loc]] = {}
    for u in units:
        if u.level != "grid":
            continue
        for j, raw in enumerate(_as_list(u.data.get("resident_chats"))):
            chat = _as_int(raw)
            if chat is None:
                continue
            loc = (*u.loc, "resident_chats", j)
            if chat in residents:
                owner, first = residents[chat]
                if owner is u:
                    msg = f"chat {chat} is listed twice"
                else:
                    msg = (
                        f"chat {chat} is already the residents' chat of {owner.label} "
                        f"({where(first)}); a residents' chat belongs to one grid"
                    )
                problems.append((loc, msg))
            elif chat in staff:
                problems.append(
                    (
                        loc,
                        f"chat {chat} is {staff[chat]}; a residents' chat cannot also be a "
                        "staff chat, or residents would see the staff pings",
                    )
                )
            else:
                residents[chat] = (u, loc)

    demo = data.get("demo")
    if isinstance(demo, dict):
        seen: dict[int, Loc] = {}
        for i, resident in enumerate(_as_list(demo.get("residents"))):
            if not isinstance(resident, dict):
                continue
            loc = ("demo", "residents", i)
            tg = _as_int(resident.get("telegram"))
            if tg is not None:
                if tg in seen:
                    problems.append(
                        (
                            (*loc, "telegram"),
                            f"telegram id {tg} is already used at {where(seen[tg])}",
                        )
                    )
                else:
                    seen[tg] = (*loc, "telegram")
            for j, raw in enumerate(_as_list(resident.get("chats"))):
                chat = _as_int(raw)
                if chat is not None and chat not in residents:
                    problems.append(
                        (
                            (*loc, "chats", j),
                            f"chat {chat} is not a residents' chat of any grid; add it to a "
                            "grid's resident_chats",
                        )
                    )
    return problems


def _check_people(
    data: Mapping[str, Any], kinds: Mapping[str, str], where: Callable[[Loc], str]
) -> list[Problem]:
    """People's units exist, staff roles have a place to work, telegram ids are unique."""
    problems: list[Problem] = []
    seen: dict[int, tuple[str, Loc]] = {}
    for i, person in enumerate(_as_list(data.get("people"))):
        if not isinstance(person, dict):
            continue
        loc: Loc = ("people", i)
        name = person.get("name") if isinstance(person.get("name"), str) else f"people[{i}]"
        tg = _as_int(person.get("telegram"))
        if tg is not None:
            if tg in seen:
                other, first = seen[tg]
                problems.append(
                    (
                        (*loc, "telegram"),
                        f"telegram id {tg} is already used by {other} ({where(first)})",
                    )
                )
            else:
                seen[tg] = (str(name), (*loc, "telegram"))

        places: set[str] = set()
        all_known = True
        for j, ref in enumerate(_as_list(person.get("units"))):
            if not isinstance(ref, str):
                all_known = False
                continue
            if ref in kinds:
                places.add(kinds[ref])
            else:
                all_known = False
                problems.append(
                    ((*loc, "units", j), f"unit '{ref}' does not exist{_suggest(ref, kinds)}")
                )
        if not all_known:
            continue
        for role in _as_list(person.get("roles")):
            place = _ROLE_PLACE.get(role) if isinstance(role, str) else None
            if place is not None and place not in places:
                problems.append(
                    (
                        (*loc, "units"),
                        f"{name} is a {role} but none of their units is a {place}: "
                        f"add the {place} they work for",
                    )
                )
    return problems


# ---------------------------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------------------------


def _format_loc(loc: Loc) -> str:
    """``("units", 0, "units", 1, "chat")`` -> ``units[0].units[1].chat``."""
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out


class _LineTrackingBuilder:
    """Turns composed YAML nodes into plain data, remembering where each key and item began.

    PyYAML's constructor forgets positions, so we walk the node graph ourselves and only
    let the loader construct scalars (which keeps YAML's usual int/bool/null typing).
    """

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self.issues: list[OrgIssue] = []
        self._active: set[int] = set()

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        line = node.start_mark.line + 1
        if id(node) in self._active:
            self.issues.append(OrgIssue(line, _format_loc(loc), "an alias refers to itself"))
            return None
        if isinstance(node, yaml.MappingNode):
            self._active.add(id(node))
            try:
                return self._mapping(node, loc)
            finally:
                self._active.discard(id(node))
        if isinstance(node, yaml.SequenceNode):
            self._active.add(id(node))
            try:
                items: list[Any] = []
                for i, item in enumerate(node.value):
                    self.lines[(*loc, i)] = item.start_mark.line + 1
                    items.append(self.build(item, (*loc, i)))
                return items
            finally:
                self._active.discard(id(node))
        return self._scalar(node, loc)

    def _scalar(self, node: yaml.Node, loc: Loc) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            self.issues.append(_yaml_issue(exc, _format_loc(loc), "YAML error"))
            return node.value

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        try:
            self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except yaml.MarkedYAMLError as exc:
            self.issues.append(_yaml_issue(exc, _format_loc(loc), "YAML error"))
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(
                    OrgIssue(
                        line, _format_loc(loc), "a key must be a plain word, not a list or mapping"
                    )
                )
                continue
            key = self._scalar(key_node, loc)
            key_loc = (*loc, key) if isinstance(key, str | int) else (*loc, str(key))
            if key in first_line:
                self.issues.append(
                    OrgIssue(
                        line,
                        _format_loc(key_loc),
                        f"duplicate key '{key}' (first on line {first_line[key]})",
                    )
                )
                continue
            first_line[key] = line
            self.lines[key_loc] = line
            out[key] = self.build(value_node, key_loc)
        return out


def _yaml_issue(
    exc: yaml.MarkedYAMLError, field_path: str = "", prefix: str = "YAML syntax error"
) -> OrgIssue:
    """PyYAML's problem and its context ("while parsing … on line N"), on the problem's line."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    problem = exc.problem or ""
    if problem.startswith("but found another document"):
        return OrgIssue(
            line,
            field_path,
            f"{prefix}: a second document starts here; an org file is one document",
        )
    message = problem or exc.context or str(exc)
    if exc.context and problem and exc.context_mark is not None:
        message += f" ({exc.context} on line {exc.context_mark.line + 1})"
    return OrgIssue(line, field_path, f"{prefix}: {message}")


_EMPTY = object()


def _read_yaml(text: str) -> tuple[Any, dict[Loc, int], list[OrgIssue], bool]:
    """(data, lines, issues, usable): `usable` is False when there is no data to validate."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            return None, {}, [_yaml_issue(exc)], False
        except yaml.YAMLError as exc:
            return None, {}, [OrgIssue(None, "", f"YAML error: {exc}")], False
        if root is None:
            return _EMPTY, {}, [], True
        builder = _LineTrackingBuilder(loader)
        builder.lines[()] = root.start_mark.line + 1
        data = builder.build(root, ())
        return data, builder.lines, builder.issues, True
    finally:
        loader.dispose()


def _line_for(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of `loc`, or of its nearest ancestor written in the file (for missing keys)."""
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None


# ---------------------------------------------------------------------------------------------
# Pydantic errors, in the admin's words
# ---------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin is Union or origin is types.UnionType:
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc`, for "did you mean" suggestions."""
    tp: Any = OrgConfig
    for step in loc:
        tp = _unwrap(tp)
        if isinstance(step, str) and isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(step)
            if info is None:
                return None
            tp = info.annotation
        elif isinstance(step, int) and get_origin(tp) is list:
            tp = get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _from_pydantic(error: ErrorDetails) -> Problem:
    loc: Loc = tuple(step for step in error["loc"] if step != "[key]")
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return loc, "required, but missing"
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model is not None else []
        hint = _suggest(key, allowed)
        if not hint and allowed:
            hint = f" (allowed here: {', '.join(allowed)})"
        return loc, f"unknown field '{key}'{hint}"
    if kind in ("value_error", "assertion_error"):
        return loc, str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        hint = _suggest(value, re.findall(r"'([^']*)'", expected)) if isinstance(value, str) else ""
        return loc, f"{_show(value)} is not allowed here{hint}; use {expected}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return loc, f"expected a whole number, got {_show(value)}"
    if kind in ("float_type", "float_parsing"):
        return loc, f"expected a number, got {_show(value)}"
    if kind == "string_type":
        return loc, f"expected text, got {_show(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return loc, f"expected true or false, got {_show(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping (key: value lines), got {_show(value)}"
    if kind in ("list_type", "tuple_type"):
        return loc, f"expected a list, got {_show(value)}"
    if kind == "invalid_key":
        return loc, f"{_show(value)} is not a field name"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return loc, "must not be empty"
    return loc, error["msg"]


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def parse_org(text: str, source: str = "<org>") -> OrgConfig:
    """Validate org-file text; raise `OrgFileError` listing every problem with its line.

    `source` is only used in the error's text (``SOURCE:LINE: FIELD: MESSAGE``).
    """
    data, lines, issues, usable = _read_yaml(text)
    if not usable:
        raise OrgFileError(issues, source)
    if data is _EMPTY or data is None:
        raise OrgFileError(
            [
                OrgIssue(
                    None,
                    "",
                    "the file is empty: an org file needs at least name: and units: "
                    "(see examples/haizhu.yaml)",
                )
            ],
            source,
        )
    if not isinstance(data, dict):
        raise OrgFileError(
            [
                *issues,
                OrgIssue(
                    lines.get(()),
                    "",
                    f"the top level must be a mapping of settings (name:, timezone:, units: …), "
                    f"not {_show(data)}",
                ),
            ],
            source,
        )

    problems: list[Problem] = []
    model: OrgConfig | None = None
    try:
        model = OrgConfig.model_validate(data, context={_SKIP_CROSS_CHECK: True})
    except ValidationError as exc:
        problems += [_from_pydantic(e) for e in exc.errors()]

    def where(loc: Loc) -> str:
        line = _line_for(lines, loc)
        return f"line {line}" if line is not None else _format_loc(loc)

    # A validated model has the cleanest data (ints coerced, defaults filled in); when
    # validation failed, check the raw data anyway so the cross-reference problems are
    # reported in the same run.
    checked: Mapping[str, Any] = model.model_dump() if model is not None else data
    problems += _cross_check(checked, where)

    issues += [OrgIssue(_line_for(lines, loc), _format_loc(loc), msg) for loc, msg in problems]
    if issues or model is None:
        issues.sort(key=lambda issue: issue.line if issue.line is not None else 0)
        raise OrgFileError(issues, source)
    return model


def load_org(path: str | Path) -> OrgConfig:
    """Read and validate an org file; unreadable files raise `OrgFileError` too."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OrgFileError(
            [OrgIssue(None, "", f"cannot read the file: {reason}")], source
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OrgFileError(
            [
                OrgIssue(
                    None, "", f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
                )
            ],
            source,
        ) from None
    return parse_org(text, source)
