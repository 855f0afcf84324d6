"""Routing: which grid a report belongs to, which unit answers at each rung, who may act.

`OrgView` is an immutable snapshot of the org tree loaded from the database; routing is
pure functions over it, so it is tested without a database and shared by every handler.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from org.levels import GEOGRAPHIC

STAFF_ROLES = frozenset(
    {"grid_worker", "community_staff", "street_staff", "department_staff", "leader", "admin"}
)


@dataclass(frozen=True)
class UnitView:
    id: str
    name: str
    level: str  # street | community | grid | department | leadership
    parent_id: str | None = None
    chat_id: int | None = None
    is_key: bool = False
    categories: tuple[str, ...] = ()
    area: tuple[tuple[float, float], ...] | None = None
    rota: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (weekday or "all", telegram ids)

    def on_duty(self, weekday: str) -> tuple[int, ...]:
        """Who is on the rota on `weekday` ("mon" … "sun"); `all` applies every day."""
        days = dict(self.rota)
        return days.get(weekday, ()) + tuple(
            i for i in days.get("all", ()) if i not in days.get(weekday, ())
        )


@dataclass(frozen=True)
class PersonView:
    telegram_id: int
    name: str
    roles: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    location: tuple[float, float] | None = None

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_leader(self) -> bool:
        return bool(self.roles & {"leader", "admin"})


@dataclass(frozen=True)
class Stop:
    """One rung of a climb: the level and the unit answering there (None: nobody to ping)."""

    level: str
    unit: UnitView | None


def point_in_polygon(lon: float, lat: float, polygon: Sequence[tuple[float, float]]) -> bool:
    """Ray casting; a point on an edge counts as inside so that shared borders are covered."""
    inside = False
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon == x_cross:
                return True
            if lon < x_cross:
                inside = not inside
        elif y1 == y2 == lat and min(x1, x2) <= lon <= max(x1, x2):
            return True
    return inside


@dataclass(frozen=True)
class OrgView:
    name: str
    language: str
    timezone: str
    case_prefix: str
    units: dict[str, UnitView]
    people: dict[int, PersonView]
    resident_chats: dict[int, str]  # chat id -> grid id
    show_resident_details: bool = False
    staff_chats: dict[int, str] = field(default_factory=dict)  # chat id -> unit id
    # Org-wide settings (see storage.org_import.settings_of): the digest, orders.
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.staff_chats:
            chats = {u.chat_id: u.id for u in self.units.values() if u.chat_id is not None}
            object.__setattr__(self, "staff_chats", chats)

    # --- where a report goes -------------------------------------------------------------
    def grid_for_chat(self, chat_id: int) -> UnitView | None:
        grid_id = self.resident_chats.get(chat_id)
        return self.units.get(grid_id) if grid_id else None

    def grid_for_location(self, lon: float, lat: float) -> UnitView | None:
        """The base grid whose area holds the point (key grids overlay, they do not own)."""
        for unit in self.grids():
            if unit.area and not unit.is_key and point_in_polygon(lon, lat, unit.area):
                return unit
        return None

    def grids(self) -> list[UnitView]:
        return sorted(
            (u for u in self.units.values() if u.level == "grid" and not u.is_key),
            key=lambda u: u.id,
        )

    def grids_of_community(self) -> list[tuple[UnitView, list[UnitView]]]:
        """Communities with their grids, for a resident who must pick where they live."""
        out: list[tuple[UnitView, list[UnitView]]] = []
        for community in sorted(self.units.values(), key=lambda u: u.id):
            if community.level != "community":
                continue
            grids = [g for g in self.grids() if g.parent_id == community.id]
            if grids:
                out.append((community, grids))
        return out

    # --- who answers at each rung --------------------------------------------------------
    def ancestor(self, unit_id: str, level: str) -> UnitView | None:
        unit = self.units.get(unit_id)
        while unit is not None and unit.level != level:
            unit = self.units.get(unit.parent_id) if unit.parent_id else None
        return unit

    def department_for(self, category: str) -> UnitView | None:
        for unit in sorted(self.units.values(), key=lambda u: u.id):
            if unit.level == "department" and category in unit.categories:
                return unit
        return None

    def key_grids_for(
        self, category: str, place: tuple[float, float] | None, grid_id: str
    ) -> list[UnitView]:
        """Key grids (重点网格) that overlay a case: by category (within the base grid's
        community), or by area when the case has a location. Only those with a chat."""
        community = self.ancestor(grid_id, "community")
        found = []
        for unit in sorted(self.units.values(), key=lambda u: u.id):
            if not unit.is_key or unit.chat_id is None:
                continue
            by_category = category in unit.categories and (
                community is None or unit.parent_id == community.id
            )
            by_area = (
                place is not None
                and unit.area is not None
                and point_in_polygon(place[0], place[1], unit.area)
            )
            if by_category or by_area:
                found.append(unit)
        return found

    def leadership(self) -> UnitView | None:
        for unit in self.units.values():
            if unit.level == "leadership":
                return unit
        return None

    def unit_at(self, grid_id: str, level: str, category: str) -> UnitView | None:
        if level in GEOGRAPHIC:
            return self.ancestor(grid_id, level)
        if level == "department":
            return self.department_for(category)
        if level == "leadership":
            return self.leadership()
        return None

    def climb(self, grid_id: str, category: str, levels: Iterable[str]) -> list[Stop]:
        """The stops of a climb through `levels`, up to and including the first unit that has
        a chat to ping; the ones before it are the rungs to skip at once."""
        stops: list[Stop] = []
        for level in levels:
            unit = self.unit_at(grid_id, level, category)
            reachable = unit if unit is not None and unit.chat_id is not None else None
            stops.append(Stop(level, reachable))
            if reachable is not None:
                break
        return stops

    # --- who may act ---------------------------------------------------------------------
    def person(self, telegram_id: int | None) -> PersonView | None:
        return self.people.get(telegram_id) if telegram_id is not None else None

    def case_units(
        self, grid_id: str, category: str, level: str, ladder: Sequence[str]
    ) -> set[str]:
        """Units a case belongs to now: its grid and everything above it on the ladder up to
        the current rung (a street that was pinged may still act after it climbs further)."""
        units = set()
        reached = ladder[: ladder.index(level) + 1] if level in ladder else (level,)
        for rung in reached:
            unit = self.unit_at(grid_id, rung, category)
            if unit is not None:
                units.add(unit.id)
        # The grid's own chain always counts: a community may act on its grid's case.
        for rung in GEOGRAPHIC:
            unit = self.ancestor(grid_id, rung)
            if unit is not None:
                units.add(unit.id)
        return units

    def may_act(
        self,
        person: PersonView | None,
        grid_id: str,
        category: str,
        level: str,
        ladder: Sequence[str],
        place: tuple[float, float] | None = None,
    ) -> bool:
        if person is None or not person.is_staff:
            return False
        if person.units & {u.id for u in self.key_grids_for(category, place, grid_id)}:
            return True
        if "admin" in person.roles:
            return True
        if "leader" in person.roles and level == "leadership":
            return True
        return bool(person.units & self.case_units(grid_id, category, level, ladder))

    def workers_of(self, unit_id: str) -> list[PersonView]:
        """Staff of a unit, to mention them in the unit's chat."""
        return sorted(
            (p for p in self.people.values() if unit_id in p.units and p.is_staff),
            key=lambda p: p.telegram_id,
        )
