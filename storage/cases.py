"""The case repository: numbering, guarded transitions and the event log.

A transition is `guarded_update` + `add_event` (+ outbox rows) in one transaction: the update
only applies to the version and status the caller read, so a racing worker changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
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


async def last_event_of(
    session: AsyncSession, case_id: int, kinds: Collection[str]
) -> tuple[str, str | None] | None:
    """The kind and note of the case's newest event among `kinds`, if any."""
    stmt = (
        select(CaseEvent.kind, CaseEvent.note)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(list(kinds)))
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (str(row.kind), row.note)


async def recent_in_grid(
    session: AsyncSession, grid_id: str, statuses: Collection[str], since: datetime
) -> list[Case]:
    """A grid's cases in `statuses` filed since `since`, oldest first: what a new report
    may be a duplicate of."""
    stmt = (
        select(Case)
        .where(
            Case.grid_id == grid_id,
            Case.status.in_(list(statuses)),
            Case.created_at >= since,
        )
        .order_by(Case.id)
    )
    return list((await session.execute(stmt)).scalars())


async def open_or_new_with_last_event(
    session: AsyncSession,
    open_statuses: Collection[str],
    since: datetime,
    not_cases: Collection[str],
) -> list[tuple[Case, datetime | None]]:
    """Every case in `open_statuses`, or filed since `since` (and not in `not_cases`), with
    the time of its newest event: the digest's candidates."""
    last_event = (
        select(CaseEvent.case_id, func.max(CaseEvent.at).label("last_at"))
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    stmt = (
        select(Case, last_event.c.last_at)
        .outerjoin(last_event, last_event.c.case_id == Case.id)
        .where(
            (Case.status.in_(list(open_statuses)))
            | ((Case.created_at >= since) & Case.status.not_in(list(not_cases)))
        )
        .order_by(Case.id)
    )
    return [(case, last_at) for case, last_at in (await session.execute(stmt)).all()]


async def cases_with_event(
    session: AsyncSession, statuses: Collection[str], kinds: Collection[str], notes: Collection[str]
) -> set[int]:
    """Cases in `statuses` that have an event of one of `kinds` with one of `notes`."""
    stmt = (
        select(CaseEvent.case_id)
        .where(
            CaseEvent.kind.in_(list(kinds)),
            CaseEvent.note.in_(list(notes)),
            CaseEvent.case_id.in_(select(Case.id).where(Case.status.in_(list(statuses)))),
        )
        .distinct()
    )
    return set((await session.execute(stmt)).scalars())
