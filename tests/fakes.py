"""Shared fakes: a recording chat transport that can be told to fail."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.transport import Buttons, PermanentError, RetryAfter, TransientError


@dataclass
class Sent:
    chat_id: int
    text: str
    buttons: list[list[tuple[str, str]]]
    reply_to_message_id: int | None
    message_id: int


@dataclass
class FakeTransport:
    """Records what would have been sent; `failures` are raised, in order, before sending."""

    sent: list[Sent] = field(default_factory=list)
    edits: list[tuple[int, int, str]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

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
        self.sent.append(Sent(chat_id, text, rows, reply_to_message_id, message_id))
        return message_id

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, *, buttons: Buttons = ()
    ) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.edits.append((chat_id, message_id, text))


__all__ = ["FakeTransport", "PermanentError", "RetryAfter", "Sent", "TransientError"]
