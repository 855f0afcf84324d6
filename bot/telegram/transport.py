"""The outbox `Transport` on aiogram: sending and editing, with errors translated."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)

from bot.transport import Buttons, PermanentError, RetryAfter, TransientError

T = TypeVar("T")


def keyboard(buttons: Buttons) -> InlineKeyboardMarkup | None:
    rows = [
        [InlineKeyboardButton(text=label, callback_data=data) for label, data in row]
        for row in buttons
        if row
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


# 400s that mean "this chat cannot be written to", not "this request is wrong".
UNREACHABLE_400 = (
    "chat not found",
    "peer_id_invalid",
    "group chat was deactivated",
    "chat_write_forbidden",
    "not enough rights to send",
    "have no rights to send",
)


def unreachable(exc: TelegramAPIError) -> bool:
    """403 (kicked, blocked, never started), a migrated group, or a 400 naming the chat."""
    if isinstance(exc, TelegramForbiddenError | TelegramMigrateToChat):
        return True
    text = exc.message.lower()
    return any(marker in text for marker in UNREACHABLE_400)


async def translated(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except TelegramRetryAfter as exc:
        raise RetryAfter(exc.retry_after) from exc
    except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
        raise TransientError(str(exc)) from exc
    except TelegramAPIError as exc:
        raise PermanentError(str(exc), unreachable=unreachable(exc)) from exc


class AiogramTransport:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        buttons: Buttons = (),
        reply_to_message_id: int | None = None,
        force_reply: bool = False,
    ) -> int:
        markup: InlineKeyboardMarkup | ForceReply | None = keyboard(buttons)
        if markup is None and force_reply:
            markup = ForceReply(force_reply=True, selective=True)
        reply = (
            ReplyParameters(message_id=reply_to_message_id, allow_sending_without_reply=True)
            if reply_to_message_id
            else None
        )
        message = await translated(
            lambda: self.bot.send_message(
                chat_id,
                text,
                parse_mode="HTML",
                reply_markup=markup,
                reply_parameters=reply,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        return message.message_id

    async def send_photo(
        self,
        chat_id: int,
        photo: bytes,
        *,
        caption: str = "",
        reply_to_message_id: int | None = None,
    ) -> int:
        reply = (
            ReplyParameters(message_id=reply_to_message_id, allow_sending_without_reply=True)
            if reply_to_message_id
            else None
        )
        message = await translated(
            lambda: self.bot.send_photo(
                chat_id,
                BufferedInputFile(photo, filename="chart.png"),
                caption=caption or None,
                parse_mode="HTML",
                reply_parameters=reply,
            )
        )
        return message.message_id

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, *, buttons: Buttons = ()
    ) -> None:
        try:
            await translated(
                lambda: self.bot.edit_message_text(
                    text=text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode="HTML",
                    reply_markup=keyboard(buttons),
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            )
        except PermanentError as exc:
            cause = exc.__cause__
            if isinstance(cause, TelegramBadRequest) and "not modified" in cause.message:
                return  # the message already says this: nothing to do
            raise
