"""Periodic jobs claimed by period: a `JobRun` row per (job, period) is the claim.

Several workers, or one that restarted, may all decide the morning digest is due; the first
to insert the row does the job — in the same transaction as its outbox rows — and everyone
else's insert does nothing. If that transaction fails, the claim is rolled back with it and
the job is still due.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import JobRun


async def claim_period(session: AsyncSession, name: str, period: str, now: datetime) -> bool:
    """Insert the (name, period) row; False if someone already did (ON CONFLICT DO NOTHING:
    the transaction stays usable on PostgreSQL, and a concurrent claimer waits for ours)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(JobRun).values(name=name, period=period, at=now).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]
