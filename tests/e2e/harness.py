"""The end-to-end harness: the sandbox Telegram-compatible server, the real aiogram client
polling it, the whole app on a fake clock, and helpers that speak as people.

`settle()` waits — on events, never on time — until every update has been handled, every
due deadline fired and every due message delivered. Tests then assert on exactly what each
chat shows.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.app import AppConfig, GridcallApp
from bot.demo import build_world
from bot.outbox_sender import SendLimits
from bot.sandbox import SandboxServer
from escalation.clock import FakeClock
from storage.orgfile import OrgConfig

TOKEN = "123456:TEST-token"
RESIDENTS = {7001: "陈阿姨", 7002: "林先生", 7003: "Alice"}


class Harness:
    def __init__(self, org: OrgConfig, database_url: str, redis_url: str | None = None) -> None:
        self.org = org
        self.database_url = database_url
        self.redis_url = redis_url
        self.clock = FakeClock()
        self.server = SandboxServer()
        self.app: GridcallApp | None = None

    async def __aenter__(self) -> Harness:
        await self.server.start()
        residents = [(uid, name, self.resident_chats()) for uid, name in RESIDENTS.items()]
        build_world(self.server, self.org, residents)
        await self.start_app()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_app()
        await self.server.stop()

    def resident_chats(self) -> list[int]:
        return [c for unit in self.org.all_units() for c in unit.resident_chats]

    async def start_app(self) -> None:
        config = AppConfig(
            token=TOKEN,
            api_url=self.server.api_url,
            database_url=self.database_url,
            redis_url=self.redis_url,
            clock=self.clock,
            limits=SendLimits.unlimited(),
            poll_timeout=1,
        )
        self.app = GridcallApp(config)
        await self.app.start(self.org)
        await self.settle()

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
        async with asyncio.timeout(limit):
            quiet = 0
            while quiet < 3:
                await self.server.wait_updates_consumed(timeout=limit)
                quiet = quiet + 1 if await self.app.idle() else 0
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
