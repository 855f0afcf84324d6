"""The plain events that adapters hand to the core, and what the core hands back.

Adapters translate a platform update into an `InboundEvent` and hold no rules; everything
the bot decides starts from these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InboundEvent:
    platform: str
    chat_id: int
    chat_type: str  # private | group | supergroup | channel
    user_id: int | None
    user_name: str
    update_id: int | None = None
    message_id: int | None = None
    text: str = ""
    photos: tuple[str, ...] = ()
    location: tuple[float, float] | None = None  # (lon, lat)
    reply_to_message_id: int | None = None
    reply_to_bot: bool = False
    mentions_bot: bool = False
    command: str | None = None  # "case" for "/case@gridcall_bot HZ-…"
    command_args: str = ""
    callback_id: str | None = None
    callback_data: str | None = None
    callback_message_id: int | None = None

    @property
    def is_private(self) -> bool:
        return self.chat_type == "private"

    @property
    def is_button(self) -> bool:
        return self.callback_id is not None


@dataclass
class Reply:
    """The part of an answer that must go back synchronously (a button press's alert).

    Everything else the bot says goes through the outbox.
    """

    alert: str | None = None
    show_alert: bool = False
    handled: bool = True
    notes: list[str] = field(default_factory=list)
