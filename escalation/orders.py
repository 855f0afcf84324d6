"""Chasing orders (令行禁止): the timing of each unit's 收到 and the climb of those that stay
silent.

Each target unit of an order must press 收到 within `orders.ack` (never past the order's
own due time). A 催办 goes to the chat being chased at `orders.remind_at` of the span; at the
acknowledge deadline the target climbs one rung of its ladder — grid → community → street →
leadership, a department → leadership — skipping rungs without a chat, and that rung gets a
fresh span. At the top the chase stops. When the order's due time passes, the targets not
done are overdue and the issuer hears it once.

As in `escalation.engine`, every step is one guarded transaction on the target row (its
version and status), with its event row and its outgoing messages; `next_due_at` is kept
true to the target's state and is all the order scheduler's index holds. What people are
told is the `OrderNotifier`'s job, so this module knows no templates or chats.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from org.view import OrgView, UnitView
from storage.cases import guarded_update
from storage.models import Order, OrderTarget
from storage.orders import OPEN_TARGET, add_event, get_order, get_target, targets_of

DEFAULT_ACK = timedelta(hours=1)
DEFAULT_REMIND_AT = 0.5
OVERDUE = "overdue"  # in `OrderTarget.reminded`: the issuer was told this target is late


class OrderNotifier(Protocol):
    """Writes the outbox rows of what the chase did (same transaction)."""

    async def reminder(
        self,
        session: AsyncSession,
        order: Order,
        target: OrderTarget,
        unit: UnitView,
        now: datetime,
    ) -> None: ...

    async def climbed(
        self,
        session: AsyncSession,
        order: Order,
        target: OrderTarget,
        unit: UnitView,
        now: datetime,
    ) -> None: ...

    async def overdue(
        self, session: AsyncSession, order: Order, late: list[OrderTarget], now: datetime
    ) -> None: ...


# --- settings and ladders ------------------------------------------------------------------


def ack_span(org: OrgView) -> timedelta:
    """How long a unit has to press 收到 (`orders.ack` of the org file)."""
    seconds = (org.settings.get("orders") or {}).get("ack")
    return timedelta(seconds=int(seconds)) if seconds else DEFAULT_ACK


def remind_fraction(org: OrgView) -> float | None:
    """When in each span the 催办 goes out (`orders.remind_at`); None: no reminders."""
    orders = org.settings.get("orders")
    if orders is None:
        return DEFAULT_REMIND_AT
    value = orders.get("remind_at")
    return float(value) if value else None


def chain(org: OrgView, unit_id: str) -> list[UnitView]:
    """The rungs an order to `unit_id` climbs: the unit, its ancestors in the tree (a grid's
    community and street), then the leadership. A department has no tree above it: it goes
    straight to the leadership. Rungs without a chat are included; callers skip them."""
    rungs: list[UnitView] = []
    unit = org.units.get(unit_id)
    while unit is not None and unit.level != "leadership":
        rungs.append(unit)
        unit = org.units.get(unit.parent_id) if unit.parent_id else None
    top = org.leadership()
    if top is not None and rungs:
        rungs.append(top)
    return rungs


def first_reachable(rungs: list[UnitView], start: int) -> int | None:
    """The index of the first rung at or after `start` with a chat to ping."""
    for index in range(start, len(rungs)):
        if rungs[index].chat_id is not None:
            return index
    return None


def ack_deadline(order: Order, now: datetime) -> datetime:
    """A fresh span from now, never past the order's due time."""
    return min(now + timedelta(seconds=order.ack_span_s), order.due_at)


# --- timing --------------------------------------------------------------------------------


def reminder_key(target: OrderTarget, due: datetime) -> str:
    return f"ack:{target.chased_unit_id}:{int(due.timestamp())}"


def pending_times(
    order: Order, target: OrderTarget, remind_at: float | None
) -> list[tuple[datetime, str]]:
    """What is still to happen to a target, as (when, what): 催办, climb, overdue."""
    out: list[tuple[datetime, str]] = []
    if target.status == "sent" and target.ack_due_at is not None:
        out.append((target.ack_due_at, "climb"))
        if remind_at:
            remind = target.level_since + (target.ack_due_at - target.level_since) * remind_at
            key = reminder_key(target, target.ack_due_at)
            if remind < target.ack_due_at and key not in (target.reminded or []):
                out.append((remind, "remind"))
    if target.status in OPEN_TARGET and OVERDUE not in (target.reminded or []):
        out.append((order.due_at, OVERDUE))
    return sorted(out)


def next_due(order: Order, target: OrderTarget, remind_at: float | None) -> datetime | None:
    times = pending_times(order, target, remind_at)
    return times[0][0] if times else None


async def transition(
    session: AsyncSession,
    order: Order,
    target: OrderTarget,
    statuses: Collection[str],
    remind_at: float | None,
    **values: Any,
) -> bool:
    """A guarded update that also keeps `next_due_at` true to the target's new state."""
    if not await guarded_update(session, target, statuses, **values):
        return False
    due = next_due(order, target, remind_at)
    if due != target.next_due_at:
        await session.execute(
            update(OrderTarget)
            .where(OrderTarget.id == target.id)
            .values(next_due_at=due)
            .execution_options(synchronize_session=False)
        )
        target.next_due_at = due
    return True


# --- steps ---------------------------------------------------------------------------------


async def tick(
    session: AsyncSession,
    order: Order,
    target: OrderTarget,
    org: OrgView,
    now: datetime,
    notifier: OrderNotifier,
) -> bool:
    """Do the one step that is due for the target; False if nothing was (or it moved)."""
    remind_at = remind_fraction(org)
    due = [what for when, what in pending_times(order, target, remind_at) if when <= now]
    if not due:
        return False
    if OVERDUE in due:
        return await overdue(session, order, target, now, notifier, remind_at)
    if "climb" in due:  # a reminder due at the same time is moot: the next rung is pinged
        return await climb(session, order, target, org, now, notifier, remind_at)
    return await remind(session, order, target, org, now, notifier, remind_at)


async def remind(
    session: AsyncSession,
    order: Order,
    target: OrderTarget,
    org: OrgView,
    now: datetime,
    notifier: OrderNotifier,
    remind_at: float | None,
) -> bool:
    assert target.ack_due_at is not None
    key = reminder_key(target, target.ack_due_at)
    ok = await transition(
        session,
        order,
        target,
        ("sent",),
        remind_at,
        reminded=[*(target.reminded or []), key],
    )
    if not ok:
        return False
    add_event(session, order, "reminded", now, target=target, unit_id=target.chased_unit_id)
    unit = org.units.get(target.chased_unit_id)
    if unit is not None:
        await notifier.reminder(session, order, target, unit, now)
    return True


async def climb(
    session: AsyncSession,
    order: Order,
    target: OrderTarget,
    org: OrgView,
    now: datetime,
    notifier: OrderNotifier,
    remind_at: float | None,
) -> bool:
    """One reachable rung up, or — at the top — stop chasing and say so in the record."""
    rungs = chain(org, target.unit_id)
    here = next((i for i, u in enumerate(rungs) if u.id == target.chased_unit_id), None)
    above = first_reachable(rungs, here + 1) if here is not None else None
    if above is None:
        ok = await transition(session, order, target, ("sent",), remind_at, ack_due_at=None)
        if ok:
            add_event(
                session,
                order,
                "chase_stopped",
                now,
                target=target,
                unit_id=target.chased_unit_id,
                note="top of the ladder",
            )
        return ok
    unit = rungs[above]
    ok = await transition(
        session,
        order,
        target,
        ("sent",),
        remind_at,
        level=unit.level,
        chased_unit_id=unit.id,
        level_since=now,
        ack_due_at=ack_deadline(order, now),
    )
    if not ok:
        return False
    assert here is not None
    for skipped in rungs[here + 1 : above]:
        add_event(
            session,
            order,
            "skipped",
            now,
            target=target,
            unit_id=skipped.id,
            note="no chat at this level",
        )
    add_event(session, order, "escalated", now, target=target, unit_id=unit.id)
    await notifier.climbed(session, order, target, unit, now)
    return True


async def overdue(
    session: AsyncSession,
    order: Order,
    target: OrderTarget,
    now: datetime,
    notifier: OrderNotifier,
    remind_at: float | None,
) -> bool:
    """The order's due time passed and this target is not done: the chase ends, the record
    says so, and the issuer is told which units are late (once per order, whichever target
    fires first: the message's key is the order's)."""
    ok = await transition(
        session,
        order,
        target,
        OPEN_TARGET,
        remind_at,
        ack_due_at=None,
        reminded=[*(target.reminded or []), OVERDUE],
    )
    if not ok:
        return False
    add_event(session, order, OVERDUE, now, target=target, unit_id=target.unit_id)
    late = [t for t in await targets_of(session, [order.id]) if t.status != "done"]
    await notifier.overdue(session, order, late, now)
    return True


async def fire_due(
    sessions: async_sessionmaker[AsyncSession],
    target_id: int,
    org: OrgView,
    now: datetime,
    notifier: OrderNotifier,
) -> datetime | None:
    """Handle whatever is due for one target; returns its next due time to index, if any.

    Safe for a stale index entry, twice, or from two workers at once: the target row
    decides. Several steps due at once (after an outage) are one transaction each.
    """
    remind_at = remind_fraction(org)
    due: datetime | None = None
    for _ in range(8):
        async with sessions() as session, session.begin():
            target = await get_target(session, target_id)
            order = await get_order(session, target.order_id) if target is not None else None
            if target is None or order is None:
                return None
            await tick(session, order, target, org, now, notifier)
            due = next_due(order, target, remind_at)
        # Something still due now: the next step, or a step another worker took first (our
        # copy of the row is stale): read the row again and look.
        if due is None or due > now:
            return due
    return due
