"""The order repository (令): numbering, guarded transitions of order targets, the event log
and what the order scheduler's index is built from.

An order goes to several units; each unit is an `OrderTarget` with its own state, so one
unit's 收到 never races another's. Like a case, a target only changes from the version and
status it was read in (`storage.cases.guarded_update`), so two workers firing the same
deadline, or a press racing a deadline, change it once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.cases import next_in_sequence
from storage.models import Order, OrderEvent, OrderTarget

OPEN_TARGET = ("sent", "acknowledged")


async def next_order_number(session: AsyncSession, prefix: str, year: int) -> str:
    """`HZ-L-2026-0001`: a per-year sequence of its own, beside the cases' one."""
    value = await next_in_sequence(session, f"order:{prefix}:{year}")
    return f"{prefix}-L-{year}-{value:04d}"


def add_event(
    session: AsyncSession,
    order: Order,
    kind: str,
    at: datetime,
    *,
    target: OrderTarget | None = None,
    actor_id: int | None = None,
    actor_name: str = "system",
    unit_id: str | None = None,
    note: str | None = None,
) -> OrderEvent:
    event = OrderEvent(
        order_id=order.id,
        target_id=target.id if target is not None else None,
        at=at,
        kind=kind,
        actor_id=actor_id,
        actor_name=actor_name,
        unit_id=unit_id,
        note=note,
    )
    session.add(event)
    return event


async def get_target(session: AsyncSession, target_id: int) -> OrderTarget | None:
    # populate_existing: a guarded update bypasses the identity map, so re-read the row.
    stmt = (
        select(OrderTarget)
        .where(OrderTarget.id == target_id)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_order(session: AsyncSession, order_id: int) -> Order | None:
    stmt = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def targets_of(session: AsyncSession, order_ids: Sequence[int]) -> list[OrderTarget]:
    """The targets of these orders, in the order they were addressed."""
    if not order_ids:
        return []
    stmt = (
        select(OrderTarget)
        .where(OrderTarget.order_id.in_(list(order_ids)))
        .order_by(OrderTarget.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def open_orders(
    session: AsyncSession, *, unit_ids: Collection[str] | None = None, limit: int = 10
) -> list[Order]:
    """Open orders, newest first; only those addressed to `unit_ids` when given."""
    stmt = select(Order).where(Order.status == "open")
    if unit_ids is not None:
        addressed = select(OrderTarget.order_id).where(OrderTarget.unit_id.in_(list(unit_ids)))
        stmt = stmt.where(Order.id.in_(addressed))
    stmt = stmt.order_by(Order.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def close_if_done(session: AsyncSession, order: Order) -> bool:
    """Close the order (it drops off the board) once every target is done. The update is
    guarded by status, so of two last 完成 racing, one closes it."""
    remaining = await session.execute(
        select(func.count())
        .select_from(OrderTarget)
        .where(OrderTarget.order_id == order.id, OrderTarget.status != "done")
    )
    if remaining.scalar_one():
        return False
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == "open")
        .values(status="closed")
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    order.status = "closed"
    return True


async def pending_deadlines(session: AsyncSession) -> list[tuple[int, datetime]]:
    """Every target with something still to happen: what the order index is rebuilt from."""
    stmt = select(OrderTarget.id, OrderTarget.next_due_at).where(
        OrderTarget.next_due_at.is_not(None)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all() if row[1] is not None]


async def due_target_ids(session: AsyncSession, now: datetime, limit: int = 500) -> list[int]:
    stmt = (
        select(OrderTarget.id)
        .where(OrderTarget.next_due_at <= now)
        .order_by(OrderTarget.next_due_at)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
