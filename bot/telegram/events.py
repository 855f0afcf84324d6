"""aiogram objects → plain `InboundEvent`s. No rules here: only translation."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from handlers.events import InboundEvent

PLATFORM = "telegram"


def _command(message: Message, bot_username: str) -> tuple[str | None, str, bool]:
    """(command, args, addressed to us) from a leading bot_command entity."""
    text = message.text or message.caption or ""
    for entity in message.entities or message.caption_entities or []:
        if entity.type == "bot_command" and entity.offset == 0:
            word = text[1 : entity.length]
            name, _, target = word.partition("@")
            if target and target.lower() != bot_username.lower():
                return None, "", False  # a command for another bot in the same group
            return name.lower(), text[entity.length :].strip(), bool(target)
    return None, "", False


def _mentions(message: Message, bot_username: str) -> bool:
    text = message.text or message.caption or ""
    for entity in message.entities or message.caption_entities or []:
        if entity.type == "mention":
            mention = text[entity.offset : entity.offset + entity.length]
            if mention.lstrip("@").lower() == bot_username.lower():
                return True
    return False


def message_event(
    message: Message, update_id: int | None, bot_id: int, bot_username: str
) -> InboundEvent:
    command, args, command_addressed = _command(message, bot_username)
    reply = message.reply_to_message
    user = message.from_user
    return InboundEvent(
        platform=PLATFORM,
        update_id=update_id,
        chat_id=message.chat.id,
        chat_type=message.chat.type,
        user_id=user.id if user and not user.is_bot else None,
        user_name=user.full_name if user else "",
        message_id=message.message_id,
        text=message.text or message.caption or "",
        photos=(message.photo[-1].file_id,) if message.photo else (),
        location=(
            (message.location.longitude, message.location.latitude) if message.location else None
        ),
        reply_to_message_id=reply.message_id if reply else None,
        reply_to_bot=bool(reply and reply.from_user and reply.from_user.id == bot_id),
        mentions_bot=_mentions(message, bot_username) or command_addressed,
        command=command,
        command_args=args,
    )


def callback_event(query: CallbackQuery, update_id: int | None) -> InboundEvent:
    message = query.message
    chat = message.chat if message is not None else None
    return InboundEvent(
        platform=PLATFORM,
        update_id=update_id,
        chat_id=chat.id if chat else query.from_user.id,
        chat_type=chat.type if chat else "private",
        user_id=query.from_user.id,
        user_name=query.from_user.full_name,
        callback_id=query.id,
        callback_data=query.data or "",
        callback_message_id=message.message_id if message is not None else None,
    )
