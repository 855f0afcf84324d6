"""A local Telegram-compatible Bot API server with a browser UI (``gridcall demo``, e2e tests).

The real aiogram client long-polls it like api.telegram.org, while tests (or a person in the
browser) act as residents, grid workers and leaders in several chats.
"""

from sandbox.botapi import ApiRequest
from sandbox.errors import ApiError, NotAMemberError, SandboxInputError
from sandbox.server import SandboxServer
from sandbox.state import CallbackAnswer, SandboxChat, SandboxUser, SentMessage

__all__ = [
    "ApiError",
    "ApiRequest",
    "CallbackAnswer",
    "NotAMemberError",
    "SandboxChat",
    "SandboxInputError",
    "SandboxServer",
    "SandboxUser",
    "SentMessage",
]
