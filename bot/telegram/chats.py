"""`ChatDirectory` on aiogram: who administers a chat, as Telegram says (getChatMember)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR})


class AiogramChatDirectory:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """True for the chat's creator and administrators. A chat the bot cannot see (not a
        member, unknown id) is nobody's to subscribe to: False. Network failures and 5xx
        propagate, so the update is handled again later rather than refused for good."""
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            log.info("getChatMember(%s, %s) refused: %s", chat_id, user_id, exc.message)
            return False
        return member.status in ADMIN_STATUSES
