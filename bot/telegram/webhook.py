"""Telegram's webhook: `POST /webhook/telegram`, so several workers can share one address.

Telegram POSTs one update per request and forgets it as soon as it gets a 2xx answer. So the
answer is sent only after the core committed the update (answering first and crashing would
lose it), and a failure is answered with 500 so that Telegram delivers the update again
later. Redelivery is harmless: the core records each update id in the same transaction as
its effects (`handlers.core.first_delivery`), which is also what makes it safe for any of
several workers to receive any update, or the same one twice.

Two kinds of bad request are told apart. A caller without the secret token, or a body that
is not an update at all, gets a 4xx: Telegram never sends those. A well-formed update that
aiogram cannot validate (a newer Bot API field, say) is acknowledged with 200 and recorded
as skipped, because Telegram would otherwise redeliver it forever and hold up every update
behind it.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.http_server import HttpServer

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhook/telegram"
HEALTH_PATH = "/healthz"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Telegram's updates are a few kilobytes; anything near this is not from Telegram.
MAX_BODY_BYTES = 1024 * 1024
#: Telegram allows 1–256 characters; fewer than 16 would be guessable.
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 256
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def secret_problem(secret: str | None) -> str | None:
    """Why ``secret`` cannot protect the webhook, or None when it can.

    The message names the variable and the rule but never repeats the value.
    """
    if not secret:
        return (
            "GRIDCALL_WEBHOOK_SECRET is not set: webhook mode needs a secret token so that "
            "only Telegram can post updates (16–256 characters of A-Z a-z 0-9 _ -; e.g. "
            "`openssl rand -hex 32`)"
        )
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        return (
            f"GRIDCALL_WEBHOOK_SECRET must be {MIN_SECRET_LENGTH}–{MAX_SECRET_LENGTH} "
            f"characters long (it has {len(secret)})"
        )
    if not _SECRET_RE.match(secret):
        return (
            "GRIDCALL_WEBHOOK_SECRET may contain only A-Z a-z 0-9 _ - "
            "(Telegram refuses other characters)"
        )
    return None


def _answer(status: int, **body: Any) -> web.Response:
    return web.json_response({"ok": 200 <= status < 300, **body}, status=status)


class WebhookServer(HttpServer):
    """Serves the webhook with the dispatcher that long polling would use.

    ``in_flight`` counts requests being handled, so the app can tell when it is idle;
    ``handled``, ``failed`` and ``skipped`` count what came in, for logs and tests.
    """

    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        secret: str,
        *,
        bot_username: str,
        max_body: int = MAX_BODY_BYTES,
        routes: web.RouteTableDef | None = None,
    ) -> None:
        problem = secret_problem(secret)
        if problem is not None:
            raise ValueError(problem)
        super().__init__()
        self.bot = bot
        self.dispatcher = dispatcher
        self._secret = secret.encode()
        self.bot_username = bot_username
        self.max_body = max_body
        self.in_flight = 0
        self.handled = 0
        self.failed = 0
        self.rejected = 0
        self.skipped: list[dict[str, Any]] = []
        self._routes = routes

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body)
        app.router.add_post(WEBHOOK_PATH, self.receive)
        app.router.add_get(HEALTH_PATH, self.health)
        if self._routes is not None:
            app.add_routes(self._routes)  # e.g. /metrics
        return app

    async def health(self, request: web.Request) -> web.Response:
        return _answer(200, bot=self.bot_username)

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "").encode()
        return hmac.compare_digest(given, self._secret)

    async def receive(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        try:
            return await self._receive(request)
        finally:
            self.in_flight -= 1

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            self.rejected += 1
            log.warning("webhook call from %s without the right secret token", request.remote)
            return _answer(401, description="Unauthorized")
        if request.content_length is not None and request.content_length > self.max_body:
            return _answer(413, description="Request Entity Too Large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _answer(413, description="Request Entity Too Large")
        try:
            raw = json.loads(body)
        except ValueError:
            return _answer(400, description="the body is not JSON")
        if not isinstance(raw, dict):
            return _answer(400, description="the body is not a JSON object")
        update_id = raw.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return _answer(400, description="update_id is missing or not an integer")
        try:
            update = Update.model_validate(raw, context={"bot": self.bot})
        except ValidationError as exc:
            log.warning("malformed update %s skipped: %s", update_id, exc.errors()[:3])
            self.skipped.append(raw)
            return _answer(200, skipped=True)
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except Exception:
            self.failed += 1
            log.exception("update %s failed; answered 500 so Telegram redelivers it", update_id)
            return _answer(500, description="the update could not be handled; retry later")
        self.handled += 1
        return _answer(200)
