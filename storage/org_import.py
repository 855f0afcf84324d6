"""Loading the org file into the database, and the database into an `OrgView`.

Re-importing updates rows in place by their ids and deactivates what the file no longer
names, so a district can edit its org file and re-load it without duplicates or lost history.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from org.file import OrgConfig
from org.policy import DuplicateRule, Policy
from org.view import OrgView, PersonView, UnitView
from org.worktime import WorkingHours
from storage.models import Chat, Org, Person, PersonUnit, Unit

LEADERSHIP_ID = "leadership"
IMPORT_LOCK = 0x67726964  # "grid": the advisory lock that serialises org imports


def policy_of(org: OrgConfig) -> Policy:
    p = org.policy
    dup = p.duplicates
    hours = p.working_hours
    return Policy(
        ack=dict(p.ack),
        resolve=dict(p.resolve),
        ladder=tuple(p.ladder),
        duplicates=DuplicateRule(
            window=dup.window,
            radius_m=dup.radius_m,
            similarity=dup.similarity,
            raise_priority_at=dup.raise_priority_at,
        ),
        remind_at=p.remind_at or None,
        working_hours=(
            WorkingHours(time.fromisoformat(hours.start), time.fromisoformat(hours.end))
            if hours
            else None
        ),
        timezone=org.timezone,
        max_returns=p.max_returns,
        feedback_window=p.feedback_window,
        categories={
            cat: {"ack": dict(o.ack), "resolve": dict(o.resolve)} for cat, o in p.categories.items()
        },
    )


def settings_of(org: OrgConfig) -> dict[str, Any]:
    """The org-wide settings that are not case policy, as stored on the org row."""
    digest = org.digest
    return {
        "digest": (
            {"at": digest.at, "stuck_after": int(digest.stuck_after.total_seconds())}
            if digest is not None
            else None
        ),
        "orders": {
            "ack": int(org.orders.ack.total_seconds()),
            "remind_at": org.orders.remind_at or None,
        },
    }


def _rota(org: OrgConfig, unit_id: str) -> dict[str, list[int]] | None:
    for unit in _config_units(org.units):
        if unit.id == unit_id and unit.rota:
            return {day: list(ids) for day, ids in unit.rota.items()}
    return None


def _config_units(units: Any) -> Any:
    for unit in units:
        yield unit
        yield from _config_units(unit.units)


def _unit_rows(org: OrgConfig) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for u in org.all_units():
        rows.append(
            {
                "id": u.id,
                "name": u.name,
                "level": u.level,
                "parent_id": u.parent_id,
                "chat_id": u.chat,
                "is_key": u.key,
                "categories": list(u.categories),
                "area": [list(p) for p in u.area] if u.area else None,
                "rota": _rota(org, u.id),
            }
        )
    for d in org.departments:
        rows.append(
            {
                "id": d.id,
                "name": d.name,
                "level": "department",
                "parent_id": None,
                "chat_id": d.chat,
                "is_key": False,
                "categories": list(d.categories),
                "area": None,
                "rota": None,
            }
        )
    if org.leadership is not None:
        rows.append(
            {
                "id": LEADERSHIP_ID,
                "name": org.leadership.name,
                "level": "leadership",
                "parent_id": None,
                "chat_id": org.leadership.chat,
                "is_key": False,
                "categories": [],
                "area": None,
                "rota": None,
            }
        )
    return rows


async def import_org(session: AsyncSession, org: OrgConfig) -> dict[str, int]:
    """Upsert the org; returns counts for the admin's confirmation message.

    Several workers may start at once and each import the same file: on PostgreSQL an
    advisory lock held until commit makes them take turns instead of colliding on the chats
    they re-insert (SQLite already has a single writer).
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
    org_row = await session.get(Org, 1)
    values = {
        "name": org.name,
        "language": org.language,
        "timezone": org.timezone,
        "case_prefix": org.case_prefix,
        "policy": policy_of(org).to_json(),
        "show_resident_details": bool(getattr(org, "show_resident_details", False)),
        "settings": settings_of(org),
    }
    if org_row is None:
        session.add(Org(id=1, **values))
    else:
        for key, value in values.items():
            setattr(org_row, key, value)

    rows = _unit_rows(org)
    existing = {u.id: u for u in (await session.execute(select(Unit))).scalars()}
    for row in rows:
        unit = existing.pop(row["id"], None)
        if unit is None:
            session.add(Unit(active=True, **row))
        else:
            for key, value in row.items():
                setattr(unit, key, value)
            unit.active = True
    for stale in existing.values():
        stale.active = False

    await session.execute(delete(Chat))
    for row in rows:
        if row["chat_id"] is not None:
            session.add(Chat(chat_id=row["chat_id"], unit_id=row["id"], kind="staff"))
    for u in org.all_units():
        for chat_id in u.resident_chats:
            session.add(Chat(chat_id=chat_id, unit_id=u.id, kind="residents"))

    people = {p.telegram_id: p for p in (await session.execute(select(Person))).scalars()}
    seen: set[int] = set()
    for cfg in org.people:
        person = people.get(cfg.telegram)
        if person is None:
            person = Person(telegram_id=cfg.telegram, name=cfg.name, roles=list(cfg.roles))
            session.add(person)
        person.name = cfg.name
        person.roles = list(cfg.roles)
        person.phone = cfg.phone
        person.lon, person.lat = cfg.location if cfg.location else (None, None)
        person.active = True
        seen.add(cfg.telegram)
    for tg, person in people.items():
        if tg not in seen:
            person.active = False
    await session.flush()

    await session.execute(delete(PersonUnit))
    ids = {p.telegram_id: p.id for p in (await session.execute(select(Person))).scalars()}
    for cfg in org.people:
        for unit_id in dict.fromkeys(cfg.units):
            session.add(PersonUnit(person_id=ids[cfg.telegram], unit_id=unit_id))
    await session.flush()
    return {"units": len(rows), "people": len(org.people)}


async def load_view(session: AsyncSession) -> OrgView | None:
    """The org as routing needs it; None before the first import."""
    org = await session.get(Org, 1)
    if org is None:
        return None
    units = {
        u.id: UnitView(
            id=u.id,
            name=u.name,
            level=u.level,
            parent_id=u.parent_id,
            chat_id=u.chat_id,
            is_key=u.is_key,
            categories=tuple(u.categories or ()),
            area=tuple((float(p[0]), float(p[1])) for p in u.area) if u.area else None,
            rota=tuple((day, tuple(ids)) for day, ids in sorted((u.rota or {}).items())),
        )
        for u in (await session.execute(select(Unit).where(Unit.active))).scalars()
    }
    memberships: dict[int, set[str]] = {}
    for pu in (await session.execute(select(PersonUnit))).scalars():
        memberships.setdefault(pu.person_id, set()).add(pu.unit_id)
    people = {
        p.telegram_id: PersonView(
            telegram_id=p.telegram_id,
            name=p.name,
            roles=frozenset(p.roles or ()),
            units=frozenset(memberships.get(p.id, ())),
            location=(p.lon, p.lat) if p.lon is not None and p.lat is not None else None,
        )
        for p in (await session.execute(select(Person).where(Person.active))).scalars()
    }
    chats = list((await session.execute(select(Chat))).scalars())
    return OrgView(
        name=org.name,
        language=org.language,
        timezone=org.timezone,
        case_prefix=org.case_prefix,
        units=units,
        people=people,
        resident_chats={c.chat_id: c.unit_id for c in chats if c.kind == "residents"},
        staff_chats={c.chat_id: c.unit_id for c in chats if c.kind == "staff"},
        show_resident_details=org.show_resident_details,
        settings=dict(org.settings or {}),
    )


async def current_policy(session: AsyncSession) -> Policy:
    org = await session.get(Org, 1)
    if org is None:
        raise LookupError("no org loaded: run `gridcall import-config ORG.yaml` first")
    return Policy.from_json(org.policy)
