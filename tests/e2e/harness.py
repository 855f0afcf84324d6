"""The end-to-end harness: the sandbox Telegram-compatible server, the real aiogram client
polling it, the whole app on a fake clock, and helpers that speak as people.

`settle()` waits — on events, never on time — until every update has been handled, every
due deadline fired and every due message delivered. Tests then assert on exactly what each
chat shows.

With `webhook=True` the app runs in webhook mode instead: the sandbox POSTs each update to
the app's `/webhook/telegram` (with the secret token) rather than being polled, and
`add_worker()` starts more workers on the same database for tests that play Telegram's load
balancer with `post_update()`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp

from bot.app import AppConfig, GridcallApp
from bot.demo import build_world
from bot.outbox_sender import SendLimits
from bot.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from escalation.clock import FakeClock
from org.file import OrgConfig
from sandbox import SandboxServer

TOKEN = "123456:TEST-token"
RESIDENTS = {7001: "陈阿姨", 7002: "林先生", 7003: "Alice"}
WEBHOOK_SECRET = "gridcall-test-webhook-secret"


class Harness:
    def __init__(
        self,
        org: OrgConfig,
        database_url: str,
        redis_url: str | None = None,
        *,
        redis_prefix: str = "gridcall",
        webhook: bool = False,
        limits: bool = False,
    ) -> None:
        self.org = org
        self.database_url = database_url
        self.redis_url = redis_url
        self.redis_prefix = redis_prefix  # a test's own namespace in the shared Redis
        self.clock = FakeClock()
        # Webhook mode: the sandbox keeps retrying a while (100 x 0.05 s), so an update sent
        # while the app restarts waits for it, as Telegram's would.
        # `limits=True`: the app paces with Telegram's real limits and the sandbox enforces
        # them (429 when exceeded), both on this harness's fake clock.
        self.limits = limits
        self.server = SandboxServer(
            webhook_max_tries=100 if webhook else 5,
            enforce_limits=limits,
            now=lambda: self.clock.now().timestamp(),
        )
        self.app: GridcallApp | None = None
        self.webhook = webhook
        self.webhook_url: str | None = None
        self.webhook_port = 0  # kept across restarts, so the registered URL stays valid
        self.workers: list[GridcallApp] = []

    async def __aenter__(self) -> Harness:
        await self.server.start()
        residents = [(uid, name, self.resident_chats()) for uid, name in RESIDENTS.items()]
        build_world(self.server, self.org, residents)
        await self.start_app()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for worker in self.workers:
            await worker.stop()
        await self.stop_app()
        await self.server.stop()

    def resident_chats(self) -> list[int]:
        return [c for unit in self.org.all_units() for c in unit.resident_chats]

    def config(self, *, listen_port: int = 0, webhook_url: str | None = None) -> AppConfig:
        return AppConfig(
            token=TOKEN,
            api_url=self.server.api_url,
            database_url=self.database_url,
            redis_url=self.redis_url,
            redis_prefix=self.redis_prefix,
            clock=self.clock,
            limits=SendLimits() if self.limits else SendLimits.unlimited(),
            poll_timeout=1,
            mode="webhook" if self.webhook else "polling",
            listen_host="127.0.0.1",
            listen_port=listen_port,
            webhook_secret=WEBHOOK_SECRET if self.webhook else None,
            webhook_url=webhook_url,
        )

    async def start_app(self) -> None:
        self.app = GridcallApp(
            self.config(listen_port=self.webhook_port, webhook_url=self.webhook_url)
        )
        await self.app.start(self.org)
        if self.webhook and self.webhook_url is None:
            # The port is known only now: register the address the app bound (a restart
            # binds the same port and registers it itself, from its config).
            assert self.app.webhook_port is not None
            self.webhook_port = self.app.webhook_port
            self.webhook_url = f"http://127.0.0.1:{self.webhook_port}{WEBHOOK_PATH}"
            await self.app.set_webhook(self.webhook_url)
        await self.settle()

    async def add_worker(self) -> GridcallApp:
        """Another webhook worker on the same database, on its own port. The sandbox
        delivers only to the registered URL; tests reach this one with `post_update`."""
        assert self.webhook, "workers are for webhook mode"
        worker = GridcallApp(self.config())
        await worker.start(self.org)
        self.workers.append(worker)
        await self.settle()
        return worker

    async def post_update(
        self,
        update: dict[str, Any] | bytes,
        *,
        to: GridcallApp | None = None,
        secret: str | None = WEBHOOK_SECRET,
    ) -> tuple[int, dict[str, Any]]:
        """POST an update (or raw bytes) to a worker's webhook as Telegram would; returns the
        HTTP status and the JSON answer. `secret=None` leaves the header out."""
        app = to or self.app
        assert app is not None and app.webhook_port is not None
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        url = f"http://127.0.0.1:{app.webhook_port}{WEBHOOK_PATH}"
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=body, headers=headers) as response,
        ):
            return response.status, await response.json(content_type=None)

    async def stop_app(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def restart(self) -> None:
        await self.stop_app()
        await self.start_app()

    async def settle(self, limit: float = 15.0) -> None:
        """Wait until nothing more can happen without time moving or a person acting."""
        assert self.app is not None
        apps = [self.app, *self.workers]
        async with asyncio.timeout(limit):
            quiet = 0
            while quiet < 3:
                await self.server.wait_updates_consumed(timeout=limit)
                idle = [await app.idle() for app in apps]
                quiet = quiet + 1 if all(idle) else 0
                await asyncio.sleep(0.01)

    async def say(self, user: int, chat: int, text: str, **kw: Any) -> dict[str, Any]:
        message = self.server.user_sends(user, chat, text, **kw)
        await self.settle()
        return message

    async def press(self, user: int, chat: int, message_id: int, data: str) -> str:
        query_id = self.server.user_presses(user, chat, message_id, data)
        await self.settle()
        return query_id

    async def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        await self.settle()

    def texts(self, chat: int) -> list[str]:
        return [m.plain_text for m in self.server.bot_messages(chat)]

    def all_texts(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for message in self.server.bot_messages():
            out.setdefault(message.chat_id, []).append(message.plain_text)
        return out

    def alerts(self) -> list[str | None]:
        return [answer[1] for answer in self.server.callback_answers]
