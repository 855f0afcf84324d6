"""Which platform updates were already handled: the row is written in the same transaction
as the update's effects, so a redelivered update (to this worker or another) changes
nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate


async def first_delivery(
    session: AsyncSession, platform: str, update_id: int, at: datetime
) -> bool:
    """Record the update; False if it was already recorded (nothing else to do then)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(ProcessedUpdate)
        .values(platform=platform, update_id=update_id, at=at)
        .on_conflict_do_nothing()
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]
