"""The browser page and its JSON API: acting as people, validation, safe rendering."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import SandboxServer

from .conftest import LEADER, OUTSIDER, RESIDENT, RESIDENTS_CHAT, STAFF_CHAT, WORKER


@pytest.fixture
async def http(server: SandboxServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.base_url) as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: Any) -> tuple[int, Any]:
    async with http.post(path, json=body) as response:
        return response.status, await response.json()


async def get(http: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
    async with http.get(path) as response:
        return response.status, await response.json()


async def test_page_is_served_and_works_offline(http: aiohttp.ClientSession) -> None:
    async with http.get("/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert "我是谁 · Who am I" in page
    assert not re.search(r"https?://", page), "the page must not load anything from the internet"
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page):
        async with http.get(asset) as response:
            assert response.status == 200, asset
            assert not re.search(r"https?://", await response.text()), asset


async def test_users_and_chats_listing(http: aiohttp.ClientSession) -> None:
    status, body = await get(http, "/sandbox/api/users")
    assert status == 200
    roles = {u["id"]: u["role_label"] for u in body["users"]}
    assert roles[RESIDENT] == "居民 resident"

    status, body = await get(http, f"/sandbox/api/chats?user={WORKER}")
    assert status == 200
    assert [c["id"] for c in body["chats"]] == [RESIDENTS_CHAT, STAFF_CHAT, WORKER]
    assert body["chats"][-1]["type"] == "private"


async def test_send_and_press_round_trip(
    server: SandboxServer, bot: Bot, http: aiohttp.ClientSession
) -> None:
    status, body = await post(
        http, "/sandbox/api/send", {"user": RESIDENT, "chat": RESIDENTS_CHAT, "text": "路灯坏了"}
    )
    assert status == 200
    report_id = body["message"]["message_id"]
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.text == "路灯坏了"

    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="满意", callback_data="rate:5")]]
    )
    sent = await bot.send_message(
        RESIDENTS_CHAT,
        "<b>已受理</b> &lt;HZ-1&gt;",
        parse_mode="HTML",
        reply_markup=markup,
        reply_to_message_id=report_id,
    )
    status, body = await get(http, f"/sandbox/api/messages?chat={RESIDENTS_CHAT}&user={RESIDENT}")
    assert status == 200
    shown = body["messages"][-1]
    assert shown["html"] == "<b>已受理</b> &lt;HZ-1&gt;"
    assert shown["buttons"] == [[{"text": "满意", "data": "rate:5", "url": None}]]
    assert shown["reply_to"]["message_id"] == report_id

    status, body = await post(
        http,
        "/sandbox/api/press",
        {"user": RESIDENT, "chat": RESIDENTS_CHAT, "message_id": sent.message_id, "data": "rate:5"},
    )
    assert status == 200
    (update,) = await bot.get_updates(offset=update.update_id + 1)
    assert update.callback_query is not None
    assert update.callback_query.id == body["callback_query_id"]
    assert update.callback_query.data == "rate:5"
    await bot.answer_callback_query(update.callback_query.id, text="谢谢评价")

    status, state = await get(http, f"/sandbox/api/state?since=0&user={RESIDENT}")
    assert status == 200
    assert [a["text"] for a in state["answers"]] == ["谢谢评价"]


async def test_state_long_poll_returns_on_change(
    server: SandboxServer, http: aiohttp.ClientSession
) -> None:
    version = server.state.data_version
    poll = asyncio.create_task(get(http, f"/sandbox/api/state?since={version}&timeout=20"))
    await server.wait_for(lambda s: s.state.active_page_polls == 1, timeout=5)
    assert not poll.done()
    server.user_sends(WORKER, STAFF_CHAT, "收到")
    async with asyncio.timeout(5):
        status, body = await poll
    assert status == 200
    assert [m["text"] for m in body["messages"]] == ["收到"]
    assert body["version"] > version


async def test_edits_show_up_in_state(
    server: SandboxServer, bot: Bot, http: aiohttp.ClientSession
) -> None:
    sent = await bot.send_message(STAFF_CHAT, "待签收")
    version = server.state.data_version
    await bot.edit_message_text(text="已签收", chat_id=STAFF_CHAT, message_id=sent.message_id)
    status, body = await get(http, f"/sandbox/api/state?since={version}")
    assert status == 200
    assert [(m["message_id"], m["text"], m["edited"]) for m in body["messages"]] == [
        (sent.message_id, "已签收", True)
    ]


async def test_location_and_photo_from_the_page(
    server: SandboxServer, bot: Bot, http: aiohttp.ClientSession
) -> None:
    status, _ = await post(
        http,
        "/sandbox/api/send",
        {"user": RESIDENT, "chat": RESIDENT, "location": {"latitude": 23.1, "longitude": 113.2}},
    )
    assert status == 200
    status, body = await post(
        http,
        "/sandbox/api/send",
        {"user": RESIDENT, "chat": RESIDENT, "photo": True, "caption": "现场"},
    )
    assert status == 200
    assert body["message"]["kind"] == "photo"
    located, photographed = await bot.get_updates()
    assert located.message is not None and located.message.location is not None
    assert located.message.location.latitude == 23.1
    assert photographed.message is not None and photographed.message.photo
    assert photographed.message.caption == "现场"


async def test_a_picture_the_bot_uploads_is_shown_on_the_page(
    server: SandboxServer, bot: Bot, http: aiohttp.ClientSession
) -> None:
    png = b"\x89PNG\r\n\x1a\n a chart"
    await bot.send_photo(STAFF_CHAT, BufferedInputFile(png, filename="chart.png"), caption="指标")
    _, body = await get(http, f"/sandbox/api/messages?chat={STAFF_CHAT}")
    [shown] = [m for m in body["messages"] if m["kind"] == "photo"]
    assert shown["text"] == "指标" and shown["photo_url"].startswith("/sandbox/api/file?id=")
    async with http.get(shown["photo_url"]) as response:
        assert (response.status, response.content_type) == (200, "image/png")
        assert await response.read() == png
    status, error = await get(http, "/sandbox/api/file?id=nope")
    assert status == 404 and error == {"error": "no such file"}


async def test_user_text_is_escaped_in_the_page(
    server: SandboxServer, http: aiohttp.ClientSession
) -> None:
    server.user_sends(RESIDENT, RESIDENTS_CHAT, '<img src=x onerror="alert(1)"> @gridcall_bot')
    _, body = await get(http, f"/sandbox/api/messages?chat={RESIDENTS_CHAT}")
    rendered = body["messages"][-1]["html"]
    assert "<img" not in rendered
    assert rendered.startswith("&lt;img")
    assert '<span class="tg-mention">@gridcall_bot</span>' in rendered


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/sandbox/api/send", {"user": 1, "chat": RESIDENTS_CHAT, "text": "x"}, 400, "user"),
        ("/sandbox/api/send", {"user": RESIDENT, "chat": -5, "text": "x"}, 400, "chat"),
        ("/sandbox/api/send", {"user": "abc", "chat": RESIDENTS_CHAT, "text": "x"}, 400, "user"),
        ("/sandbox/api/send", {"user": RESIDENT, "chat": RESIDENTS_CHAT}, 400, "empty"),
        ("/sandbox/api/send", {"user": RESIDENT, "chat": RESIDENTS_CHAT, "text": 5}, 400, "text"),
        ("/sandbox/api/send", [1, 2], 400, "object"),
        (
            "/sandbox/api/send",
            {"user": RESIDENT, "chat": RESIDENT, "location": {"latitude": 99, "longitude": 1}},
            400,
            "range",
        ),
        ("/sandbox/api/send", {"user": OUTSIDER, "chat": STAFF_CHAT, "text": "x"}, 403, "member"),
        ("/sandbox/api/send", {"user": RESIDENT, "chat": WORKER, "text": "x"}, 403, "private"),
        (
            "/sandbox/api/press",
            {"user": OUTSIDER, "chat": STAFF_CHAT, "message_id": 1, "data": "x"},
            403,
            "member",
        ),
        (
            "/sandbox/api/press",
            {"user": LEADER, "chat": STAFF_CHAT, "message_id": 42, "data": "x"},
            400,
            "no message",
        ),
    ],
)
async def test_bad_input_is_refused(
    http: aiohttp.ClientSession, path: str, body: Any, status: int, error: str
) -> None:
    got_status, got = await post(http, path, body)
    assert got_status == status
    assert error in got["error"]


async def test_press_refuses_data_not_on_a_button(
    server: SandboxServer, bot: Bot, http: aiohttp.ClientSession
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="接单", callback_data="ack:1")]]
    )
    sent = await bot.send_message(STAFF_CHAT, "case", reply_markup=markup)
    status, body = await post(
        http,
        "/sandbox/api/press",
        {"user": WORKER, "chat": STAFF_CHAT, "message_id": sent.message_id, "data": "close:1"},
    )
    assert status == 400
    assert "no button" in body["error"]
    assert server.pending_update_count() == 0


async def test_bad_queries_are_refused(http: aiohttp.ClientSession) -> None:
    assert (await get(http, "/sandbox/api/chats?user=12345"))[0] == 400
    assert (await get(http, "/sandbox/api/chats"))[0] == 400
    assert (await get(http, "/sandbox/api/messages?chat=-7"))[0] == 400
    assert (await get(http, f"/sandbox/api/messages?chat={STAFF_CHAT}&user={OUTSIDER}"))[0] == 403
    assert (await get(http, "/sandbox/api/state?since=x"))[0] == 400
    async with http.post("/sandbox/api/send", data=b"not json") as response:
        assert response.status == 400
