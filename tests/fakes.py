"""Shared fakes: a recording chat transport that can be told to fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.transport import Buttons, PermanentError, RetryAfter, TransientError


@dataclass
class Sent:
    chat_id: int
    text: str
    buttons: list[list[tuple[str, str]]]
    reply_to_message_id: int | None
    message_id: int
    photo: bytes | None = None


@dataclass
class FakeTransport:
    """Records what would have been sent; `failures` are raised, in order, before sending.

    `shown` is what each chat shows now (edits applied), by message id; with a `now`, every
    call is also logged with its time in `calls` as (time, kind, chat, message), kind being
    "send", "edit" or "photo".
    """

    sent: list[Sent] = field(default_factory=list)
    edits: list[tuple[int, int, str]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    shown: dict[int, Sent] = field(default_factory=dict)
    now: Callable[[], datetime] | None = None
    calls: list[tuple[datetime, str, int, int]] = field(default_factory=list)

    def fail(self, *errors: Exception) -> None:
        self.failures.extend(errors)

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        buttons: Buttons = (),
        reply_to_message_id: int | None = None,
        force_reply: bool = False,
    ) -> int:
        if self.failures:
            raise self.failures.pop(0)
        message_id = len(self.sent) + 1
        rows = [[(label, data) for label, data in row] for row in buttons]
        message = Sent(chat_id, text, rows, reply_to_message_id, message_id)
        self.sent.append(message)
        self.shown[message_id] = Sent(chat_id, text, rows, reply_to_message_id, message_id)
        if self.now is not None:
            self.calls.append((self.now(), "send", chat_id, message_id))
        return message_id

    async def send_photo(
        self,
        chat_id: int,
        photo: bytes,
        *,
        caption: str = "",
        reply_to_message_id: int | None = None,
    ) -> int:
        if self.failures:
            raise self.failures.pop(0)
        message_id = len(self.sent) + 1
        message = Sent(chat_id, caption, [], reply_to_message_id, message_id, photo=photo)
        self.sent.append(message)
        self.shown[message_id] = message
        if self.now is not None:
            self.calls.append((self.now(), "photo", chat_id, message_id))
        return message_id

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, *, buttons: Buttons = ()
    ) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.edits.append((chat_id, message_id, text))
        rows = [[(label, data) for label, data in row] for row in buttons]
        old = self.shown.get(message_id)
        reply_to = old.reply_to_message_id if old is not None else None
        self.shown[message_id] = Sent(chat_id, text, rows, reply_to, message_id)
        if self.now is not None:
            self.calls.append((self.now(), "edit", chat_id, message_id))


__all__ = ["FakeTransport", "PermanentError", "RetryAfter", "Sent", "TransientError"]
