"""The deadline scheduler: an index of acknowledge deadlines, and the loop that fires them.

The index is only an index: it can always be rebuilt from the cases table, and the loop also
sweeps the table for overdue cases now and then, so a deadline lost from the index (a crash
between commit and indexing) still fires. In-process by default (a heap); a Redis sorted set
when several workers share the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from escalation.clock import Clock

log = logging.getLogger(__name__)


class DeadlineIndex(Protocol):
    async def add(self, case_id: int, due: datetime) -> None: ...

    async def rebuild(self, items: Iterable[tuple[int, datetime]]) -> None: ...

    async def next_due(self) -> datetime | None: ...

    async def pop_due(self, now: datetime, limit: int = 500) -> list[int]:
        """Claim the entries due by `now`; each entry is handed to exactly one caller."""
        ...

    async def size(self) -> int: ...


class MemoryDeadlineIndex:
    """A heap with lazy deletion: `add` replaces a case's deadline in O(log n)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._due: dict[int, float] = {}

    async def add(self, case_id: int, due: datetime) -> None:
        ts = due.timestamp()
        self._due[case_id] = ts
        heapq.heappush(self._heap, (ts, case_id))

    async def rebuild(self, items: Iterable[tuple[int, datetime]]) -> None:
        self._due = {case_id: due.timestamp() for case_id, due in items}
        self._heap = [(ts, case_id) for case_id, ts in self._due.items()]
        heapq.heapify(self._heap)

    def _drop_stale(self) -> None:
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    async def next_due(self) -> datetime | None:
        self._drop_stale()
        if not self._heap:
            return None
        return datetime.fromtimestamp(self._heap[0][0], UTC)

    async def pop_due(self, now: datetime, limit: int = 500) -> list[int]:
        out: list[int] = []
        limit_ts = now.timestamp()
        while len(out) < limit:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > limit_ts:
                break
            _, case_id = heapq.heappop(self._heap)
            del self._due[case_id]
            out.append(case_id)
        return out

    async def size(self) -> int:
        return len(self._due)


FireFn = Callable[[int, datetime], Awaitable[datetime | None]]
SweepFn = Callable[[datetime], Awaitable[list[int]]]
RebuildFn = Callable[[], Awaitable[list[tuple[int, datetime]]]]


class Scheduler:
    """Fires due deadlines through `fire` and re-indexes whatever deadline comes next."""

    def __init__(
        self,
        index: DeadlineIndex,
        clock: Clock,
        fire: FireFn,
        sweep: SweepFn,
        rebuild: RebuildFn,
        sweep_every: timedelta = timedelta(seconds=30),
    ) -> None:
        self.index = index
        self.clock = clock
        self._fire = fire
        self._sweep = sweep
        self._rebuild = rebuild
        self._sweep_every = sweep_every
        self._wake = asyncio.Event()
        self.busy = False
        self.fired = 0

    async def start(self) -> int:
        """Rebuild the index from the database; returns how many deadlines it holds."""
        items = await self._rebuild()
        await self.index.rebuild(items)
        return len(items)

    async def schedule(self, case_id: int, due: datetime | None) -> None:
        if due is None:
            return
        await self.index.add(case_id, due)
        self._wake.set()

    async def run_due(self) -> int:
        """Fire everything due now (index first, then a sweep of the table); returns count."""
        self.busy = True
        try:
            now = self.clock.now()
            count = 0
            while ids := await self.index.pop_due(now):
                count += await self._fire_all(ids, now)
            count += await self._fire_all(await self._sweep(now), now)
            return count
        finally:
            self.busy = False

    async def _fire_all(self, ids: list[int], now: datetime) -> int:
        fired = 0
        for case_id in ids:
            try:
                nxt = await self._fire(case_id, now)
            except Exception:
                log.exception(
                    "deadline of case %s failed; it stays due and will be retried", case_id
                )
                await self.index.add(case_id, now + timedelta(seconds=5))
                continue
            fired += 1
            self.fired += 1
            if nxt is not None:
                await self.index.add(case_id, nxt)
        return fired

    async def run(self) -> None:
        """The loop: fire what is due, then sleep until the next deadline, an earlier one
        being added, or the next sweep of the table."""
        while True:
            self._wake.clear()  # before reading the index: a later schedule() wakes us
            await self.run_due()
            wake_at = self.clock.now() + self._sweep_every
            nxt = await self.index.next_due()
            if nxt is not None and nxt < wake_at:
                wake_at = nxt
            sleeper = asyncio.ensure_future(self.clock.sleep_until(wake_at))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, waker):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
