"""Cross-reference checks that no single field can make (unknown parent, duplicate ids,
a grid without a chat, chats bound twice, …)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from org.file.fields import _PARENT_LEVEL, _RESERVED_IDS, _ROLE_PLACE, UNIT_LEVELS, Loc, _suggest

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
