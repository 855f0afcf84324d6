"""What the bot waits for from one person in one chat (a note, a reason, a place).

One row per (chat, person): a new question replaces the old one, and the row lives in the
database so that a restart between the question and the answer loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


async def waiting(
    session: AsyncSession, chat_id: int, user_id: int, action: str | None = None
) -> Conversation | None:
    """The question this person has open in this chat (only if it is `action`, when given)."""
    stmt = select(Conversation).where(
        Conversation.chat_id == chat_id, Conversation.user_id == user_id
    )
    if action is not None:
        stmt = stmt.where(Conversation.action == action)
    return (await session.execute(stmt)).scalar_one_or_none()


async def forget(session: AsyncSession, chat_id: int, user_id: int) -> bool:
    """Drop the open question; False if there was none."""
    result = await session.execute(
        delete(Conversation).where(Conversation.chat_id == chat_id, Conversation.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def ask(
    session: AsyncSession,
    chat_id: int,
    user_id: int,
    action: str,
    expires_at: datetime,
    *,
    case_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Open a question, replacing any earlier one of this person in this chat."""
    await forget(session, chat_id, user_id)
    session.add(
        Conversation(
            chat_id=chat_id,
            user_id=user_id,
            action=action,
            case_id=case_id,
            payload=payload or {},
            expires_at=expires_at,
        )
    )
