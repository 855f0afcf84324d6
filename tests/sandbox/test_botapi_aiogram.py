"""The sandbox as the real aiogram client sees it: shapes, long polling, errors."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
)
from aiogram.filters import Command
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)

from sandbox import SandboxServer

from .conftest import (
    BOT_ID,
    OUTSIDER,
    RESIDENT,
    RESIDENTS_CHAT,
    STAFF_CHAT,
    TOKEN,
    WORKER,
)


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]]
    )


async def test_get_me_uses_the_token_digits_and_the_configured_username(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == BOT_ID
    assert me.is_bot
    assert me.username == "gridcall_bot"
    assert me.first_name == "gridcall"


async def test_custom_bot_username() -> None:
    async with SandboxServer(bot_username="haizhu_bot") as sandbox:
        session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.api_url))
        async with Bot(TOKEN, session=session) as client:
            assert (await client.get_me()).username == "haizhu_bot"


async def test_user_message_arrives_with_command_and_mention_entities(
    server: SandboxServer, bot: Bot
) -> None:
    sent = server.user_sends(RESIDENT, RESIDENTS_CHAT, "/report@gridcall_bot 楼道堆满杂物")
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了 #路灯")

    updates = await bot.get_updates(timeout=0)

    assert [u.update_id for u in updates] == [1, 2]
    first, second = (u.message for u in updates)
    assert first is not None and second is not None
    assert first.message_id == sent["message_id"]
    assert first.chat.id == RESIDENTS_CHAT and first.chat.type == "supergroup"
    assert first.from_user is not None and first.from_user.id == RESIDENT
    assert [(e.type, e.offset, e.length) for e in first.entities or []] == [
        ("bot_command", 0, len("/report@gridcall_bot"))
    ]
    mentions = [e for e in second.entities or [] if e.type == "mention"]
    assert [m.extract_from(second.text or "") for m in mentions] == ["@gridcall_bot"]
    assert [e.type for e in second.entities or []] == ["mention", "hashtag"]


async def test_private_chat_id_is_the_user_id_and_created_on_demand(
    server: SandboxServer, bot: Bot
) -> None:
    server.user_sends(WORKER, WORKER, "/start")
    (update,) = await bot.get_updates()
    assert update.message is not None
    assert update.message.chat.id == WORKER
    assert update.message.chat.type == "private"
    assert update.message.chat.first_name == "张三"
    reply = await bot.send_message(WORKER, "你好")
    assert reply.chat.id == WORKER


async def test_photo_location_and_reply_reach_the_bot(server: SandboxServer, bot: Bot) -> None:
    first = server.user_sends(RESIDENT, RESIDENTS_CHAT, "井盖丢了")
    server.user_sends(RESIDENT, RESIDENTS_CHAT, photo="AgAC-manhole", caption="就在这里")
    server.user_sends(
        RESIDENT, RESIDENTS_CHAT, location=(113.2851, 23.1152), reply_to=first["message_id"]
    )

    photo_update, location_update = await bot.get_updates(offset=2)

    photo_message = photo_update.message
    assert photo_message is not None and photo_message.photo is not None
    assert photo_message.photo[-1].file_id == "AgAC-manhole"
    assert photo_message.caption == "就在这里"
    located = location_update.message
    assert located is not None and located.location is not None
    assert (located.location.longitude, located.location.latitude) == (113.2851, 23.1152)
    assert located.reply_to_message is not None
    assert located.reply_to_message.text == "井盖丢了"
    file = await bot.get_file("AgAC-manhole")
    assert file.file_path and file.file_path.startswith("photos/")


async def test_get_updates_long_polls_until_an_update_arrives(
    server: SandboxServer, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await server.wait_for(lambda s: s.state.active_polls == 1, timeout=5)
    assert not poll.done()

    server.user_sends(RESIDENT, RESIDENTS_CHAT, "有人吗")

    async with asyncio.timeout(5):
        updates = await poll
    assert [u.message.text for u in updates if u.message] == ["有人吗"]


async def test_get_updates_times_out_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=0) == []


async def test_offset_confirms_updates_like_telegram(server: SandboxServer, bot: Bot) -> None:
    for text in ("一", "二", "三"):
        server.user_sends(RESIDENT, RESIDENTS_CHAT, text)
    assert server.pending_update_count() == 3

    first = await bot.get_updates(limit=2)
    assert [u.update_id for u in first] == [1, 2]
    assert server.pending_update_count() == 3  # delivered, not yet confirmed

    again = await bot.get_updates()  # no offset: the earliest unconfirmed again
    assert [u.update_id for u in again] == [1, 2, 3]

    rest = await bot.get_updates(offset=3)
    assert [u.update_id for u in rest] == [3]
    assert server.pending_update_count() == 1

    await bot.get_updates(offset=4)
    assert server.pending_update_count() == 0
    await server.wait_updates_consumed(timeout=1)


async def test_negative_offset_keeps_only_the_last_updates(server: SandboxServer, bot: Bot) -> None:
    for text in ("一", "二", "三"):
        server.user_sends(RESIDENT, RESIDENTS_CHAT, text)
    updates = await bot.get_updates(offset=-1)
    assert [u.message.text for u in updates if u.message] == ["三"]
    assert server.pending_update_count() == 1


async def test_allowed_updates_drops_other_kinds(server: SandboxServer, bot: Bot) -> None:
    sent = await bot.send_message(RESIDENTS_CHAT, "选择", reply_markup=keyboard(("好", "ok")))
    server.user_presses(RESIDENT, RESIDENTS_CHAT, sent.message_id, "ok")
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "文字")
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["文字"]
    assert all(u.callback_query is None for u in updates)


async def test_a_second_poller_terminates_the_first_with_409(
    server: SandboxServer, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await server.wait_for(lambda s: s.state.active_polls == 1, timeout=5)
    second = asyncio.create_task(bot.get_updates(timeout=20))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        async with asyncio.timeout(5):
            await first
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "hi")
    async with asyncio.timeout(5):
        assert len(await second) == 1


async def test_inline_keyboard_press_and_answer(server: SandboxServer, bot: Bot) -> None:
    sent = await bot.send_message(
        STAFF_CHAT,
        "<b>HZ-2026-000123</b> 楼道堆物",
        parse_mode="HTML",
        reply_markup=keyboard(("接单 acknowledge", "ack:123"), ("提级 escalate", "up:123")),
    )
    assert sent.text == "HZ-2026-000123 楼道堆物"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.reply_markup is not None

    query_id = server.user_presses(WORKER, STAFF_CHAT, sent.message_id, "ack:123")
    (update,) = await bot.get_updates()

    query = update.callback_query
    assert query is not None
    assert query.id == query_id
    assert query.data == "ack:123"
    assert query.from_user.id == WORKER
    assert isinstance(query.message, Message)
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup == sent.reply_markup

    assert await bot.answer_callback_query(query.id, text="已接单", show_alert=True)
    assert server.callback_answers == [(query_id, "已接单", True)]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id, text="again")

    (recorded,) = server.bot_messages(STAFF_CHAT)
    assert recorded.buttons == [[("接单 acknowledge", "ack:123"), ("提级 escalate", "up:123")]]
    assert recorded.text == "<b>HZ-2026-000123</b> 楼道堆物"
    assert recorded.plain_text == "HZ-2026-000123 楼道堆物"


async def test_forged_button_data_is_delivered(server: SandboxServer, bot: Bot) -> None:
    sent = await bot.send_message(STAFF_CHAT, "case", reply_markup=keyboard(("ok", "ack:1")))
    server.user_presses(WORKER, STAFF_CHAT, sent.message_id, "resolve:999")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "resolve:999"


async def test_edit_message_text_is_recorded_as_an_edit(server: SandboxServer, bot: Bot) -> None:
    sent = await bot.send_message(
        STAFF_CHAT, "状态：<i>待签收</i>", parse_mode="HTML", reply_markup=keyboard(("接单", "a"))
    )
    edited = await bot.edit_message_text(
        text="状态：<b>已签收</b>",
        chat_id=STAFF_CHAT,
        message_id=sent.message_id,
        parse_mode="HTML",
    )
    assert isinstance(edited, Message)
    assert edited.text == "状态：已签收"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # Telegram drops the keyboard when none is given

    (message,) = server.bot_messages(STAFF_CHAT)
    assert message.text == "状态：<b>已签收</b>"
    assert message.edits == ["状态：<i>待签收</i>"]
    assert message.buttons == []

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="状态：<b>已签收</b>",
            chat_id=STAFF_CHAT,
            message_id=sent.message_id,
            parse_mode="HTML",
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=STAFF_CHAT, message_id=999)


async def test_edit_reply_markup_and_delete(server: SandboxServer, bot: Bot) -> None:
    sent = await bot.send_message(STAFF_CHAT, "case", reply_markup=keyboard(("接单", "a")))
    await bot.edit_message_reply_markup(
        chat_id=STAFF_CHAT, message_id=sent.message_id, reply_markup=keyboard(("办结", "r"))
    )
    (message,) = server.bot_messages(STAFF_CHAT)
    assert message.buttons == [[("办结", "r")]]
    assert message.edits == []
    assert await bot.delete_message(STAFF_CHAT, sent.message_id)
    assert message.deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(STAFF_CHAT, sent.message_id)


async def test_reply_force_reply_and_reply_parameters(server: SandboxServer, bot: Bot) -> None:
    report = server.user_sends(RESIDENT, RESIDENTS_CHAT, "垃圾没人收")
    answer = await bot.send_message(
        RESIDENTS_CHAT,
        "请补充地址",
        reply_parameters=ReplyParameters(message_id=report["message_id"]),
        reply_markup=ForceReply(input_field_placeholder="地址"),
        disable_notification=True,
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "垃圾没人收"
    (message,) = server.bot_messages(RESIDENTS_CHAT)
    assert message.reply_to_message_id == report["message_id"]
    assert message.force_reply
    assert message.disable_notification

    legacy = await bot.send_message(
        RESIDENTS_CHAT, "收到", reply_to_message_id=report["message_id"]
    )
    assert legacy.reply_to_message is not None
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(RESIDENTS_CHAT, "x", reply_to_message_id=999)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("<div>hi</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
    ],
)
async def test_invalid_html_is_rejected_like_telegram(
    server: SandboxServer, bot: Bot, text: str, detail: str
) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(RESIDENTS_CHAT, text, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {detail}"
    assert server.bot_messages() == []


async def test_html_default_parse_mode_and_escaped_text(server: SandboxServer, bot: Bot) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.api_url))
    async with Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML")) as b:
        sent = await b.send_message(
            RESIDENTS_CHAT, '居民说：&lt;script&gt; &amp; <a href="https://example.org">链接</a>'
        )
    assert sent.text == "居民说：<script> & 链接"
    assert sent.entities is not None
    assert sent.entities[0].type == "text_link"


async def test_chat_not_found_and_too_long(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-100999, "hi")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(RESIDENTS_CHAT, "长" * 4097)
    sent = await bot.send_message(RESIDENTS_CHAT, "长" * 4096)
    assert sent.text is not None and len(sent.text) == 4096


async def test_button_data_over_64_bytes_is_rejected(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(RESIDENTS_CHAT, "x", reply_markup=keyboard(("按钮", "数" * 22)))


async def test_unknown_method_is_404(bot: Bot) -> None:
    class SendDice(TelegramMethod[Message]):
        __returning__ = Message
        __api_method__ = "sendTeleportation"
        chat_id: int

    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot(SendDice(chat_id=RESIDENTS_CHAT))


async def test_kicked_and_blocked_are_403(server: SandboxServer, bot: Bot) -> None:
    server.kick_bot(STAFF_CHAT)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup chat"):
        await bot.send_message(STAFF_CHAT, "hi")
    server.block_bot(RESIDENT)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(RESIDENT, "hi")


async def test_get_chat_and_chat_member_statuses(server: SandboxServer, bot: Bot) -> None:
    chat = await bot.get_chat(STAFF_CHAT)
    assert chat.title == "宝玉直第一网格"
    assert (await bot.get_chat_member(STAFF_CHAT, 5009)).status == "administrator"
    assert (await bot.get_chat_member(STAFF_CHAT, WORKER)).status == "member"
    assert (await bot.get_chat_member(STAFF_CHAT, OUTSIDER)).status == "left"
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(-1)


async def test_service_methods(server: SandboxServer, bot: Bot) -> None:
    assert await bot.delete_webhook(drop_pending_updates=False)
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    commands = [BotCommand(command="report", description="报告问题 report a problem")]
    assert await bot.set_my_commands(commands)
    listed = await bot.get_my_commands()
    assert [(c.command, c.description) for c in listed] == [("report", "报告问题 report a problem")]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Report", description="x")])
    assert await bot.set_webhook("https://bot.example.org/hook")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.log_out()
    assert await bot.close()


async def test_send_photo_and_location(server: SandboxServer, bot: Bot) -> None:
    server.user_sends(RESIDENT, RESIDENTS_CHAT, photo="AgAC-resident")
    sent = await bot.send_photo(
        STAFF_CHAT, "AgAC-resident", caption="<b>现场照片</b>", parse_mode="HTML"
    )
    assert sent.photo is not None and sent.photo[-1].file_id == "AgAC-resident"
    assert sent.caption == "现场照片"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(STAFF_CHAT, "never-seen")
    where = await bot.send_location(STAFF_CHAT, latitude=23.11, longitude=113.28)
    assert where.location is not None and where.location.latitude == 23.11
    kinds = [m.kind for m in server.bot_messages(STAFF_CHAT)]
    assert kinds == ["photo", "location"]


async def test_requests_are_recorded_with_decoded_params(server: SandboxServer, bot: Bot) -> None:
    await bot.send_message(RESIDENTS_CHAT, "123", reply_markup=keyboard(("a", "b")))
    (call,) = server.calls("sendMessage")
    assert call["chat_id"] == RESIDENTS_CHAT
    assert call["text"] == "123"
    assert call["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"


async def test_dispatcher_polling_end_to_end(server: SandboxServer) -> None:
    """A real aiogram Dispatcher long-polls, answers a command and a button press."""
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer("欢迎 welcome", reply_markup=keyboard(("报告 report", "report")))

    @router.callback_query(F.data == "report")
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("请描述问题 describe the problem")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.api_url))
    client = Bot(TOKEN, session=session)
    polling = asyncio.create_task(
        dispatcher.start_polling(client, handle_signals=False, polling_timeout=5)
    )
    try:
        server.user_sends(RESIDENT, RESIDENT, "/start")
        welcome = await server.wait_for_bot_message(RESIDENT, "欢迎", timeout=10)
        server.user_presses(RESIDENT, RESIDENT, welcome.message_id, "report")
        await server.wait_for(lambda s: len(s.callback_answers) == 1, timeout=10)
        assert server.callback_answers[0].text == "请描述问题 describe the problem"
        await server.wait_updates_consumed(timeout=10)
        server.assert_no_duplicates()
    finally:
        await dispatcher.stop_polling()
        async with asyncio.timeout(10):
            await polling


async def test_uploaded_photo_gets_a_file_id_and_can_be_downloaded(
    server: SandboxServer, bot: Bot
) -> None:
    sent = await bot.send_photo(
        STAFF_CHAT, BufferedInputFile(b"\xff\xd8fake-jpeg", filename="scene.jpg"), caption="现场"
    )
    assert sent.photo is not None
    file_id = sent.photo[-1].file_id
    (call,) = server.requests[-1:]
    assert sum(call.files.values()) == len(b"\xff\xd8fake-jpeg")
    file = await bot.get_file(file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"\xff\xd8fake-jpeg"


async def test_stop_releases_a_waiting_long_poll(server: SandboxServer, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_for(lambda s: s.state.active_polls == 1, timeout=5)
    async with asyncio.timeout(5):
        await server.stop()
        assert await poll == []
