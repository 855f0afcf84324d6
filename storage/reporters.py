"""Who reported a case: the first reporter and every neighbour merged into it, each with
their own words, in the order they wrote."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Case, CaseReporter


async def reports_of(
    session: AsyncSession, case_id: int, *, by_time: bool = False
) -> list[CaseReporter]:
    """Every report of a case in the order stored, or (`by_time`) in the order written: a
    report merged by hand keeps the time its resident wrote it."""
    order = (CaseReporter.at, CaseReporter.id) if by_time else (CaseReporter.id,)
    stmt = select(CaseReporter).where(CaseReporter.case_id == case_id).order_by(*order)
    return list((await session.execute(stmt)).scalars())


async def has_reported(session: AsyncSession, case_id: int, reporter_id: int) -> bool:
    """Whether this person is already among the case's reporters."""
    stmt = select(CaseReporter.id).where(
        CaseReporter.case_id == case_id, CaseReporter.reporter_id == reporter_id
    )
    return (await session.execute(stmt.limit(1))).first() is not None


async def reports_by_case(
    session: AsyncSession, case_ids: Collection[int]
) -> dict[int, list[CaseReporter]]:
    """The reports of several cases at once, each case's in the order they were stored."""
    if not case_ids:
        return {}
    stmt = (
        select(CaseReporter)
        .where(CaseReporter.case_id.in_(list(case_ids)))
        .order_by(CaseReporter.id)
    )
    out: dict[int, list[CaseReporter]] = {}
    for row in (await session.execute(stmt)).scalars():
        out.setdefault(row.case_id, []).append(row)
    return out


async def reporter_ids(session: AsyncSession, case_id: int) -> set[int]:
    """The people who reported a case: those who may judge its result."""
    stmt = select(CaseReporter.reporter_id).where(CaseReporter.case_id == case_id)
    return set((await session.execute(stmt)).scalars())


async def cases_reported_by(session: AsyncSession, reporter_id: int, limit: int) -> list[Case]:
    """A resident's own cases (filed or joined), newest first."""
    stmt = (
        select(Case)
        .join(CaseReporter, CaseReporter.case_id == Case.id)
        .where(CaseReporter.reporter_id == reporter_id)
        .order_by(Case.id.desc())
        .limit(limit)
    )
    return list(dict.fromkeys((await session.execute(stmt)).scalars()))
