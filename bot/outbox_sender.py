"""The outbox sender: delivers committed messages within the platform's limits.

Rows are claimed with a lease (a crashed sender's rows are picked up again when the lease
runs out), sent through a `Transport`, and marked sent with the platform's message ids. A
long message is sent in parts and each part's id is recorded as it goes, so a retry never
repeats a part that already arrived. Time comes from the injected clock: a 429's
`retry_after` becomes the row's `not_before`, not a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.splitting import split_html
from bot.transport import PermanentError, RetryAfter, TransientError, Transport
from escalation.clock import Clock
from storage import outbox
from storage.models import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendLimits:
    """Telegram's documented limits: ~1 msg/s per chat, 20/min per group, ~30/s overall."""

    private_interval: float = 1.0
    group_interval: float = 3.0
    global_per_second: int = 30

    @classmethod
    def unlimited(cls) -> SendLimits:
        return cls(private_interval=0.0, group_interval=0.0, global_per_second=1_000_000)


class RateLimiter:
    """Per-chat spacing and a global sliding window, on the injected clock."""

    def __init__(self, limits: SendLimits) -> None:
        self.limits = limits
        self._next_ok: dict[int, datetime] = {}
        self._recent: deque[datetime] = deque()

    def ready_at(self, chat_id: int, now: datetime) -> datetime:
        """When a message to `chat_id` may go; `now` if it may go now."""
        at = max(now, self._next_ok.get(chat_id, now))
        window = timedelta(seconds=1)
        while self._recent and self._recent[0] <= now - window:
            self._recent.popleft()
        if len(self._recent) >= self.limits.global_per_second:
            at = max(at, self._recent[0] + window)
        return at

    def record(self, chat_id: int, now: datetime) -> None:
        interval = self.limits.group_interval if chat_id < 0 else self.limits.private_interval
        self._next_ok[chat_id] = now + timedelta(seconds=interval)
        self._recent.append(now)

    def block(self, chat_id: int, until: datetime) -> None:
        self._next_ok[chat_id] = max(until, self._next_ok.get(chat_id, until))


class OutboxSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        clock: Clock,
        limits: SendLimits | None = None,
        *,
        max_attempts: int = 8,
        lease: timedelta = timedelta(seconds=60),
        idle_poll: timedelta = timedelta(seconds=5),
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.clock = clock
        self.limiter = RateLimiter(limits or SendLimits())
        self.max_attempts = max_attempts
        self.lease = lease
        self.idle_poll = idle_poll
        self._wake = asyncio.Event()
        self.busy = False
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            wake_at = await self.drain()
            sleeper = asyncio.ensure_future(self.clock.sleep_until(wake_at))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, waker):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def drain(self) -> datetime:
        """Send everything that may go now; returns when to look again."""
        self.busy = True
        try:
            now = self.clock.now()
            wake_at = now + self.idle_poll
            async with self.sessions() as session:
                ids = await outbox.due_ids(session, now)
            for row_id in ids:
                wait_until = await self._send_one(row_id)
                if wait_until is not None:
                    wake_at = min(wake_at, wait_until)
            # Read after sending: a failed row's retry time was only just written.
            async with self.sessions() as session:
                nxt = await outbox.next_due_at(session)
            if nxt is not None:
                wake_at = min(wake_at, max(nxt, now))
            return wake_at
        finally:
            self.busy = False

    async def _send_one(self, row_id: int) -> datetime | None:
        """Deliver one row; returns a time to come back if the row must wait."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            row = await session.get(Outbox, row_id)
            if row is None:
                return None
            ready = self.limiter.ready_at(row.chat_id, now)
            if ready > now:
                return ready
            if not await outbox.claim(session, row_id, now, self.lease):
                return None
            await session.refresh(row)  # `attempts` now counts this try
        await self._deliver(row)
        return None

    async def _deliver(self, row: Outbox) -> None:
        ids = list(row.platform_message_ids or [])
        parts = split_html(row.text)
        try:
            if row.kind == "edit" and row.edit_message_id is not None:
                self.limiter.record(row.chat_id, self.clock.now())
                await self.transport.edit_text(
                    row.chat_id, row.edit_message_id, parts[0], buttons=row.buttons
                )
            for index in range(len(ids), len(parts) if row.kind == "send" else 0):
                self.limiter.record(row.chat_id, self.clock.now())
                last = index == len(parts) - 1
                message_id = await self.transport.send_text(
                    row.chat_id,
                    parts[index],
                    buttons=row.buttons if last else (),
                    reply_to_message_id=row.reply_to_message_id if index == 0 else None,
                    force_reply=row.force_reply and last,
                )
                ids.append(message_id)
                await self._update(row.id, platform_message_ids=list(ids))
        except RetryAfter as exc:
            until = self.clock.now() + timedelta(seconds=exc.seconds)
            self.limiter.block(row.chat_id, until)
            log.warning("chat %s: flood limit, retry after %ss", row.chat_id, exc.seconds)
            await self._update(row.id, status="pending", not_before=until, last_error=str(exc))
            return
        except TransientError as exc:
            await self._retry_or_fail(row, str(exc))
            return
        except PermanentError as exc:
            log.error("outbox %s to chat %s failed for good: %s", row.id, row.chat_id, exc)
            self.failed += 1
            await self._update(row.id, status="failed", last_error=str(exc))
            return
        self.sent += 1
        await self._update(row.id, status="sent", sent_at=self.clock.now(), last_error=None)

    async def _retry_or_fail(self, row: Outbox, error: str) -> None:
        attempts = row.attempts
        if attempts >= self.max_attempts:
            log.error("outbox %s to chat %s gave up after %s tries", row.id, row.chat_id, attempts)
            self.failed += 1
            await self._update(row.id, status="failed", last_error=error)
            return
        backoff = timedelta(seconds=min(300, 2 ** (attempts - 1)))
        log.warning("outbox %s: transient failure (%s), retry in %s", row.id, error, backoff)
        await self._update(
            row.id, status="pending", not_before=self.clock.now() + backoff, last_error=error
        )

    async def _update(self, row_id: int, **values: object) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(Outbox, row_id)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)
