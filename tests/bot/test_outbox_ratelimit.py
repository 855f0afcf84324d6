"""Telegram's limits in one process and shared through real Redis; what happens when Redis
goes away; and the failure hook with its "unreachable" distinction."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import SendMessage, TelegramMethod
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_sender import FailedDelivery, OutboxSender, SendLimits
from bot.ratelimit import FailoverRateLimiter, MemoryRateLimiter, RedisRateLimiter
from bot.telegram.transport import translated
from escalation.clock import FakeClock
from storage.models import Outbox
from storage.outbox import OutgoingMessage, enqueue
from tests.fakes import FakeTransport, PermanentError, TransientError

GROUP = -1001003
CLOSED_PORT = "redis://127.0.0.1:1/0"


async def put(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, key: str, chat_id: int = GROUP
) -> None:
    async with sessions() as session, session.begin():
        message = OutgoingMessage(key=key, chat_id=chat_id, text=key, case_id=42)
        await enqueue(session, message, clock.now())


def texts(transport: FakeTransport) -> list[str]:
    return [s.text for s in transport.sent]


async def test_memory_limiter_spaces_chats_and_counts_from_when_a_send_finished(
    clock: FakeClock,
) -> None:
    limiter = MemoryRateLimiter(SendLimits(global_per_second=2))
    t0 = clock.now()
    first = await limiter.acquire(7001, t0)
    assert first.granted
    refused = await limiter.acquire(7001, t0)
    assert (refused.granted, refused.scope, refused.at) == (
        False,
        "chat",
        t0 + timedelta(seconds=1),
    )
    assert (await limiter.acquire(-1001, t0)).granted
    full = await limiter.acquire(7003, t0)
    assert (full.granted, full.scope, full.at) == (False, "global", t0 + timedelta(seconds=1))
    assert (await limiter.acquire(-1001, t0 + timedelta(seconds=2))).at == t0 + timedelta(
        seconds=3
    ), "a group waits 3 s"

    await limiter.block(7004, t0 + timedelta(seconds=30))
    assert (await limiter.acquire(7004, t0 + timedelta(seconds=29))).at == t0 + timedelta(
        seconds=30
    )


async def test_memory_limiter_counts_a_message_from_when_its_request_finished(
    clock: FakeClock,
) -> None:
    """The server counted the message somewhere during the request: spacing the next one
    from the answer keeps us at least as strict as the server, whatever the latency."""
    limiter = MemoryRateLimiter(SendLimits(global_per_second=1))
    t0 = clock.now()
    first = await limiter.acquire(7001, t0)
    await limiter.settle(first, t0 + timedelta(milliseconds=500))
    later = t0 + timedelta(milliseconds=1200)
    still = await limiter.acquire(7003, later)
    assert (still.granted, still.scope, still.at) == (
        False,
        "global",
        t0 + timedelta(milliseconds=1500),
    )
    chat = await limiter.acquire(7001, later)
    assert (chat.granted, chat.at) == (False, t0 + timedelta(milliseconds=1500))
    assert (await limiter.acquire(7003, t0 + timedelta(milliseconds=1500))).granted


def shared_sender(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    redis: Redis,
    limits: SendLimits,
) -> tuple[OutboxSender, FakeTransport]:
    transport = FakeTransport()
    sender = OutboxSender(sessions, transport, clock, limits)
    sender.use_redis(redis, bot=123456, prefix=redis.test_prefix)  # type: ignore[attr-defined]
    return sender, transport


async def test_redis_shares_pacing_between_two_senders(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, redis: Redis
) -> None:
    a, sent_by_a = shared_sender(sessions, clock, redis, SendLimits())
    b, sent_by_b = shared_sender(sessions, clock, redis, SendLimits())
    await put(sessions, clock, "m0")
    await put(sessions, clock, "m1")
    await a.drain()
    await b.drain()  # b never sent to this chat itself: only Redis can tell it to wait
    assert (texts(sent_by_a), texts(sent_by_b)) == (["m0"], [])
    clock.advance(timedelta(seconds=3))
    await b.drain()
    await a.drain()
    assert (texts(sent_by_a), texts(sent_by_b)) == (["m0"], ["m1"])
    assert a.redis_fallbacks == b.redis_fallbacks == 0


async def test_redis_shares_the_overall_allowance(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, redis: Redis
) -> None:
    limits = SendLimits(private_interval=0.0, global_per_second=2)
    a, sent_by_a = shared_sender(sessions, clock, redis, limits)
    b, sent_by_b = shared_sender(sessions, clock, redis, limits)
    for i, chat in enumerate((7001, 7002, 7003)):
        await put(sessions, clock, f"p{i}", chat)
    await a.drain()  # p0 and p1 to two people, then the bot's second is full
    await b.drain()
    assert (texts(sent_by_a), texts(sent_by_b)) == (["p0", "p1"], [])
    clock.advance(timedelta(seconds=1))
    await b.drain()
    assert texts(sent_by_b) == ["p2"]


async def test_redis_down_falls_back_counts_it_still_paces_and_comes_back(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    redis: Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = Redis.from_url(CLOSED_PORT)
    try:
        transport = FakeTransport()
        sender = OutboxSender(sessions, transport, clock, SendLimits())
        sender.use_redis(dead, bot=123456, prefix=redis.test_prefix)  # type: ignore[attr-defined]
        for i in range(3):
            await put(sessions, clock, f"m{i}")
        with caplog.at_level(logging.WARNING, logger="bot.ratelimit"):
            await sender.drain()
            await sender.drain()
            clock.advance(timedelta(seconds=1))
            await sender.drain()
        assert texts(transport) == ["m0"], "the in-process limiter still paces the group"
        assert sender.redis_fallbacks == 1
        warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
        assert len(warnings) == 1, "one warning per outage"

        clock.advance(timedelta(seconds=2))
        await sender.drain()
        assert texts(transport) == ["m0", "m1"]

        # Redis answers again: the next decision after the retry interval goes through it.
        limiter = sender.limiter
        assert isinstance(limiter, FailoverRateLimiter) and limiter.down
        limiter.primary.redis = redis
        clock.advance(timedelta(seconds=5))
        await sender.drain()
        assert texts(transport) == ["m0", "m1", "m2"]
        assert not limiter.down and sender.redis_fallbacks == 1
        assert await redis.exists(limiter.primary.chat_key(GROUP))
    finally:
        await dead.aclose()


async def test_redis_limiter_refuses_with_the_time_to_come_back(
    clock: FakeClock, redis: Redis
) -> None:
    limiter = RedisRateLimiter(
        redis,
        SendLimits(global_per_second=1),
        bot=99,
        prefix=redis.test_prefix,  # type: ignore[attr-defined]
    )
    t0 = clock.now()
    slot = await limiter.acquire(-1, t0)
    assert slot.granted and slot.source == "redis"
    again = await limiter.acquire(-1, t0)
    assert (again.granted, again.scope, again.at) == (False, "chat", t0 + timedelta(seconds=3))
    other = await limiter.acquire(-2, t0)
    assert (other.granted, other.scope, other.at) == (False, "global", t0 + timedelta(seconds=1))
    await limiter.settle(slot, t0 + timedelta(milliseconds=400))
    moved = await limiter.acquire(-2, t0 + timedelta(seconds=1))
    assert (moved.granted, moved.at) == (False, t0 + timedelta(milliseconds=1400))
    await limiter.block(-3, t0 + timedelta(seconds=20))
    blocked = await limiter.acquire(-3, t0 + timedelta(seconds=2))
    assert (blocked.scope, blocked.at) == ("chat", t0 + timedelta(seconds=20))


async def test_on_failed_hears_of_a_chat_the_bot_was_removed_from(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    heard: list[tuple[FailedDelivery, str]] = []

    async def on_failed(failed: FailedDelivery) -> None:
        async with sessions() as session:
            row = await session.get(Outbox, failed.row_id)
        assert row is not None
        heard.append((failed, row.status))

    transport = FakeTransport()
    transport.fail(
        PermanentError("Forbidden: bot was kicked from the supergroup chat", unreachable=True),
        PermanentError("Bad Request: can't parse entities"),
    )
    sender = OutboxSender(sessions, transport, clock, SendLimits.unlimited(), on_failed=on_failed)
    await put(sessions, clock, "kicked")
    await put(sessions, clock, "malformed", chat_id=7001)
    await sender.drain()
    async with sessions() as session:
        ids = list((await session.execute(select(Outbox.id).order_by(Outbox.id))).scalars())
    assert [(f, status) for f, status in heard] == [
        (
            FailedDelivery(
                ids[0], GROUP, 42, "Forbidden: bot was kicked from the supergroup chat", True
            ),
            "failed",
        ),
        (FailedDelivery(ids[1], 7001, 42, "Bad Request: can't parse entities", False), "failed"),
    ]


async def test_on_failed_after_transient_errors_run_out_and_a_raising_hook_is_contained(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    calls: list[FailedDelivery] = []

    async def on_failed(failed: FailedDelivery) -> None:
        calls.append(failed)
        raise RuntimeError("the hook broke")

    transport = FakeTransport()
    transport.fail(*[TransientError("502 Bad Gateway") for _ in range(2)])
    sender = OutboxSender(
        sessions, transport, clock, SendLimits.unlimited(), max_attempts=2, on_failed=on_failed
    )
    await put(sessions, clock, "flaky")
    for _ in range(3):
        await sender.drain()
        clock.advance(timedelta(minutes=1))
    assert [(c.error, c.unreachable) for c in calls] == [("502 Bad Gateway", False)]
    await put(sessions, clock, "after", chat_id=7001)
    await sender.drain()
    assert texts(transport) == ["after"], "a failing hook does not stop the sender"


@pytest.mark.parametrize(
    ("error", "message", "unreachable"),
    [
        (TelegramForbiddenError, "Forbidden: bot was kicked from the supergroup chat", True),
        (TelegramBadRequest, "Bad Request: chat not found", True),
        (TelegramBadRequest, "Bad Request: can't parse entities: unclosed tag", False),
    ],
)
async def test_the_aiogram_transport_says_whether_the_chat_is_unreachable(
    error: type[TelegramAPIError], message: str, unreachable: bool
) -> None:
    method: TelegramMethod[Any] = SendMessage(chat_id=-1, text="x")

    async def call() -> None:
        raise error(method=method, message=message)

    with pytest.raises(PermanentError) as info:
        await translated(call)
    assert info.value.unreachable is unreachable
