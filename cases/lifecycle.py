"""Every step of a case's life, each one guarded update in the caller's transaction.

A step changes the case row only from the version and statuses it was read in (a racing
worker or a second press changes nothing), keeps ``next_due_at`` true to the new state and
writes its event with the status and level it left and reached — here, once, instead of in
every handler. It returns a `Step` (the deadline the index must now hold) or None when the
case had moved meanwhile.

Where a case goes and when is decided here; what people are told is the `Notifier`'s job,
so this module never knows about templates or chats (GoAlert's escalation engine is the
model: state in SQL, every step one guarded transaction).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from cases.assign import choose_assignee
from cases.status import ACTIVE, Status
from org.policy import Policy
from org.view import OrgView, Stop, UnitView
from storage.cases import add_event, guarded_update
from storage.models import Case


class Notifier(Protocol):
    """Writes the outbox rows of what a step did (same transaction)."""

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
    """Who caused a step: a person, or the system when a deadline fired."""

    id: int | None = None
    name: str = "system"


SYSTEM = Actor()


@dataclass(frozen=True)
class Step:
    """A step that took place: what the deadline index must now hold for the case."""

    case_id: int
    due: datetime | None

    @property
    def deadline(self) -> tuple[int, datetime | None]:
        return (self.case_id, self.due)


# --- timing ------------------------------------------------------------------------------


def reminder_key(kind: str, case: Case, due: datetime) -> str:
    return f"{kind}:{case.level}:{int(due.timestamp())}"


def pending_times(case: Case) -> list[tuple[datetime, str]]:
    """What is still to happen to the case, as (when, what): reminders and deadlines."""
    policy = Policy.from_json(case.policy)
    start = case.level_since or case.created_at
    out: list[tuple[datetime, str]] = []
    if case.status == Status.DISPATCHED and case.ack_due_at is not None:
        out.append((case.ack_due_at, "ack_overdue"))
        remind = policy.reminder(start, case.ack_due_at)
        if remind is not None and reminder_key("ack", case, case.ack_due_at) not in case.reminded:
            out.append((remind, "ack_reminder"))
    if case.status in ACTIVE and case.resolve_due_at is not None:
        out.append((case.resolve_due_at, "resolve_overdue"))
        # The resolve clock was (re)started at filing or at the last 督办.
        span = policy.resolve.get(case.priority)
        since = max(case.created_at, case.resolve_due_at - span) if span else case.created_at
        remind = policy.reminder(since, case.resolve_due_at)
        key = reminder_key("resolve", case, case.resolve_due_at)
        if remind is not None and remind < case.resolve_due_at and key not in case.reminded:
            out.append((remind, "resolve_reminder"))
    if case.status == Status.RESOLVED and case.resolved_at is not None:
        out.append((case.resolved_at + policy.feedback_window, "feedback_timeout"))
    return sorted(out)


def next_due(case: Case) -> datetime | None:
    times = pending_times(case)
    return times[0][0] if times else None


def case_place(case: Case) -> tuple[float, float] | None:
    return (case.lon, case.lat) if case.lon is not None and case.lat is not None else None


# --- the one primitive -------------------------------------------------------------------


_CURRENT = "\x00current"  # `unit_id` default: the unit holding the case after the step


async def change(
    session: AsyncSession,
    case: Case,
    kind: str,
    now: datetime,
    *,
    allowed: Collection[str],
    actor: Actor = SYSTEM,
    note: str | None = None,
    to_level: str | None = None,
    unit_id: str | None = _CURRENT,
    skipped: Sequence[Stop] = (),
    **values: Any,
) -> Step | None:
    """Apply `values` if the case is still at the version read and in one of `allowed`, and
    record the event `kind`. `to_level` is recorded when given or when the level changed;
    `skipped` are the rungs passed over on the way (they come first on the timeline)."""
    from_status, from_level = case.status, case.level
    if not await guarded_update(session, case, allowed, **values):
        return None
    _record_skips(session, case, skipped, from_level, now)
    due = next_due(case)
    if due != case.next_due_at:
        await session.execute(
            update(Case)
            .where(Case.id == case.id)
            .values(next_due_at=due)
            .execution_options(synchronize_session=False)
        )
        case.next_due_at = due
    add_event(
        session,
        case,
        kind,
        now,
        actor_id=actor.id,
        actor_name=actor.name,
        from_status=from_status,
        to_status=case.status,
        from_level=from_level,
        to_level=to_level or (case.level if case.level != from_level else None),
        unit_id=case.current_unit_id if unit_id == _CURRENT else unit_id,
        note=note,
    )
    return Step(case.id, case.next_due_at)


def _record_skips(
    session: AsyncSession, case: Case, stops: Sequence[Stop], from_level: str, now: datetime
) -> None:
    for stop in stops:
        add_event(
            session,
            case,
            "skipped",
            now,
            from_level=from_level,
            to_level=stop.level,
            note="no chat at this level",
        )


def _reachable(stops: list[Stop]) -> Stop | None:
    target = stops[-1] if stops else None
    return target if target is not None and target.unit is not None else None


# --- the steps ---------------------------------------------------------------------------


async def file(session: AsyncSession, case: Case, now: datetime, actor: Actor) -> None:
    """A new case row (numbered, its policy copied) in status `new`, and its first event;
    the case goes on a rung with `dispatch` in the same transaction."""
    case.status = Status.NEW
    case.version = 1
    session.add(case)
    await session.flush()  # the case's id, for its event
    add_event(
        session,
        case,
        "filed",
        now,
        actor_id=actor.id,
        actor_name=actor.name,
        to_status=Status.NEW,
        unit_id=case.current_unit_id,
        note=f"{case.category} {case.confidence:.2f}",
    )


def _arrival(policy: Policy, case: Case, level: str, unit_id: str, now: datetime) -> dict[str, Any]:
    """What a case's row says when it reaches a rung: waiting there for 接单, with the
    acknowledge clock started afresh."""
    return {
        "status": Status.DISPATCHED,
        "level": level,
        "current_unit_id": unit_id,
        "level_since": now,
        "ack_due_at": policy.ack_deadline(case.priority, now),
        "updated_at": now,
    }


async def dispatch(
    session: AsyncSession, case: Case, org: OrgView, now: datetime, notifier: Notifier
) -> Step | None:
    """Send a freshly filed case to the first rung of its ladder that has someone to ping,
    and to the key grids (重点网格) that overlay it."""
    policy = Policy.from_json(case.policy)
    stops = org.climb(case.grid_id, case.category, policy.ladder)
    target = _reachable(stops)
    if target is None or target.unit is None:
        _record_skips(session, case, stops, case.level, now)
        add_event(session, case, "unroutable", now, note="no level of the ladder has a chat")
        return None
    assignee = None
    if target.level == "grid":
        assignee = await choose_assignee(session, org, case.grid_id, case_place(case), now)
    step = await change(
        session,
        case,
        "dispatched",
        now,
        allowed=(Status.NEW,),
        to_level=target.level,
        skipped=stops[:-1],
        assignee_id=assignee.telegram_id if assignee else None,
        assignee_name=assignee.name if assignee else None,
        **_arrival(policy, case, target.level, target.unit.id, now),
    )
    if step is not None:
        await notifier.case_reached(session, case, target, now, "new")
        for key_grid in org.key_grids_for(case.category, case_place(case), case.grid_id):
            add_event(session, case, "shared", now, to_level="grid", unit_id=key_grid.id)
            await notifier.shared(session, case, key_grid, now)
    return step


async def acknowledge(
    session: AsyncSession, case: Case, now: datetime, actor: Actor
) -> Step | None:
    """接单: someone on the case's rung takes it; the acknowledge clock stops, the resolve
    clock runs on."""
    return await change(
        session,
        case,
        "acknowledged",
        now,
        allowed=(Status.DISPATCHED,),
        actor=actor,
        status=Status.ACKNOWLEDGED,
        ack_due_at=None,
        acknowledged_at=now,
        acknowledged_by=actor.name,
        updated_at=now,
    )


async def resolve(
    session: AsyncSession, case: Case, now: datetime, actor: Actor, note: str
) -> Step | None:
    """办结: the feedback window (回访) starts; a case resolved without 接单 counts as taken
    by whoever resolved it."""
    return await change(
        session,
        case,
        "resolved",
        now,
        allowed=ACTIVE,
        actor=actor,
        note=note,
        status=Status.RESOLVED,
        ack_due_at=None,
        resolved_at=now,
        resolution_note=note,
        acknowledged_at=case.acknowledged_at or now,
        acknowledged_by=case.acknowledged_by or actor.name,
        updated_at=now,
    )


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
) -> Step | None:
    """Move the case one reachable rung up, skipping rungs with nobody to ping.

    The new level must acknowledge within its own deadline; on 督办 (an overdue resolve
    deadline) it also gets a fresh resolve deadline. At the top of the ladder the clocks of
    the missed deadline stop (there is nobody left to call) and the timeline says so.
    """
    policy = Policy.from_json(case.policy)
    stops = org.climb(case.grid_id, case.category, policy.levels_above(case.level))
    target = _reachable(stops)
    if target is None or target.unit is None:
        stop_clock: dict[str, Any] = {"ack_due_at": None}
        if reason == "resolve_overdue":
            stop_clock = {"resolve_due_at": None}
        return await change(
            session,
            case,
            "ladder_exhausted",
            now,
            allowed=ACTIVE,
            actor=actor,
            note=note or reason,
            unit_id=None,
            skipped=stops,
            updated_at=now,
            **stop_clock,
            **extra,
        )
    values: dict[str, Any] = {
        **_arrival(policy, case, target.level, target.unit.id, now),
        "assignee_id": None,
        "assignee_name": None,
    }
    if reason == "resolve_overdue":
        values["resolve_due_at"] = policy.resolve_deadline(case.priority, now)
    step = await change(
        session,
        case,
        "escalated",
        now,
        allowed=ACTIVE,
        actor=actor,
        note=note or reason,
        to_level=target.level,
        skipped=stops[:-1],
        **values,
        **extra,
    )
    if step is None:
        return None
    await notifier.case_reached(session, case, target, now, reason)
    return step


async def give_back(
    session: AsyncSession,
    case: Case,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
    *,
    actor: Actor,
    note: str,
) -> Step | None:
    """回退: the rung says the case is not theirs; it is recorded, then climbs."""
    add_event(
        session,
        case,
        "returned",
        now,
        actor_id=actor.id,
        actor_name=actor.name,
        from_status=case.status,
        from_level=case.level,
        unit_id=case.current_unit_id,
        note=note,
    )
    return await escalate(
        session,
        case,
        org,
        now,
        notifier,
        actor=actor,
        reason="returned",
        note=note,
        return_count=case.return_count + 1,
    )


async def remind(
    session: AsyncSession, case: Case, kind: str, now: datetime, notifier: Notifier
) -> Step | None:
    """催办: remind the current level once, before its deadline."""
    due = case.ack_due_at if kind == "ack" else case.resolve_due_at
    if due is None:
        return None
    key = reminder_key(kind, case, due)
    step = await change(
        session, case, "reminded", now, allowed=ACTIVE, note=kind, reminded=[*case.reminded, key]
    )
    if step is not None:
        await notifier.reminder(session, case, kind, due, now)
    return step


async def close(
    session: AsyncSession,
    case: Case,
    now: datetime,
    *,
    actor: Actor = SYSTEM,
    rating: str | None = None,
    note: str | None = None,
) -> Step | None:
    """结案: the resident was satisfied, or did not answer within the feedback window."""
    return await change(
        session,
        case,
        "closed",
        now,
        allowed=(Status.RESOLVED,),
        actor=actor,
        note=note or rating,
        unit_id=None,
        status=Status.CLOSED,
        closed_at=now,
        rating=rating,
        updated_at=now,
    )


async def reopen(
    session: AsyncSession,
    case: Case,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
    *,
    actor: Actor,
    note: str | None = None,
) -> Step | None:
    """返工: the resident says it is not fixed. The case goes back to the same grid's ladder
    one level above the one that resolved it, with fresh deadlines."""
    policy = Policy.from_json(case.policy)
    stops = org.climb(case.grid_id, case.category, policy.levels_above(case.level))
    target = _reachable(stops) or Stop(case.level, org.units.get(case.current_unit_id))
    if target.unit is None:  # resolved at the top: the top does it again, if it still exists
        return None
    step = await change(
        session,
        case,
        "reopened",
        now,
        allowed=(Status.RESOLVED,),
        actor=actor,
        note=note,
        to_level=target.level,
        resolve_due_at=policy.resolve_deadline(case.priority, now),
        acknowledged_at=None,
        acknowledged_by=None,
        rating="bad",
        assignee_id=None,
        assignee_name=None,
        **_arrival(policy, case, target.level, target.unit.id, now),
    )
    if step is not None:
        await notifier.case_reached(session, case, target, now, "reopened")
    return step


async def recategorize(
    session: AsyncSession, case: Case, code: str, now: datetime, actor: Actor
) -> Step | None:
    """改类: the category changes; who owns the case may change with it (`reroute`)."""
    return await change(
        session,
        case,
        "recategorized",
        now,
        allowed=ACTIVE,
        actor=actor,
        note=f"{case.category} → {code}",
        unit_id=None,
        category=code,
        updated_at=now,
    )


async def reroute(
    session: AsyncSession,
    case: Case,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
    *,
    actor: Actor,
) -> Step | None:
    """After a change of category, hand the case to whoever owns its rung now.

    Only the department rung depends on the category; below it the grid's chain stays the
    owner. If the new owner has no chat the case climbs on at once. None if the case stays
    where it is.
    """
    unit = org.unit_at(case.grid_id, case.level, case.category)
    if unit is not None and unit.id == case.current_unit_id:
        return None
    if unit is None or unit.chat_id is None:
        return await escalate(session, case, org, now, notifier, actor=actor, reason="rerouted")
    policy = Policy.from_json(case.policy)
    step = await change(
        session,
        case,
        "rerouted",
        now,
        allowed=ACTIVE,
        actor=actor,
        note=f"{case.current_unit_id} → {unit.id}",
        to_level=case.level,
        **_arrival(policy, case, case.level, unit.id, now),
    )
    if step is not None:
        await notifier.case_reached(session, case, Stop(case.level, unit), now, "rerouted")
    return step


async def unassign(session: AsyncSession, case: Case, now: datetime, note: str) -> Step | None:
    """The worker on duty cannot be reached privately: the rung's chat takes the case."""
    return await change(
        session,
        case,
        "unassigned",
        now,
        allowed=ACTIVE,
        note=note,
        assignee_id=None,
        assignee_name=None,
        updated_at=now,
    )


async def join(
    session: AsyncSession,
    case: Case,
    now: datetime,
    actor: Actor,
    text: str,
    **values: Any,
) -> Step | None:
    """Another resident's report joins the case (a merge): their words on the timeline,
    `values` (the count of reporters, the card's quotes, a raised priority) on the case."""
    return await change(
        session, case, "merged", now, allowed=ACTIVE, actor=actor, note=text, **values
    )


def joined(session: AsyncSession, case: Case, now: datetime, actor: Actor, text: str) -> None:
    """A report that joins the case in the same step as others (a merge by hand brings
    every report of the duplicate): its words on the timeline."""
    add_event(
        session,
        case,
        "merged",
        now,
        actor_id=actor.id,
        actor_name=actor.name,
        to_status=case.status,
        unit_id=case.current_unit_id,
        note=text,
    )


async def mark_duplicate(
    session: AsyncSession, case: Case, target_number: str, now: datetime, actor: Actor
) -> Step | None:
    """合并 by hand: the case becomes a duplicate of another; its clocks stop."""
    return await change(
        session,
        case,
        "merged_into",
        now,
        allowed=ACTIVE,
        actor=actor,
        note=target_number,
        status=Status.DUPLICATE,
        ack_due_at=None,
        resolve_due_at=None,
        updated_at=now,
    )


async def absorb(
    session: AsyncSession,
    case: Case,
    now: datetime,
    reports: Sequence[tuple[Actor, str]],
    **values: Any,
) -> Step | None:
    """合并 by hand, the receiving side: every report of the duplicate joins the case, each
    with its own event (who, and every word), in one guarded step."""
    first = reports[0] if reports else (SYSTEM, None)
    step = await change(
        session, case, "merged", now, allowed=ACTIVE, actor=first[0], note=first[1], **values
    )
    if step is not None:
        for actor, text in reports[1:]:
            joined(session, case, now, actor, text)
    return step
