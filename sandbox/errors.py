"""Errors shared by the sandbox's world model and its HTTP layers.

The world (``state.py``) validates like Telegram does and raises :class:`ApiError` carrying
Telegram's exact status and wording; the Bot API layer serialises it unchanged, and the web
UI reports it to the person at the keyboard.
"""

from __future__ import annotations

from typing import Any

JSONDict = dict[str, Any]


class ApiError(Exception):
    """A Bot API error response: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> JSONDict:
        """The response body Telegram would send for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body

    @classmethod
    def bad_request(cls, detail: str) -> ApiError:
        return cls(400, f"Bad Request: {detail}")

    @classmethod
    def forbidden(cls, detail: str) -> ApiError:
        return cls(403, f"Forbidden: {detail}")

    @classmethod
    def too_many_requests(cls, retry_after: int) -> ApiError:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)


class SandboxInputError(ValueError):
    """Bad input to the test/web-facing API (unknown user or chat, bad location, …)."""

    status = 400


class NotAMemberError(SandboxInputError, PermissionError):
    """The person is not in the chat they try to act in (the web API answers 403)."""

    status = 403
