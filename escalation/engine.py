"""The engine that moves cases up the ladder (「网格呼、社区应 … 提级呼、领导应」).

Every move is one guarded transaction: the case update (only from the version read), its
event rows and the outgoing messages. The engine decides *where* a case goes; what people
are told is the `Notifier`'s job, so the engine never knows about templates or chats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.policy import Policy
from escalation.routing import OrgView, Stop
from storage.cases import add_event, get_case, guarded_update
from storage.models import Case

MOVABLE = ("dispatched", "acknowledged")


class Notifier(Protocol):
    """Writes the outbox rows for a case that reached a unit (same transaction)."""

    async def case_reached(
        self, session: AsyncSession, case: Case, stop: Stop, now: datetime, reason: str
    ) -> None: ...


@dataclass(frozen=True)
class Actor:
    """Who caused a transition: a person, or the system when a deadline fired."""

    id: int | None = None
    name: str = "system"


SYSTEM = Actor()


def _record_skips(session: AsyncSession, case: Case, stops: list[Stop], now: datetime) -> None:
    for stop in stops:
        add_event(
            session,
            case,
            "skipped",
            now,
            from_level=case.level,
            to_level=stop.level,
            note="no chat at this level",
        )


async def dispatch(
    session: AsyncSession, case: Case, org: OrgView, now: datetime, notifier: Notifier
) -> bool:
    """Send a freshly filed case to the first rung of its ladder that has someone to ping."""
    policy = Policy.from_json(case.policy)
    stops = org.climb(case.grid_id, case.category, policy.ladder)
    target = stops[-1] if stops and stops[-1].unit is not None else None
    _record_skips(session, case, stops[:-1] if target else stops, now)
    if target is None or target.unit is None:
        add_event(session, case, "unroutable", now, note="no level of the ladder has a chat")
        return False
    ok = await guarded_update(
        session,
        case,
        ("new",),
        status="dispatched",
        level=target.level,
        current_unit_id=target.unit.id,
        ack_due_at=policy.ack_deadline(case.priority, now),
        updated_at=now,
    )
    if ok:
        add_event(
            session,
            case,
            "dispatched",
            now,
            from_status="new",
            to_status="dispatched",
            to_level=target.level,
            unit_id=target.unit.id,
        )
        await notifier.case_reached(session, case, target, now, "new")
    return ok


async def escalate(
    session: AsyncSession,
    case: Case,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
    *,
    actor: Actor = SYSTEM,
    reason: str = "ack_overdue",
    note: str | None = None,
) -> bool:
    """Move the case one reachable rung up, skipping rungs with nobody to ping.

    At the top of the ladder the acknowledge clock stops (there is nobody left to call) and
    the timeline says so. Returns False, changing nothing, if the case moved meanwhile.
    """
    policy = Policy.from_json(case.policy)
    stops = org.climb(case.grid_id, case.category, policy.levels_above(case.level))
    target = stops[-1] if stops and stops[-1].unit is not None else None
    from_status, from_level = case.status, case.level
    if target is None or target.unit is None:
        ok = await guarded_update(session, case, MOVABLE, ack_due_at=None, updated_at=now)
        if ok:
            _record_skips(session, case, stops, now)
            add_event(
                session,
                case,
                "ladder_exhausted",
                now,
                actor_id=actor.id,
                actor_name=actor.name,
                from_level=from_level,
                note=note or reason,
            )
        return ok
    ok = await guarded_update(
        session,
        case,
        MOVABLE,
        status="dispatched",
        level=target.level,
        current_unit_id=target.unit.id,
        ack_due_at=policy.ack_deadline(case.priority, now),
        updated_at=now,
    )
    if not ok:
        return False
    _record_skips(session, case, stops[:-1], now)
    add_event(
        session,
        case,
        "escalated",
        now,
        actor_id=actor.id,
        actor_name=actor.name,
        from_status=from_status,
        to_status="dispatched",
        from_level=from_level,
        to_level=target.level,
        unit_id=target.unit.id,
        note=note or reason,
    )
    await notifier.case_reached(session, case, target, now, reason)
    return True


async def fire_ack_deadline(
    sessions: async_sessionmaker[AsyncSession],
    case_id: int,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
) -> datetime | None:
    """Handle one acknowledge deadline; returns the case's next deadline to index, if any.

    Safe to call for a stale index entry, twice, or from two workers at once: the case row
    decides, and only one guarded update can win.
    """
    async with sessions() as session, session.begin():
        case = await get_case(session, case_id)
        if case is None or case.status != "dispatched" or case.ack_due_at is None:
            return None
        if case.ack_due_at > now:
            return case.ack_due_at
        if not await escalate(session, case, org, now, notifier):
            return None  # another worker moved it; nothing was written here
        return case.ack_due_at


async def reroute(
    session: AsyncSession,
    case: Case,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
    *,
    actor: Actor,
) -> bool:
    """After a change of category, hand the case to whoever owns its rung now.

    Only the department rung depends on the category; below it the grid's chain stays the
    owner. If the new owner has no chat the case climbs on at once. Returns True if the
    case moved to another unit.
    """
    unit = org.unit_at(case.grid_id, case.level, case.category)
    if unit is not None and unit.id == case.current_unit_id:
        return False
    if unit is None or unit.chat_id is None:
        return await escalate(session, case, org, now, notifier, actor=actor, reason="rerouted")
    policy = Policy.from_json(case.policy)
    from_status, from_unit = case.status, case.current_unit_id
    ok = await guarded_update(
        session,
        case,
        MOVABLE,
        status="dispatched",
        current_unit_id=unit.id,
        ack_due_at=policy.ack_deadline(case.priority, now),
        updated_at=now,
    )
    if not ok:
        return False
    add_event(
        session,
        case,
        "rerouted",
        now,
        actor_id=actor.id,
        actor_name=actor.name,
        from_status=from_status,
        to_status="dispatched",
        from_level=case.level,
        to_level=case.level,
        unit_id=unit.id,
        note=f"{from_unit} → {unit.id}",
    )
    await notifier.case_reached(session, case, Stop(case.level, unit), now, "rerouted")
    return True
