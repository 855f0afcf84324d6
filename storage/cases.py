"""The case repository: numbering, guarded transitions and the event log.

A transition is `guarded_update` + `add_event` (+ outbox rows) in one transaction: the update
only applies to the version and status the caller read, so a racing worker changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case, CaseEvent, Counter, OrderTarget


async def next_case_number(session: AsyncSession, prefix: str, year: int) -> str:
    """`HZ-2026-000123`: a per-year sequence; the row lock serialises concurrent filers."""
    value = await next_in_sequence(session, f"case:{prefix}:{year}")
    return f"{prefix}-{year}-{value:06d}"


async def next_in_sequence(session: AsyncSession, name: str) -> int:
    """The next value of the named counter (1, 2, …), in the caller's transaction: the
    updated row stays locked until it commits, so concurrent callers never share a value."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(Counter).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"])
    )
    stmt = (
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    return int((await session.execute(stmt)).scalar_one())


async def guarded_update(
    session: AsyncSession,
    row: Case | OrderTarget,
    statuses: Collection[str],
    **values: Any,
) -> bool:
    """Apply `values` only if the row (a case, or an order's target: anything versioned
    with a status) is still at the version read and in one of `statuses`.

    Returns False, changing nothing, when someone else moved it first.
    """
    model = type(row)
    stmt = (
        update(model)
        .where(model.id == row.id, model.version == row.version, model.status.in_(tuple(statuses)))
        .values(version=row.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    for key, value in values.items():
        setattr(row, key, value)
    row.version += 1
    return True


def add_event(
    session: AsyncSession,
    case: Case,
    kind: str,
    at: datetime,
    *,
    actor_id: int | None = None,
    actor_name: str = "system",
    from_status: str | None = None,
    to_status: str | None = None,
    from_level: str | None = None,
    to_level: str | None = None,
    unit_id: str | None = None,
    note: str | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        at=at,
        kind=kind,
        actor_id=actor_id,
        actor_name=actor_name,
        from_status=from_status,
        to_status=to_status,
        from_level=from_level,
        to_level=to_level,
        unit_id=unit_id,
        note=note,
    )
    session.add(event)
    return event


async def get_case(session: AsyncSession, case_id: int) -> Case | None:
    # populate_existing: a guarded update bypasses the identity map, so re-read from the row.
    stmt = select(Case).where(Case.id == case_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_case_by_number(session: AsyncSession, number: str) -> Case | None:
    stmt = select(Case).where(Case.number == number.upper())
    return (await session.execute(stmt)).scalar_one_or_none()


async def timeline(session: AsyncSession, case_id: int) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    return list((await session.execute(stmt)).scalars())


async def pending_deadlines(session: AsyncSession) -> list[tuple[int, datetime]]:
    """Every case with something pending (a reminder or a deadline): what the deadline
    index is rebuilt from."""
    stmt = select(Case.id, Case.next_due_at).where(Case.next_due_at.is_not(None))
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all() if row[1] is not None]


async def due_case_ids(session: AsyncSession, now: datetime, limit: int = 500) -> list[int]:
    stmt = select(Case.id).where(Case.next_due_at <= now).order_by(Case.next_due_at).limit(limit)
    return list((await session.execute(stmt)).scalars())
