"""Writing to and claiming from the outbox.

Messages are rows written in the transaction that caused them; a sender claims a row with a
guarded update (so two senders never take the same one), delivers it, and records the
platform's message id so later edits can find it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox

Button = tuple[str, str]  # (label, callback data)


@dataclass(frozen=True)
class OutgoingMessage:
    """A message the domain wants delivered; `key` makes it idempotent."""

    key: str
    chat_id: int
    text: str
    buttons: Sequence[Sequence[Button]] = field(default_factory=tuple)
    reply_to_message_id: int | None = None
    edit_message_id: int | None = None
    force_reply: bool = False
    case_id: int | None = None


async def enqueue(session: AsyncSession, message: OutgoingMessage, now: datetime) -> None:
    """Insert unless a message with the same key exists; never raises on a duplicate, so the
    surrounding transaction stays usable on PostgreSQL."""
    values = {
        "dedupe_key": message.key,
        "created_at": now,
        "chat_id": message.chat_id,
        "kind": "edit" if message.edit_message_id else "send",
        "text": message.text,
        "buttons": [[list(b) for b in row] for row in message.buttons],
        "force_reply": message.force_reply,
        "reply_to_message_id": message.reply_to_message_id,
        "edit_message_id": message.edit_message_id,
        "case_id": message.case_id,
        "status": "pending",
        "attempts": 0,
        "not_before": now,
        "platform_message_ids": [],
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Outbox).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    await session.execute(stmt)


async def due_ids(session: AsyncSession, now: datetime, limit: int = 100) -> list[int]:
    """Rows ready to send: pending and due, or claimed by a sender whose lease ran out."""
    stmt = (
        select(Outbox.id)
        .where(
            or_(
                and_(Outbox.status == "pending", Outbox.not_before <= now),
                and_(Outbox.status == "sending", Outbox.claimed_until <= now),
            )
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def next_due_at(session: AsyncSession) -> datetime | None:
    stmt = select(Outbox.not_before).where(Outbox.status == "pending").order_by(Outbox.not_before)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def claim(session: AsyncSession, row_id: int, now: datetime, lease: timedelta) -> bool:
    stmt = (
        update(Outbox)
        .where(
            Outbox.id == row_id,
            or_(
                and_(Outbox.status == "pending", Outbox.not_before <= now),
                and_(Outbox.status == "sending", Outbox.claimed_until <= now),
            ),
        )
        .values(status="sending", claimed_until=now + lease, attempts=Outbox.attempts + 1)
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def pending_count(session: AsyncSession) -> int:
    stmt = select(Outbox.id).where(Outbox.status.in_(("pending", "sending")))
    return len(list((await session.execute(stmt)).scalars()))
