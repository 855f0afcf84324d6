"""The engine that moves cases up the ladder (「网格呼、社区应 … 提级呼、领导应」).

Every move is one guarded transaction: the case update (only from the version read), its
event rows and the outgoing messages. The engine decides *where* a case goes and *when* it
must be looked at again; what people are told is the `Notifier`'s job, so the engine never
knows about templates or chats.

Timing lives on the case row: the acknowledge deadline of the current level, the resolve
deadline, the reminders (催办) already sent, and `next_due_at` — the earliest of the pending
ones — which is all the scheduler's index holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.assign import choose_assignee
from org.policy import Policy
from org.view import OrgView, Stop, UnitView
from storage.cases import add_event, get_case, guarded_update
from storage.models import Case

MOVABLE = ("dispatched", "acknowledged")


class Notifier(Protocol):
    """Writes the outbox rows of what the engine did (same transaction)."""

    async def case_reached(
        self, session: AsyncSession, case: Case, stop: Stop, now: datetime, reason: str
    ) -> None: ...

    async def reminder(
        self, session: AsyncSession, case: Case, kind: str, due: datetime, now: datetime
    ) -> None: ...

    async def shared(
        self, session: AsyncSession, case: Case, unit: UnitView, now: datetime
    ) -> None: ...


@dataclass(frozen=True)
class Actor:
    """Who caused a transition: a person, or the system when a deadline fired."""

    id: int | None = None
    name: str = "system"


SYSTEM = Actor()


# --- timing ------------------------------------------------------------------------------


def reminder_key(kind: str, case: Case, due: datetime) -> str:
    return f"{kind}:{case.level}:{int(due.timestamp())}"


def pending_times(case: Case) -> list[tuple[datetime, str]]:
    """What is still to happen to the case, as (when, what): reminders and deadlines."""
    policy = Policy.from_json(case.policy)
    start = case.level_since or case.created_at
    out: list[tuple[datetime, str]] = []
    if case.status == "dispatched" and case.ack_due_at is not None:
        out.append((case.ack_due_at, "ack_overdue"))
        remind = policy.reminder(start, case.ack_due_at)
        if remind is not None and reminder_key("ack", case, case.ack_due_at) not in case.reminded:
            out.append((remind, "ack_reminder"))
    if case.status in MOVABLE and case.resolve_due_at is not None:
        out.append((case.resolve_due_at, "resolve_overdue"))
        # The resolve clock was (re)started at filing or at the last 督办.
        span = policy.resolve.get(case.priority)
        since = max(case.created_at, case.resolve_due_at - span) if span else case.created_at
        remind = policy.reminder(since, case.resolve_due_at)
        key = reminder_key("resolve", case, case.resolve_due_at)
        if remind is not None and remind < case.resolve_due_at and key not in case.reminded:
            out.append((remind, "resolve_reminder"))
    if case.status == "resolved" and case.resolved_at is not None:
        out.append((case.resolved_at + policy.feedback_window, "feedback_timeout"))
    return sorted(out)


def next_due(case: Case) -> datetime | None:
    times = pending_times(case)
    return times[0][0] if times else None


async def transition(
    session: AsyncSession, case: Case, statuses: tuple[str, ...], **values: Any
) -> bool:
    """A guarded update that also keeps `next_due_at` true to the case's new state."""
    if not await guarded_update(session, case, statuses, **values):
        return False
    due = next_due(case)
    if due != case.next_due_at:
        await session.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(next_due_at=due)
            .execution_options(synchronize_session=False)
        )
        case.next_due_at = due
    return True


# --- moves ---------------------------------------------------------------------------------


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
    """Send a freshly filed case to the first rung of its ladder that has someone to ping,
    and to the key grids (重点网格) that overlay it."""
    policy = Policy.from_json(case.policy)
    stops = org.climb(case.grid_id, case.category, policy.ladder)
    target = stops[-1] if stops and stops[-1].unit is not None else None
    _record_skips(session, case, stops[:-1] if target else stops, now)
    if target is None or target.unit is None:
        add_event(session, case, "unroutable", now, note="no level of the ladder has a chat")
        return False
    assignee = None
    if target.level == "grid":
        assignee = await choose_assignee(session, org, case.grid_id, case_place(case), now)
    ok = await transition(
        session,
        case,
        ("new",),
        status="dispatched",
        level=target.level,
        current_unit_id=target.unit.id,
        level_since=now,
        ack_due_at=policy.ack_deadline(case.priority, now),
        assignee_id=assignee.telegram_id if assignee else None,
        assignee_name=assignee.name if assignee else None,
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
        for key_grid in org.key_grids_for(case.category, case_place(case), case.grid_id):
            add_event(session, case, "shared", now, to_level="grid", unit_id=key_grid.id)
            await notifier.shared(session, case, key_grid, now)
    return ok


def case_place(case: Case) -> tuple[float, float] | None:
    return (case.lon, case.lat) if case.lon is not None and case.lat is not None else None


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
    **extra: Any,
) -> bool:
    """Move the case one reachable rung up, skipping rungs with nobody to ping.

    The new level must acknowledge within its own deadline; on 督办 (an overdue resolve
    deadline) it also gets a fresh resolve deadline. At the top of the ladder the clocks of
    the missed deadline stop (there is nobody left to call) and the timeline says so.
    Returns False, changing nothing, if the case moved meanwhile.
    """
    policy = Policy.from_json(case.policy)
    stops = org.climb(case.grid_id, case.category, policy.levels_above(case.level))
    target = stops[-1] if stops and stops[-1].unit is not None else None
    from_status, from_level = case.status, case.level
    if target is None or target.unit is None:
        stop_clock: dict[str, Any] = {"ack_due_at": None}
        if reason == "resolve_overdue":
            stop_clock = {"resolve_due_at": None}
        ok = await transition(session, case, MOVABLE, updated_at=now, **stop_clock, **extra)
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
    values: dict[str, Any] = {
        "status": "dispatched",
        "level": target.level,
        "current_unit_id": target.unit.id,
        "level_since": now,
        "ack_due_at": policy.ack_deadline(case.priority, now),
        "assignee_id": None,
        "assignee_name": None,
        "updated_at": now,
    }
    if reason == "resolve_overdue":
        values["resolve_due_at"] = policy.resolve_deadline(case.priority, now)
    ok = await transition(session, case, MOVABLE, **values, **extra)
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


async def remind(
    session: AsyncSession, case: Case, kind: str, now: datetime, notifier: Notifier
) -> bool:
    """催办: remind the current level once, before its deadline."""
    due = case.ack_due_at if kind == "ack" else case.resolve_due_at
    if due is None:
        return False
    key = reminder_key(kind, case, due)
    ok = await transition(session, case, MOVABLE, reminded=[*case.reminded, key])
    if ok:
        add_event(session, case, "reminded", now, unit_id=case.current_unit_id, note=kind)
        await notifier.reminder(session, case, kind, due, now)
    return ok


async def close(
    session: AsyncSession,
    case: Case,
    now: datetime,
    *,
    actor: Actor = SYSTEM,
    rating: str | None = None,
    note: str | None = None,
) -> bool:
    """结案: the resident was satisfied, or did not answer within the feedback window."""
    ok = await transition(
        session, case, ("resolved",), status="closed", closed_at=now, rating=rating, updated_at=now
    )
    if ok:
        add_event(
            session,
            case,
            "closed",
            now,
            actor_id=actor.id,
            actor_name=actor.name,
            from_status="resolved",
            to_status="closed",
            note=note or rating,
        )
    return ok


async def reopen(
    session: AsyncSession,
    case: Case,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
    *,
    actor: Actor,
    note: str | None = None,
) -> bool:
    """返工: the resident says it is not fixed. The case goes back to the same grid's ladder
    one level above the one that resolved it, with fresh deadlines."""
    policy = Policy.from_json(case.policy)
    stops = org.climb(case.grid_id, case.category, policy.levels_above(case.level))
    target = stops[-1] if stops and stops[-1].unit is not None else None
    if target is None or target.unit is None:  # resolved at the top: the top does it again
        target = Stop(case.level, org.units.get(case.current_unit_id))
    if target.unit is None:
        return False
    ok = await transition(
        session,
        case,
        ("resolved",),
        status="dispatched",
        level=target.level,
        current_unit_id=target.unit.id,
        level_since=now,
        ack_due_at=policy.ack_deadline(case.priority, now),
        resolve_due_at=policy.resolve_deadline(case.priority, now),
        acknowledged_at=None,
        acknowledged_by=None,
        rating="bad",
        assignee_id=None,
        assignee_name=None,
        updated_at=now,
    )
    if not ok:
        return False
    add_event(
        session,
        case,
        "reopened",
        now,
        actor_id=actor.id,
        actor_name=actor.name,
        from_status="resolved",
        to_status="dispatched",
        to_level=target.level,
        unit_id=target.unit.id,
        note=note,
    )
    await notifier.case_reached(session, case, target, now, "reopened")
    return True


async def tick(
    session: AsyncSession, case: Case, org: OrgView, now: datetime, notifier: Notifier
) -> bool:
    """Do what is due for one case: a missed deadline climbs, a reminder is sent — unless
    its deadline has passed too (after an outage), when the reminder is only noise."""
    times = pending_times(case)
    passed = {what for when, what in times if when <= now}
    for when, what in times:
        if when > now:
            break
        if what == "ack_reminder" and "ack_overdue" in passed:
            continue
        if what == "resolve_reminder" and "resolve_overdue" in passed:
            continue
        if what == "ack_overdue":
            return await escalate(session, case, org, now, notifier, reason="ack_overdue")
        if what == "resolve_overdue":
            return await escalate(session, case, org, now, notifier, reason="resolve_overdue")
        if what == "feedback_timeout":
            return await close(session, case, now, note="no_feedback")
        kind = "ack" if what == "ack_reminder" else "resolve"
        return await remind(session, case, kind, now, notifier)
    return False


async def fire_due(
    sessions: async_sessionmaker[AsyncSession],
    case_id: int,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
) -> datetime | None:
    """Handle whatever is due for one case; returns its next due time to index, if any.

    Safe to call for a stale index entry, twice, or from two workers at once: the case row
    decides, and only one guarded update can win. Several things due at once (a reminder
    and a deadline after a long outage) are handled one transaction each, in order.
    """
    for _ in range(8):
        async with sessions() as session, session.begin():
            case = await get_case(session, case_id)
            if case is None:
                return None
            acted = await tick(session, case, org, now, notifier)
            due = next_due(case)
        if not acted or due is None or due > now:
            return due
    return due


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
    ok = await transition(
        session,
        case,
        MOVABLE,
        status="dispatched",
        current_unit_id=unit.id,
        level_since=now,
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
