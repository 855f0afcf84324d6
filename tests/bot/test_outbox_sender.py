"""The outbox sender on real databases with a fake transport: splitting, retries, limits."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_sender import OutboxSender, SendLimits
from escalation.clock import FakeClock
from storage.models import Outbox
from storage.outbox import OutgoingMessage, enqueue
from tests.fakes import FakeTransport, PermanentError, RetryAfter, TransientError

GROUP = -1001003


async def put(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, **kw: object) -> None:
    defaults: dict[str, object] = {"key": "k1", "chat_id": GROUP, "text": "hello"}
    defaults.update(kw)
    async with sessions() as session, session.begin():
        await enqueue(session, OutgoingMessage(**defaults), clock.now())  # type: ignore[arg-type]


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with sessions() as session:
        return list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def test_long_message_is_sent_in_parts_and_a_retry_skips_parts_already_sent(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = OutboxSender(sessions, transport, clock, SendLimits.unlimited())
    text = "\n".join(f"第{i}行 路灯坏了三天" for i in range(1000))
    await put(sessions, clock, text=text, buttons=[[("接单", "c:1:ack")]], reply_to_message_id=9)
    # Part 1 goes, part 2 hits a server error.
    original = transport.send_text
    calls = 0

    async def flaky(*args: object, **kw: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise TransientError("502 Bad Gateway")
        return await original(*args, **kw)  # type: ignore[arg-type]

    transport.send_text = flaky  # type: ignore[method-assign]
    await sender.drain()
    assert len(transport.sent) == 1
    [row] = await rows(sessions)
    assert (row.status, len(row.platform_message_ids)) == ("pending", 1)

    clock.advance(timedelta(seconds=1))
    await sender.drain()
    parts = [s.text for s in transport.sent]
    assert "\n".join(parts) == text and all(len(p) <= 4096 for p in parts)
    assert transport.sent[0].reply_to_message_id == 9
    assert [s.buttons for s in transport.sent[:-1]] == [[]] * (len(parts) - 1)
    assert transport.sent[-1].buttons == [[("接单", "c:1:ack")]]
    [row] = await rows(sessions)
    assert row.status == "sent" and row.platform_message_ids == list(range(1, len(parts) + 1))


async def test_retry_after_waits_on_the_clock(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    transport.fail(RetryAfter(30))
    sender = OutboxSender(sessions, transport, clock, SendLimits.unlimited())
    await put(sessions, clock)
    await sender.drain()
    assert transport.sent == []
    clock.advance(timedelta(seconds=29))
    await sender.drain()
    assert transport.sent == []
    clock.advance(timedelta(seconds=1))
    await sender.drain()
    assert [s.text for s in transport.sent] == ["hello"]


async def test_permanent_failure_is_recorded_and_not_retried(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    transport.fail(PermanentError("Forbidden: bot was kicked from the supergroup chat"))
    sender = OutboxSender(sessions, transport, clock, SendLimits.unlimited())
    await put(sessions, clock)
    await sender.drain()
    clock.advance(timedelta(hours=1))
    await sender.drain()
    [row] = await rows(sessions)
    assert row.status == "failed" and "kicked" in (row.last_error or "")
    assert transport.sent == []


async def test_transient_failures_give_up_after_max_attempts(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    transport.fail(*[TransientError("timeout") for _ in range(3)])
    sender = OutboxSender(sessions, transport, clock, SendLimits.unlimited(), max_attempts=3)
    await put(sessions, clock)
    for _ in range(4):
        await sender.drain()
        clock.advance(timedelta(minutes=5))
    [row] = await rows(sessions)
    assert row.status == "failed" and row.attempts == 3


async def test_group_pacing_spaces_messages_to_one_chat(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = OutboxSender(sessions, transport, clock, SendLimits())
    for i in range(3):
        await put(sessions, clock, key=f"k{i}", text=f"m{i}")
    await put(sessions, clock, key="private", chat_id=7001, text="to a person")
    await sender.drain()
    assert [s.text for s in transport.sent] == ["m0", "to a person"]
    clock.advance(timedelta(seconds=3))  # 20 messages a minute in a group
    await sender.drain()
    assert [s.text for s in transport.sent][-1] == "m1"
    clock.advance(timedelta(seconds=3))
    await sender.drain()
    assert [s.text for s in transport.sent] == ["m0", "to a person", "m1", "m2"]


async def test_a_photo_goes_with_its_caption_and_a_long_caption_follows_as_text(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = OutboxSender(sessions, transport, clock, SendLimits.unlimited())
    png = b"\x89PNG\r\n\x1a\n chart"
    await put(sessions, clock, key="p1", text="<b>近7天</b> 指标", photo=png)
    long_caption = "\n".join(f"第{i}行" for i in range(400))  # ~2,400 characters
    await put(sessions, clock, key="p2", text=long_caption, photo=png)
    await sender.drain()
    first, *rest = transport.sent
    assert (first.photo, first.text) == (png, "<b>近7天</b> 指标")
    assert rest[0].photo == png and len(rest[0].text) <= 1024
    assert all(s.photo is None for s in rest[1:])
    assert "\n".join(s.text for s in rest) == long_caption
    assert [r.status for r in await rows(sessions)] == ["sent", "sent"]
    assert [r.kind for r in await rows(sessions)] == ["photo", "photo"]


async def test_a_sender_that_dies_after_telegram_answered_is_repeated_only_after_its_lease(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """At least once: Telegram cannot be asked whether a message arrived, so a row whose
    sender died mid-send is sent again — but not before the dead sender's lease runs out,
    which is what `GRIDCALL_OUTBOX_LEASE` sets."""
    transport = FakeTransport()
    lease = timedelta(minutes=10)
    await put(sessions, clock, text="路灯坏了三天")
    original = transport.send_text

    async def answered_then_killed(*args: object, **kw: object) -> int:
        await original(*args, **kw)  # type: ignore[arg-type]
        raise asyncio.CancelledError  # the process dies before recording the answer

    transport.send_text = answered_then_killed  # type: ignore[method-assign]
    dying = OutboxSender(sessions, transport, clock, SendLimits.unlimited(), lease=lease)
    with pytest.raises(asyncio.CancelledError):
        await dying.drain()
    [row] = await rows(sessions)
    assert (row.status, row.platform_message_ids) == ("sending", [])

    transport.send_text = original  # type: ignore[method-assign]
    restarted = OutboxSender(sessions, transport, clock, SendLimits.unlimited(), lease=lease)
    clock.advance(lease - timedelta(seconds=1))
    await restarted.drain()
    assert [s.text for s in transport.sent] == ["路灯坏了三天"]

    clock.advance(timedelta(seconds=1))
    await restarted.drain()
    assert [s.text for s in transport.sent] == ["路灯坏了三天", "路灯坏了三天"]
    [row] = await rows(sessions)
    assert (row.status, row.platform_message_ids, row.attempts) == ("sent", [2], 2)
