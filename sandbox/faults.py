"""Fault injection and Telegram's flood limits, so tests can prove the bot survives both.

Telegram answers with 429 when a bot sends too fast and with 5xx/403 at the worst moments;
the outbox must honour ``retry_after``, retry transient failures and give up on "bot was
kicked". These classes hold no I/O: the Bot API layer asks them before serving a request.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.errors import ApiError

#: Descriptions Telegram uses for the statuses tests inject most often.
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class _Fault:
    method: str  # lower-case method name or "*"
    error: ApiError
    remaining: int


class FaultInjector:
    """Queue of failures to return instead of serving the next calls of a method."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int = 5,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (case-insensitive, ``"*"`` = any) fail.

        A 429 carries ``parameters.retry_after`` like Telegram's; other statuses use
        ``description`` or Telegram's default wording for the status.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        if status == 429:
            error = ApiError(
                429, description or f"Too Many Requests: retry after {retry_after}", retry_after
            )
        else:
            error = ApiError(status, description or DEFAULT_DESCRIPTIONS.get(status, "Error"))
        self._faults.append(_Fault(method.lower(), error, count))

    def take(self, method: str) -> ApiError | None:
        """Consume and return the first fault queued for ``method``, if any."""
        lowered = method.lower()
        for fault in self._faults:
            if fault.method in (lowered, "*"):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault.error
        return None

    def pending(self) -> int:
        """How many injected failures have not fired yet."""
        return sum(f.remaining for f in self._faults)

    def clear(self) -> None:
        self._faults.clear()


@dataclass(frozen=True)
class Limit:
    """At most ``count`` messages per ``window`` seconds."""

    count: int
    window: float


PRIVATE_CHAT_LIMIT = Limit(1, 1.0)
GROUP_CHAT_LIMIT = Limit(20, 60.0)
GLOBAL_LIMIT = Limit(30, 1.0)


class FloodLimiter:
    """Sliding-window model of Telegram's documented sending limits.

    1 message/s in a private chat, 20 messages/min in a group, 30 messages/s overall. Time
    comes from ``now`` so tests can move it instead of sleeping.
    """

    def __init__(
        self,
        now: Callable[[], float],
        *,
        private: Limit = PRIVATE_CHAT_LIMIT,
        group: Limit = GROUP_CHAT_LIMIT,
        overall: Limit = GLOBAL_LIMIT,
    ) -> None:
        self._now = now
        self._private = private
        self._group = group
        self._overall = overall
        self._per_chat: dict[int, deque[float]] = {}
        self._all: deque[float] = deque()
        self.rejections = 0

    def _limit_for(self, chat_type: str) -> Limit:
        return self._private if chat_type == "private" else self._group

    @staticmethod
    def _wait(times: deque[float], limit: Limit, now: float) -> int | None:
        while times and times[0] <= now - limit.window:
            times.popleft()
        if len(times) < limit.count:
            return None
        return max(1, math.ceil(times[0] + limit.window - now))

    def check(self, chat_id: int, chat_type: str) -> int | None:
        """Seconds to wait before a message to this chat is allowed, or None if it is allowed.

        A rejection is counted in :attr:`rejections`; an allowed check does not consume
        capacity until :meth:`record` is called for the message actually sent.
        """
        now = self._now()
        waits = [
            self._wait(
                self._per_chat.setdefault(chat_id, deque()), self._limit_for(chat_type), now
            ),
            self._wait(self._all, self._overall, now),
        ]
        worst = max((w for w in waits if w is not None), default=None)
        if worst is not None:
            self.rejections += 1
        return worst

    def record(self, chat_id: int) -> None:
        """Count one message sent to ``chat_id`` now."""
        now = self._now()
        self._per_chat.setdefault(chat_id, deque()).append(now)
        self._all.append(now)
