"""The sandbox delivers updates to a webhook like Telegram: POSTed in order, one at a time,
with the secret header, forgotten only after a 2xx, retried otherwise and dropped after the
last try; getUpdates is refused while a webhook is set."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from sandbox import SandboxServer
from sandbox.webhook import SECRET_HEADER, is_local_url

from .conftest import RESIDENT, RESIDENTS_CHAT, WORKER, FakeNow, make_bot, populate

SECRET = "sandbox-webhook-secret"


@dataclass
class Receiver:
    """A bot's webhook endpoint: records what it got and answers with scripted statuses."""

    statuses: list[int] = field(default_factory=list)  # answered in order; then 200
    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            body = json.loads(await request.read())
            self.received.append((body, request.headers.get(SECRET_HEADER)))
            status = self.statuses.pop(0) if self.statuses else 200
            return web.json_response({}, status=status)
        finally:
            self.in_flight -= 1


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield hook
    finally:
        await runner.cleanup()


@pytest.fixture
async def fast_server(fake_now: FakeNow) -> AsyncIterator[SandboxServer]:
    """A sandbox that gives up on an update after three tries, 10 ms apart."""
    sandbox = SandboxServer(now=fake_now, webhook_retry_delay=0.01, webhook_max_tries=3)
    await sandbox.start()
    populate(sandbox)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture
async def fast_bot(fast_server: SandboxServer) -> AsyncIterator[Bot]:
    client = make_bot(fast_server)
    try:
        yield client
    finally:
        await client.session.close()


def kinds(receiver: Receiver) -> list[str]:
    return [next(k for k in body if k != "update_id") for body, _ in receiver.received]


async def test_updates_are_posted_in_order_with_the_secret(
    server: SandboxServer, bot: Bot, receiver: Receiver
) -> None:
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "第一条")  # queued before the webhook is set
    assert await bot.set_webhook(
        receiver.url, secret_token=SECRET, allowed_updates=["message", "callback_query"]
    )
    sent = await bot.send_message(RESIDENTS_CHAT, "按钮")
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "第二条")
    server.user_presses(WORKER, RESIDENTS_CHAT, sent.message_id, "c:1:ack")
    await server.wait_updates_consumed()

    assert [body.get("message", {}).get("text") for body, _ in receiver.received] == [
        "第一条",
        "第二条",
        None,
    ]
    assert kinds(receiver) == ["message", "message", "callback_query"]
    assert {secret for _, secret in receiver.received} == {SECRET}
    ids = [body["update_id"] for body, _ in receiver.received]
    assert ids == sorted(ids) and server.webhook_deliveries == [(i, 200) for i in ids]
    assert receiver.most_in_flight == 1  # one at a time
    info = await bot.get_webhook_info()
    assert info.url == receiver.url and info.pending_update_count == 0
    assert info.last_error_message is None
    assert info.allowed_updates == ["callback_query", "message"]
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()


async def test_a_failed_delivery_is_retried_then_dropped(
    fast_server: SandboxServer, fast_bot: Bot, receiver: Receiver
) -> None:
    server = fast_server
    await fast_bot.set_webhook(receiver.url, secret_token=SECRET)
    receiver.statuses = [500, 502]  # the first update succeeds on its third try
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "重试")
    await server.wait_updates_consumed()
    [(first, _), *_] = server.webhook_deliveries
    assert server.webhook_deliveries == [(first, 500), (first, 502), (first, 200)]
    assert server.webhook_dropped == []

    receiver.statuses = [401, 401, 401]  # e.g. a wrong secret: given up after three tries
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "放弃")
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "下一条")
    await server.wait_updates_consumed()
    dropped = first + 1
    assert server.webhook_deliveries[3:] == [(dropped, 401)] * 3 + [(dropped + 1, 200)]
    assert server.webhook_dropped == [dropped]
    info = await fast_bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message is not None and "401" in info.last_error_message
    assert info.last_error_date is not None


async def test_an_unreachable_webhook_is_recorded_without_a_status(
    fast_server: SandboxServer, fast_bot: Bot, receiver: Receiver
) -> None:
    server = fast_server
    await fast_bot.set_webhook(receiver.url.replace("/hook", "/missing"))
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "404")
    await server.wait_updates_consumed()
    assert [status for _, status in server.webhook_deliveries] == [404, 404, 404]

    await fast_bot.set_webhook("http://127.0.0.1:9/hook")  # nobody listens on port 9
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "refused")
    await server.wait_updates_consumed()
    assert [status for _, status in server.webhook_deliveries[3:]] == [None, None, None]
    info = await fast_bot.get_webhook_info()
    assert info.last_error_message is not None
    assert info.last_error_message.startswith("Connection failed")


async def test_a_lost_acknowledgement_delivers_the_update_again(
    server: SandboxServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url)
    server.lose_next_webhook_ack()
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "两次")
    await server.wait_updates_consumed()
    [(first, _), (second, _)] = receiver.received
    assert first == second and first["message"]["text"] == "两次"
    assert [status for _, status in server.webhook_deliveries] == [200, 200]
    assert receiver.received[0][1] is None  # no secret set, no header


async def test_delete_webhook_stops_delivery_and_can_drop_the_queue(
    server: SandboxServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token=SECRET)
    assert await bot.delete_webhook()
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "留着")
    assert server.pending_update_count() == 1
    [update] = await bot.get_updates(timeout=0)  # polling works again
    assert update.message is not None and update.message.text == "留着"
    assert receiver.received == []

    server.user_sends(RESIDENT, RESIDENTS_CHAT, "丢掉")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert server.pending_update_count() == 0
    assert (await bot.get_webhook_info()).url == ""


async def test_set_webhook_is_validated_like_telegram(server: SandboxServer, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://bot.example.org/hook")
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook("https://bot.example.org/hook", secret_token="no spaces allowed")
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook("https://bot.example.org/hook", secret_token="x" * 257)
    assert (await bot.get_webhook_info()).url == ""


async def test_updates_for_a_remote_url_stay_queued(server: SandboxServer, bot: Bot) -> None:
    """The sandbox never sends people's updates off the machine."""
    await bot.set_webhook("https://bot.example.org/hook", secret_token=SECRET)
    server.user_sends(RESIDENT, RESIDENTS_CHAT, "不出门")
    await server.wait_for(lambda s: s.state.webhook_last_error_message is not None)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == "sandbox delivers webhooks only to local addresses"
    assert server.webhook_deliveries == []


def test_local_urls() -> None:
    assert is_local_url("http://127.0.0.1:8080/webhook/telegram")
    assert is_local_url("https://localhost/hook")
    assert is_local_url("http://[::1]:8443/hook")
    assert not is_local_url("https://bot.example.org/hook")
    assert not is_local_url("http://10.0.0.1/hook")
    assert not is_local_url("ftp://127.0.0.1/hook")
