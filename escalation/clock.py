"""Time as a dependency.

Every deadline in gridcall is computed from an injected clock, so tests move time instead of
sleeping and a benchmark can replay a day in a second. Wall-clock time is UTC-aware
throughout; the org's timezone only matters when text is shown to people.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the engine, the scheduler and the outbox need to know about time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once `now() >= when`; cancellable."""
        ...


class SystemClock:
    """The real clock, for production."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class FakeClock:
    """A clock that only moves when a test says so.

    Sleepers are parked on futures ordered by their wake-up time; `advance` releases every
    sleeper whose time has come, in order, yielding to the loop between them so that the
    work each one triggers is scheduled before time moves on.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._seq), future))
        await future

    def set(self, when: datetime) -> None:
        """Jump to an absolute instant (never backwards)."""
        if when < self._now:
            raise ValueError("a FakeClock does not go backwards")
        self._now = when
        self._wake_due()

    def advance(self, delta: timedelta) -> None:
        """Move time forward and wake every sleeper that is now due."""
        self.set(self._now + delta)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)


async def sleep_until_or_woken(clock: Clock, when: datetime, wake: asyncio.Event) -> None:
    """Sleep on `clock` until `when`, or until `wake` is set, whichever comes first.

    The loops that wait for the next due thing (the scheduler, the outbox sender) also
    need to wake early when new work is committed; both wait here.
    """
    sleeper = asyncio.ensure_future(clock.sleep_until(when))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waker):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
