"""The aiogram router: every message and button press goes to the core, unchanged."""

from __future__ import annotations

import html
import logging

from aiogram import Router
from aiogram.types import CallbackQuery, Message, Update

from bot.telegram.events import callback_event, message_event
from handlers.core import Core

log = logging.getLogger(__name__)


def build_router(core: Core, bot_id: int, bot_username: str) -> Router:
    router = Router(name="gridcall")

    @router.message()
    async def on_message(message: Message, event_update: Update) -> None:
        await core.handle(message_event(message, event_update.update_id, bot_id, bot_username))

    @router.channel_post()
    async def on_channel_post(message: Message, event_update: Update) -> None:
        await core.handle(message_event(message, event_update.update_id, bot_id, bot_username))

    @router.callback_query()
    async def on_button(query: CallbackQuery, event_update: Update) -> None:
        reply = await core.handle(callback_event(query, event_update.update_id))
        if not reply.handled:
            return  # a redelivered press was answered the first time
        try:
            # Alerts are plain text: undo the HTML escaping the templates applied.
            text = html.unescape(reply.alert) if reply.alert else None
            await query.answer(text=text[:200] if text else None, show_alert=reply.show_alert)
        except Exception as exc:  # the answer is a courtesy; the change is already committed
            log.warning("could not answer callback %s: %s", query.id, exc)

    return router
