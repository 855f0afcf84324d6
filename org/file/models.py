"""The org file's pydantic models: frozen, `extra="forbid"`, so a typo is an error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from org.file.checks import _cross_check
from org.file.fields import (
    _CASE_PREFIX_RE,
    Area,
    CategoryCode,
    Duration,
    LadderLevel,
    Language,
    Name,
    Phone,
    Point,
    PriorityDurations,
    PriorityKey,
    Role,
    Slug,
    UnitLevel,
    UserId,
    Weekday,
    _check_ladder,
    _default_ack,
    _default_ladder,
    _default_resolve,
)
from org.file.lines import _format_loc

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
