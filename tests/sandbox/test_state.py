"""The sandbox world through the test-facing API: people's actions, waiting, reporting."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from sandbox import NotAMemberError, SandboxInputError, SandboxServer

from .conftest import OUTSIDER, RESIDENT, RESIDENTS_CHAT, STAFF_CHAT, WORKER, make_bot, populate


async def test_message_ids_are_per_chat(server: SandboxServer) -> None:
    a = server.user_sends(RESIDENT, RESIDENTS_CHAT, "一")
    b = server.user_sends(WORKER, STAFF_CHAT, "二")
    c = server.user_sends(RESIDENT, RESIDENTS_CHAT, "三")
    assert (a["message_id"], b["message_id"], c["message_id"]) == (1, 1, 2)


async def test_people_must_be_in_the_chat(server: SandboxServer) -> None:
    with pytest.raises(NotAMemberError):
        server.user_sends(OUTSIDER, STAFF_CHAT, "hi")
    with pytest.raises(NotAMemberError):
        server.user_sends(RESIDENT, WORKER, "someone else's private chat")
    with pytest.raises(SandboxInputError, match="unknown user"):
        server.user_sends(1, RESIDENTS_CHAT, "hi")
    with pytest.raises(SandboxInputError, match="unknown chat"):
        server.user_sends(RESIDENT, -42, "hi")
    with pytest.raises(SandboxInputError, match="reply to"):
        server.user_sends(RESIDENT, RESIDENTS_CHAT, "hi", reply_to=99)
    with pytest.raises(SandboxInputError, match="location"):
        server.user_sends(RESIDENT, RESIDENTS_CHAT, "hi", location=(113.0, 23.0))
    with pytest.raises(SandboxInputError, match="empty"):
        server.user_sends(RESIDENT, RESIDENTS_CHAT, "   ")
    assert server.pending_update_count() == 0


async def test_press_needs_an_existing_message(server: SandboxServer) -> None:
    with pytest.raises(SandboxInputError, match="no message 5"):
        server.user_presses(RESIDENT, RESIDENTS_CHAT, 5, "x")


async def test_chat_setup_is_validated(server: SandboxServer) -> None:
    with pytest.raises(SandboxInputError, match="chat type"):
        server.add_chat(-5, "x", "forum")
    with pytest.raises(SandboxInputError, match="user's id"):
        server.add_chat(RESIDENT, "x", "group")
    with pytest.raises(SandboxInputError, match="no user"):
        server.add_chat(123, "x", "private")


async def test_raw_updates_get_ids(server: SandboxServer, bot: Bot) -> None:
    first = server.enqueue_raw_update(
        {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
    )
    given = server.enqueue_raw_update({"update_id": 50, "edited_message": None})
    assert (first, given) == (1, 50)
    updates = await bot.get_updates(limit=1)
    assert updates[0].update_id == 1
    assert server.pending_update_count() == 2


async def test_wait_for_reports_what_the_bot_sent(server: SandboxServer, bot: Bot) -> None:
    await bot.send_message(STAFF_CHAT, "HZ-2026-000001 待签收")
    server.fail_next("sendMessage", status=500)
    with pytest.raises(Exception):  # noqa: B017 - only the recorded failure matters here
        await bot.send_message(STAFF_CHAT, "x")
    with pytest.raises(TimeoutError) as caught:
        await server.wait_for(lambda s: len(s.bot_messages()) > 5, timeout=0.05)
    report = str(caught.value)
    assert "HZ-2026-000001 待签收" in report
    assert "sendMessage → 500 Internal Server Error" in report


async def test_wait_for_bot_message_returns_the_match(server: SandboxServer, bot: Bot) -> None:
    await bot.send_message(STAFF_CHAT, "第一条")
    await bot.send_message(STAFF_CHAT, "第二条")
    found = await server.wait_for_bot_message(STAFF_CHAT, "第二", timeout=1)
    assert found.plain_text == "第二条"
    with pytest.raises(TimeoutError):
        await server.wait_for_bot_message(STAFF_CHAT, after=2, timeout=0.05)


async def test_wait_updates_consumed_times_out_without_a_bot(server: SandboxServer) -> None:
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "有人吗")
    with pytest.raises(TimeoutError, match="1 update"):
        await server.wait_updates_consumed(timeout=0.05)


async def test_duplicates_are_reported(server: SandboxServer, bot: Bot) -> None:
    await bot.send_message(STAFF_CHAT, "提醒")
    await bot.send_message(RESIDENTS_CHAT, "提醒")  # same text, other chat: fine
    server.assert_no_duplicates()
    await bot.send_message(STAFF_CHAT, "提醒")
    assert server.duplicates() == [(STAFF_CHAT, "提醒")]
    with pytest.raises(AssertionError, match="duplicate"):
        server.assert_no_duplicates()
    server.assert_no_duplicates(allowed=["提醒"])


async def test_channel_posts(server: SandboxServer, bot: Bot) -> None:
    server.add_chat(-1001999, "领导频道", "channel", admins=[5009])
    server.user_sends(5009, -1001999, "通知")
    (update,) = await bot.get_updates()
    assert update.channel_post is not None
    assert update.channel_post.sender_chat is not None
    assert update.channel_post.sender_chat.id == -1001999
    with pytest.raises(NotAMemberError):
        server.user_sends(WORKER, -1001999, "x")


async def test_bot_cannot_start_a_private_chat(server: SandboxServer, bot: Bot) -> None:
    server.add_user(7100, "新居民", started_bot=False)
    with pytest.raises(Exception, match="can't initiate conversation"):
        await bot.send_message(7100, "hi")
    server.user_sends(7100, 7100, "/start")
    await bot.send_message(7100, "hi")


@pytest.fixture
async def private_server() -> AsyncIterator[SandboxServer]:
    sandbox = SandboxServer(privacy_mode=True)
    await sandbox.start()
    populate(sandbox)
    sandbox.add_chat(-1003000, "无管理员群", "group", members=[RESIDENT], bot_is_admin=False)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def test_privacy_mode_hides_plain_group_chatter(private_server: SandboxServer) -> None:
    chat = -1003000
    async with make_bot(private_server) as bot:
        me = await bot.get_me()
        assert me.can_read_all_group_messages is False
        private_server.user_sends(RESIDENT, chat, "聊天而已")
        private_server.user_sends(RESIDENT, chat, "@gridcall_bot 路灯坏了")
        private_server.user_sends(RESIDENT, chat, "/report 井盖")
        private_server.user_sends(RESIDENT, chat, "/report@other_bot 井盖")
        sent = await bot.send_message(chat, "请说明位置")
        private_server.user_sends(RESIDENT, chat, "海幢街", reply_to=sent.message_id)
        private_server.user_sends(RESIDENT, RESIDENTS_CHAT, "bot is admin here: seen")
        texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["@gridcall_bot 路灯坏了", "/report 井盖", "海幢街", "bot is admin here: seen"]
    assert len(private_server.messages(chat)) == 6  # people still see everything


async def test_the_page_shows_the_bot_online_between_two_polls(
    server: SandboxServer, bot: Bot
) -> None:
    """Between two getUpdates the bot is handling what it got — the moment its answers
    reach the page — so the page must not say "not connected" then; it does once the bot
    has stopped asking for a while."""
    state = server.state
    assert not state.bot_polling(now=1000.0)  # never polled
    await bot.get_updates(timeout=0)
    ended = state.last_poll_at
    assert ended is not None and state.active_polls == 0
    assert state.bot_polling(now=ended + 9.0)
    assert not state.bot_polling(now=ended + 10.0)
