"""Writing to and claiming from the outbox.

Messages are rows written in the transaction that caused them; a sender claims a row with a
guarded update (so two senders never take the same one), delivers it, and records the
platform's message id so later edits can find it.

Bundles (see bot/outbox_sender.py) live here too: a bundle is an outbox row of kind
"bundle" whose members are ordinary rows moved, by one guarded update, from "pending" to
"bundled" — so a row is either sent on its own or delivered through exactly one bundle,
never both, whatever several senders do at once.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Outbox

Button = tuple[str, str]  # (label, callback data)

#: How much of a report a bundle line quotes.
EXCERPT = 24


@dataclass(frozen=True)
class OutgoingMessage:
    """A message the domain wants delivered; `key` makes it idempotent.

    `bundle_line` (one short HTML line) lets the sender deliver the message as a line of a
    bundle when its chat is flooded; `bundle_button` is the button that line gets. Without
    a line (None or empty) the message is never bundled; handlers/notify.card_message
    gives a case card both.
    """

    key: str
    chat_id: int
    text: str
    buttons: Sequence[Sequence[Button]] = field(default_factory=tuple)
    reply_to_message_id: int | None = None
    edit_message_id: int | None = None
    force_reply: bool = False
    case_id: int | None = None
    bundle_line: str | None = None
    bundle_button: Button | None = None
    # What the line stands for in a bundle's header: "call", "alert" or "receipt"; a line
    # with a button is a call, one without an alert, unless said otherwise.
    bundle_kind: str | None = None
    # A picture (PNG or JPEG bytes: a /stats chart); `text` is then its caption.
    photo: bytes | None = None


def excerpt(text: str, limit: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_TAGS = re.compile(r"<(/?)([a-z]+)[^>]*>")


def line_kind(kind: str | None, button: Sequence[str] | None) -> str:
    """What a bundle line stands for, when not said: a line with a button is a call (a
    case card), one without an alert (rows stored before kinds were kept have none)."""
    return kind or ("call" if button else "alert")


def _bundle_fields(message: OutgoingMessage) -> tuple[str | None, list[str] | None, str | None]:
    """The bundle line, button and kind a message was given, or none: a message is only
    ever bundled as its sender described it (storage does not read rendered text)."""
    line, button = message.bundle_line, message.bundle_button
    if not line or message.edit_message_id is not None or message.photo:
        return None, None, None
    return (
        line,
        list(button) if button is not None else None,
        line_kind(message.bundle_kind, button),
    )


def _content(message: OutgoingMessage) -> dict[str, Any]:
    """What a row shows: its kind, text, buttons and picture."""
    return {
        "kind": "edit" if message.edit_message_id else "photo" if message.photo else "send",
        "text": message.text,
        "buttons": [[list(b) for b in row] for row in message.buttons],
        "photo": message.photo,
    }


@runtime_checkable
class RowRecorder(Protocol):
    """A stand-in session that keeps outbox rows instead of inserting them.

    escalation/batch plans a thousand deadlines on one (see its `_PlanningSession`), then
    inserts the rows of the cases whose guarded update won, in bulk. `enqueue` hands such a
    session the row it would have inserted: the same values, so nothing can drift.
    """

    def record_outbox(self, row: dict[str, Any]) -> None: ...


def outbox_row(
    message: OutgoingMessage, now: datetime, not_before: datetime | None = None
) -> dict[str, Any]:
    """The outbox row for `message`, pending and due at once unless `not_before`."""
    bundle_line, bundle_button, bundle_kind = _bundle_fields(message)
    return {
        "dedupe_key": message.key,
        "created_at": now,
        "chat_id": message.chat_id,
        **_content(message),
        "force_reply": message.force_reply,
        "reply_to_message_id": message.reply_to_message_id,
        "edit_message_id": message.edit_message_id,
        "case_id": message.case_id,
        "status": "pending",
        "attempts": 0,
        "not_before": not_before or now,
        "platform_message_ids": [],
        "bundle_line": bundle_line,
        "bundle_button": bundle_button,
        "bundle_kind": bundle_kind,
        "bundle_rev": 0,
        "bundle_open": False,
    }


async def enqueue(
    session: AsyncSession,
    message: OutgoingMessage,
    now: datetime,
    *,
    not_before: datetime | None = None,
) -> None:
    """Insert unless a message with the same key exists; never raises on a duplicate, so the
    surrounding transaction stays usable on PostgreSQL. Due at once unless `not_before`."""
    row = outbox_row(message, now, not_before)
    if isinstance(session, RowRecorder):
        session.record_outbox(row)
        return
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Outbox).values(**row).on_conflict_do_nothing(index_elements=["dedupe_key"])
    await session.execute(stmt)


async def rows_of_case(session: AsyncSession, case_id: int, chat_id: int) -> list[Outbox]:
    """A case's rows for one chat, newest first."""
    stmt = (
        select(Outbox)
        .where(Outbox.case_id == case_id, Outbox.chat_id == chat_id)
        .order_by(Outbox.id.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def rewrite_pending(
    session: AsyncSession, row_id: int, text: str, buttons: Sequence[Sequence[Button]]
) -> None:
    """Change what a row not yet sent will show (it then goes out up to date)."""
    await session.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == "pending")
        .values(text=text, buttons=[[list(b) for b in line] for line in buttons])
        .execution_options(synchronize_session=False)
    )


async def message_ids_with_key(session: AsyncSession, chat_id: int, pattern: str) -> set[int]:
    """The platform message ids of a chat's rows whose key matches the LIKE `pattern`."""
    stmt = select(Outbox.platform_message_ids).where(
        Outbox.chat_id == chat_id, Outbox.dedupe_key.like(pattern)
    )
    return {int(i) for ids in (await session.execute(stmt)).scalars() for i in ids or []}


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending and due, or claimed by a sender whose lease ran out."""
    return or_(
        and_(Outbox.status == "pending", Outbox.not_before <= now),
        and_(Outbox.status == "sending", Outbox.claimed_until <= now),
    )


async def due_ids(session: AsyncSession, now: datetime, limit: int = 100) -> list[int]:
    """Rows ready to send: pending and due, or claimed by a sender whose lease ran out."""
    stmt = select(Outbox.id).where(_due(now)).order_by(Outbox.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def due_chats(session: AsyncSession, now: datetime, limit: int = 1000) -> list[int]:
    """Chats with something ready to send, the longest-waiting first.

    The sender walks chats, not rows: a chat that must wait for its pacing is skipped as a
    whole, so 10,000 rows for a few paced chats never hide the chats that could go now.
    """
    first = func.min(Outbox.id)
    stmt = (
        select(Outbox.chat_id)
        .where(_due(now))
        .group_by(Outbox.chat_id)
        .order_by(first)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def due_rows(
    session: AsyncSession, chat_id: int, now: datetime, limit: int = 100
) -> list[Outbox]:
    """One chat's rows ready to send, oldest first."""
    stmt = (
        select(Outbox).where(Outbox.chat_id == chat_id, _due(now)).order_by(Outbox.id).limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def next_due_at(session: AsyncSession, after: datetime | None = None) -> datetime | None:
    """The earliest `not_before` of a pending row (later than `after`, if given)."""
    stmt = select(func.min(Outbox.not_before)).where(Outbox.status == "pending")
    if after is not None:
        stmt = stmt.where(Outbox.not_before > after)
    result: datetime | None = (await session.execute(stmt)).scalar_one_or_none()
    return result


async def claim(session: AsyncSession, row_id: int, now: datetime, lease: timedelta) -> bool:
    stmt = (
        update(Outbox)
        .where(Outbox.id == row_id, _due(now))
        .values(status="sending", claimed_until=now + lease, attempts=Outbox.attempts + 1)
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(session: AsyncSession, row_id: int, not_before: datetime) -> None:
    """Give a claimed row back because its chat must wait: not a failed attempt."""
    await session.execute(
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.status == "sending")
        .values(
            status="pending",
            not_before=not_before,
            claimed_until=None,
            attempts=case((Outbox.attempts > 0, Outbox.attempts - 1), else_=0),
        )
    )


async def replace_pending(session: AsyncSession, message: OutgoingMessage, now: datetime) -> bool:
    """Put `message` in the place of the one still waiting under its key, due now (a
    stand-in reply giving way to the real one); False if that one is no longer waiting."""
    stmt = (
        update(Outbox)
        .where(Outbox.dedupe_key == message.key, Outbox.status == "pending")
        .values(**_content(message), not_before=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def drop_pending(session: AsyncSession, chat_id: int, reason: str) -> int:
    """Give up on the messages waiting for a chat that can no longer be written to, other
    than case cards (each of those is failed on its own, so that its case moves on)."""
    stmt = (
        update(Outbox)
        .where(
            Outbox.chat_id == chat_id,
            Outbox.status == "pending",
            Outbox.case_id.is_(None),
        )
        .values(status="failed", last_error=reason)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def pending_count(session: AsyncSession) -> int:
    stmt = select(func.count(Outbox.id)).where(Outbox.status.in_(("pending", "sending")))
    return int((await session.execute(stmt)).scalar_one())


# -- bundles ---------------------------------------------------------------------------------


async def lock(session: AsyncSession, row_id: int) -> Outbox | None:
    """Read a row for update: on PostgreSQL two senders changing one bundle take turns
    (SQLite serialises writers anyway)."""
    stmt = select(Outbox).where(Outbox.id == row_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_bundle(session: AsyncSession, chat_id: int) -> Outbox | None:
    """The chat's bundle that rows may still be appended to, if any."""
    stmt = (
        select(Outbox)
        .where(Outbox.chat_id == chat_id, Outbox.kind == "bundle", Outbox.bundle_open)
        .order_by(Outbox.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def bundle_with_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> Outbox | None:
    """The bundle shown as `message_id` in `chat_id` (an edit aimed at it must not replace
    the whole list with one card)."""
    stmt = select(Outbox).where(
        Outbox.chat_id == chat_id, Outbox.kind == "bundle", Outbox.edit_message_id == message_id
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def members(session: AsyncSession, bundle_id: int) -> list[Outbox]:
    stmt = select(Outbox).where(Outbox.bundle_id == bundle_id).order_by(Outbox.id)
    return list((await session.execute(stmt)).scalars())


def new_bundle(chat_id: int, now: datetime, lease: timedelta) -> Outbox:
    """A bundle row, already claimed by the sender creating it."""
    return Outbox(
        dedupe_key=f"bundle:{chat_id}:{uuid.uuid4().hex}",
        created_at=now,
        chat_id=chat_id,
        kind="bundle",
        text="",
        buttons=[],
        force_reply=False,
        status="sending",
        attempts=1,
        not_before=now,
        claimed_until=now + lease,
        platform_message_ids=[],
        bundle_rev=1,
        bundle_open=True,
    )


async def gather(
    session: AsyncSession, bundle_id: int, row_ids: Sequence[int], now: datetime
) -> list[int]:
    """Move pending, due rows into a bundle; returns the ids that moved (a row another
    sender took meanwhile is left alone)."""
    if not row_ids:
        return []
    stmt = (
        update(Outbox)
        .where(
            Outbox.id.in_(list(row_ids)),
            Outbox.status == "pending",
            Outbox.not_before <= now,
            Outbox.bundle_line.is_not(None),
        )
        .values(status="bundled", bundle_id=bundle_id, claimed_until=None, last_error=None)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return sorted((await session.execute(stmt)).scalars())


async def mark_shown(
    session: AsyncSession, bundle_id: int, member_ids: Sequence[int], now: datetime
) -> int:
    """Members seen for the first time in a delivered bundle: that is when they were sent."""
    if not member_ids:
        return 0
    stmt = (
        update(Outbox)
        .where(
            Outbox.bundle_id == bundle_id,
            Outbox.id.in_(list(member_ids)),
            Outbox.sent_at.is_(None),
        )
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def close_bundles(session: AsyncSession, chat_id: int, keep: int | None = None) -> None:
    """A new message went to the chat: older bundles are no longer its newest message, so
    editing them would add cases where nobody looks."""
    stmt = update(Outbox).where(
        Outbox.chat_id == chat_id, Outbox.kind == "bundle", Outbox.bundle_open
    )
    if keep is not None:
        stmt = stmt.where(Outbox.id != keep)
    await session.execute(
        stmt.values(bundle_open=False).execution_options(synchronize_session=False)
    )


def touch_bundle(bundle: Outbox, now: datetime) -> None:
    """The bundle's content changed: bump its revision and, if it was delivered, make it
    due again. A bundle a sender holds right now stays with that sender, which sees the new
    revision when it finishes; a pending one keeps its time (a 429 wait still applies)."""
    bundle.bundle_rev += 1
    if bundle.status == "sent":
        bundle.status = "pending"
        bundle.not_before = now


async def pull_out(session: AsyncSession, bundle_id: int, case_id: int, now: datetime) -> bool:
    """The case was taken from the bundle (its card now stands on its own): its line gets
    a ✅ and loses its button. Returns whether the bundle changed."""
    bundle = await lock(session, bundle_id)
    if bundle is None:
        return False
    changed = False
    for row in await members(session, bundle_id):
        if row.case_id == case_id and row.bundle_button is not None:
            row.bundle_button = None
            row.bundle_line = f"✅ {row.bundle_line or ''}"
            changed = True
    if changed:
        touch_bundle(bundle, now)
    return changed


async def fail_members(
    session: AsyncSession, bundle_id: int, error: str
) -> list[tuple[int, int | None]]:
    """A bundle that will never arrive takes the members nobody has seen with it (those
    shown by an earlier delivery did arrive); returns their (row, case)."""
    rows = [
        m for m in await members(session, bundle_id) if m.status == "bundled" and m.sent_at is None
    ]
    for row in rows:
        row.status = "failed"
        row.last_error = error
    return [(row.id, row.case_id) for row in rows]


def plain_length(line: str) -> int:
    """What Telegram counts against its 4096 characters: text without tags, entities
    decoded."""
    return len(html.unescape(_TAGS.sub("", line)))


def as_buttons(value: Any) -> Button | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        return (str(value[0]), str(value[1]))
    return None
