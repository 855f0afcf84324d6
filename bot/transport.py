"""What the outbox sender needs from a chat platform, and the failures it understands.

Adapters (aiogram today, others later) implement `Transport` and translate their SDK's
exceptions into these three, so the sender's retry rules are written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

Buttons = Sequence[Sequence[tuple[str, str]]]


class RetryAfter(Exception):
    """The platform asked us to slow down (Telegram 429)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class TransientError(Exception):
    """Worth retrying: a 5xx, a timeout, a dropped connection."""


class PermanentError(Exception):
    """Retrying will not help: the chat is gone, the bot was removed, the request is wrong.

    `unreachable` separates "this chat cannot be written to" (403: the bot was removed or
    blocked; 400 "chat not found") from "this request is wrong" (any other 400): the first
    means a case waiting there must move on to someone who can be reached, the second is a
    bug to report, not a reason to skip a level.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class Transport(Protocol):
    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        buttons: Buttons = (),
        reply_to_message_id: int | None = None,
        force_reply: bool = False,
    ) -> int:
        """Send one message (≤ 4096 characters); returns the platform's message id."""
        ...

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, *, buttons: Buttons = ()
    ) -> None: ...

    async def send_photo(
        self,
        chat_id: int,
        photo: bytes,
        *,
        caption: str = "",
        reply_to_message_id: int | None = None,
    ) -> int:
        """Send one picture with an HTML caption (≤ 1024 characters); returns its id."""
        ...
