"""Injected failures and Telegram's flood limits reach aiogram as its real exceptions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)

from sandbox import SandboxServer
from sandbox.faults import FaultInjector, FloodLimiter

from .conftest import RESIDENT, RESIDENTS_CHAT, STAFF_CHAT, FakeNow, make_bot, populate


async def test_fail_next_429_surfaces_as_retry_after(server: SandboxServer, bot: Bot) -> None:
    server.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(RESIDENTS_CHAT, "第一次")
    assert caught.value.retry_after == 7
    assert "Original description: Too Many Requests: retry after 7" in caught.value.message
    await bot.send_message(RESIDENTS_CHAT, "第二次")  # only the next call failed
    assert [m.text for m in server.bot_messages()] == ["第二次"]
    assert [r.status for r in server.requests if r.method == "sendMessage"] == [429, 200]


async def test_fail_next_500_surfaces_as_server_error(server: SandboxServer, bot: Bot) -> None:
    server.fail_next("sendMessage", status=500, count=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(RESIDENTS_CHAT, "x")
    await bot.send_message(RESIDENTS_CHAT, "x")
    assert len(server.calls("sendMessage")) == 3


async def test_fail_next_403_surfaces_as_forbidden(server: SandboxServer, bot: Bot) -> None:
    server.fail_next(
        "sendmessage",  # method names are case-insensitive, as in Telegram
        status=403,
        description="Forbidden: bot was kicked from the supergroup chat",
    )
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup chat"):
        await bot.send_message(STAFF_CHAT, "x")


async def test_fail_next_only_hits_its_method(server: SandboxServer, bot: Bot) -> None:
    server.fail_next("editMessageText", status=500)
    await bot.send_message(RESIDENTS_CHAT, "ok")
    assert server.faults.pending() == 1


@pytest.fixture
async def limited(fake_now: FakeNow) -> AsyncIterator[SandboxServer]:
    sandbox = SandboxServer(enforce_limits=True, now=fake_now)
    await sandbox.start()
    populate(sandbox)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def test_21st_group_message_in_a_minute_is_429(
    limited: SandboxServer, fake_now: FakeNow
) -> None:
    async with make_bot(limited) as bot:
        for i in range(20):
            await bot.send_message(RESIDENTS_CHAT, f"消息 {i}")
            fake_now.advance(0.5)  # well under 30/s overall
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(RESIDENTS_CHAT, "第21条")
        # the first message was sent at t=0, it is now t=10: the window frees up at t=60
        assert caught.value.retry_after == 50
        assert limited.flood_rejections == 1
        await bot.send_message(STAFF_CHAT, "another group is not limited")
        fake_now.advance(50)
        await bot.send_message(RESIDENTS_CHAT, "第21条")
    assert len(limited.bot_messages(RESIDENTS_CHAT)) == 21


async def test_private_chat_allows_one_message_per_second(
    limited: SandboxServer, fake_now: FakeNow
) -> None:
    async with make_bot(limited) as bot:
        await bot.send_message(RESIDENT, "一")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(RESIDENT, "二")
        assert caught.value.retry_after == 1
        fake_now.advance(1.0)
        await bot.send_message(RESIDENT, "二")
    assert limited.flood_rejections == 1


def test_overall_limit_is_30_per_second() -> None:
    now = FakeNow()
    limiter = FloodLimiter(now)
    for chat_id in range(30):
        assert limiter.check(chat_id, "private") is None
        limiter.record(chat_id)
    assert limiter.check(99, "private") == 1
    now.advance(1.0)
    assert limiter.check(99, "private") is None
    assert limiter.rejections == 1


def test_fault_injector_wildcard_and_count() -> None:
    faults = FaultInjector()
    faults.fail_next("*", status=502, count=2)
    first = faults.take("getMe")
    assert first is not None and first.status == 502 and first.description == "Bad Gateway"
    assert faults.take("sendMessage") is not None
    assert faults.take("sendMessage") is None
    with pytest.raises(ValueError, match="count"):
        faults.fail_next("x", count=0)
