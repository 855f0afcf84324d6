"""Long polling that advances the offset only past handled updates.

aiogram's own polling parses a whole batch at once, so one malformed update would stall it;
this loop asks for raw JSON, validates each update alone, skips (and logs) what cannot be
parsed, and confirms an update to Telegram only after the core committed it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.methods.base import TelegramMethod
from aiogram.types import Update
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# channel_post: a `/subscribe` posted in a channel is answered with how to subscribe one.
ALLOWED_UPDATES = ["message", "channel_post", "callback_query"]
MAX_FAILURES_PER_UPDATE = 5


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class Poller:
    def __init__(self, bot: Bot, dispatcher: Dispatcher, timeout: int = 25) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.timeout = timeout
        self.offset: int | None = None
        self.skipped: list[Any] = []
        self._failures: dict[int, int] = {}
        self.outages = 0  # consecutive updates refused because the database was down
        self.retry_base = 1.0  # seconds; tests make retries immediate

    async def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                batch = await self.bot(
                    GetRawUpdates(
                        offset=self.offset, timeout=self.timeout, allowed_updates=ALLOWED_UPDATES
                    ),
                    request_timeout=self.timeout + 10,
                )
            except (TelegramAPIError, OSError, TimeoutError) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60)
                continue
            backoff = 1.0
            await self.handle_batch(batch)

    async def handle_batch(self, batch: list[dict[str, Any]]) -> None:
        for raw in batch:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                log.warning("update without an id skipped: %.200r", raw)
                self.skipped.append(raw)
                continue
            try:
                update = Update.model_validate(raw, context={"bot": self.bot})
            except ValidationError as exc:
                log.warning("malformed update %s skipped: %s", update_id, exc.errors()[:3])
                self.skipped.append(raw)
                self.offset = update_id + 1
                continue
            try:
                await self.dispatcher.feed_update(self.bot, update)
            except (DBAPIError, OSError) as exc:
                # The database (or the network to it) is down: the update is not at fault.
                # Never skip it; keep it unconfirmed so it is handled once the database is back.
                self.outages += 1
                log.error(
                    "update %s not handled, database unavailable (%s); retrying",
                    update_id,
                    type(exc).__name__,
                )
                await asyncio.sleep(min(self.retry_base * 2 ** min(self.outages, 5), 30))
                return
            except Exception:
                failures = self._failures.get(update_id, 0) + 1
                self._failures[update_id] = failures
                if failures < MAX_FAILURES_PER_UPDATE:
                    log.exception("update %s failed (try %s); not confirmed", update_id, failures)
                    await asyncio.sleep(min(self.retry_base * 2**failures, 30))
                    return  # the batch is fetched again from this update on
                log.exception("update %s failed %s times; skipped", update_id, failures)
                self.skipped.append(raw)
            self._failures.pop(update_id, None)
            self.outages = 0
            self.offset = update_id + 1
