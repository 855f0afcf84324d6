"""The deadline scheduler: an index of deadlines, and the loop that fires them.

The index is only an index: it can always be rebuilt from the cases table, and the loop also
sweeps the table for overdue cases, so a deadline lost from the index still fires — once,
because the engine's guarded transaction decides. Deadlines get lost in two ways: a crash
between a commit and its indexing, and (with a shared Redis index) a worker killed after it
claimed entries and before it fired them; the sweep covers both.

In-process by default (a heap); a Redis sorted set when several workers share the work.
Due entries are claimed `batch_size` at a time and fired together (`escalation.batch`), so
a thousand deadlines due in the same second cost a handful of transactions, and several
workers sharing an index each take their own slices of a burst. Because deadlines are
known in advance, the loop also works ahead: shortly before a deadline it decides what
firing it writes and, at the instant, only commits (`Scheduler.fire_ahead`).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from escalation.clock import Clock, sleep_until_or_woken

log = logging.getLogger(__name__)


class DeadlineIndex(Protocol):
    async def add(self, case_id: int, due: datetime) -> None: ...

    async def add_many(self, items: Mapping[int, datetime]) -> None:
        """`add` for many entries in one go (one round trip for Redis)."""
        ...

    async def rebuild(self, items: Iterable[tuple[int, datetime]]) -> None: ...

    async def next_due(self) -> datetime | None: ...

    async def pop_due(self, now: datetime, limit: int = 500) -> list[int]:
        """Claim the entries due by `now`; each entry is handed to exactly one caller."""
        ...

    async def size(self) -> int: ...


class MemoryDeadlineIndex:
    """A heap with lazy deletion: `add` replaces a case's deadline in O(log n).

    A float and an int per case, in a dict entry and a heap tuple: the objects of 100,000
    open cases take about 17 MB, where a scheduler holding a job object per deadline takes
    several times that (see BENCHMARKS.md, "Scheduler").
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._due: dict[int, float] = {}

    async def add(self, case_id: int, due: datetime) -> None:
        ts = due.timestamp()
        self._due[case_id] = ts
        heapq.heappush(self._heap, (ts, case_id))
        self._compact()

    async def add_many(self, items: Mapping[int, datetime]) -> None:
        for case_id, due in items.items():
            ts = due.timestamp()
            self._due[case_id] = ts
            heapq.heappush(self._heap, (ts, case_id))
        self._compact()

    def _compact(self) -> None:
        """Replaced deadlines stay in the heap until they surface; rebuild it when they
        outnumber the live ones, so memory stays proportional to the open cases."""
        if len(self._heap) > 2 * len(self._due) + 1024:
            self._heap = [(ts, case_id) for case_id, ts in self._due.items()]
            heapq.heapify(self._heap)

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


Results = dict[int, datetime | None]
OnCommit = Callable[[Results], Awaitable[None]]
FireFn = Callable[[int, datetime], Awaitable[datetime | None]]
#: Fires many cases; calls the hook with each committed chunk's results as it goes.
BatchFireFn = Callable[[list[int], datetime, OnCommit], Awaitable[Results]]
SweepFn = Callable[[datetime], Awaitable[list[int]]]
RebuildFn = Callable[[], Awaitable[list[tuple[int, datetime]]]]


class Ready(Protocol):
    """Cases whose firing at some instant is decided but not yet committed."""

    ids: list[int]

    async def commit(self, on_commit: OnCommit | None = None) -> Results: ...


PrepareFn = Callable[[list[int], datetime], Awaitable[Ready]]

RETRY_AFTER = timedelta(seconds=5)


class Scheduler:
    """Fires due deadlines and re-indexes whatever deadline comes next.

    `fire_batch`, when given, fires the due entries `batch_size` at a time; a batch that
    fails is retried case by case through `fire` (the proven path), and a case that fails
    there too is put back a few seconds later.

    `prepare_batch`, when given, lets the loop work ahead: deadlines are known in advance,
    so `lookahead` before the next one it claims the entries due then, has the engine decide
    what firing them writes, and at the instant only commits (see `fire_ahead`). A burst of
    a thousand deadlines then costs, at its instant, a few bulk writes instead of a thousand
    engine runs.

    `sweep_grace` is how overdue a case must be before the sweep takes it: with a shared
    index another worker may be firing it right now, and the grace keeps the sweep from
    doing that work twice. `on_committed` is called after each commit (the app wakes the
    outbox sender with it).
    """

    def __init__(
        self,
        index: DeadlineIndex,
        clock: Clock,
        fire: FireFn,
        sweep: SweepFn,
        rebuild: RebuildFn,
        sweep_every: timedelta = timedelta(seconds=5),
        *,
        fire_batch: BatchFireFn | None = None,
        prepare_batch: PrepareFn | None = None,
        batch_size: int = 200,
        lookahead: timedelta = timedelta(seconds=2),
        sweep_grace: timedelta = timedelta(0),
        on_committed: Callable[[], None] | None = None,
    ) -> None:
        self.index = index
        self.clock = clock
        self._fire = fire
        self._fire_batch = fire_batch
        self._prepare = prepare_batch
        self._sweep = sweep
        self._rebuild = rebuild
        self._sweep_every = sweep_every
        self._sweep_grace = sweep_grace
        self._on_committed = on_committed
        self.batch_size = batch_size
        self.lookahead = lookahead
        self._wake = asyncio.Event()
        self.busy = False
        self.fired = 0
        self.batch_failures = 0

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
            while ids := await self.index.pop_due(now, limit=self.batch_size):
                count += await self._fire_all(ids, now)
            swept = await self._sweep(now - self._sweep_grace)
            if swept:
                log.info("sweep found %s overdue case(s) missing from the index", len(swept))
                count += await self._fire_all(swept, now)
            return count
        finally:
            self.busy = False

    def _committed(self, done: set[int]) -> OnCommit:
        """The hook a batch calls after each commit: index what comes next, count, and
        remember what is done (so a later failure retries only the rest)."""

        async def hook(results: Results) -> None:
            done.update(results)
            self.fired += len(results)
            nxt = {case_id: due for case_id, due in results.items() if due is not None}
            if nxt:
                await self.index.add_many(nxt)
            if self._on_committed is not None:
                self._on_committed()

        return hook

    async def _fire_all(self, ids: list[int], now: datetime) -> int:
        done: set[int] = set()
        if self._fire_batch is not None:
            try:
                await self._fire_batch(ids, now, self._committed(done))
            except Exception:
                self.batch_failures += 1
                log.exception(
                    "firing %s deadlines together failed; firing the rest one by one",
                    len(ids) - len(done),
                )
        fired = len(done)
        for case_id in ids:
            if case_id in done:
                continue
            try:
                nxt = await self._fire(case_id, now)
            except Exception:
                log.exception(
                    "deadline of case %s failed; it stays due and will be retried", case_id
                )
                await self.index.add(case_id, now + RETRY_AFTER)
                continue
            fired += 1
            self.fired += 1
            if nxt is not None:
                await self.index.add(case_id, nxt)
        return fired

    async def fire_ahead(self, at: datetime) -> int:
        """Claim the entries due at `at`, decide them now, commit them at `at`.

        Claimed entries leave the index (with Redis, no other worker takes them); if this
        worker dies before committing, they are still due in the cases table and the sweep
        fires them. Whatever cannot be prepared in time stays in the index for `run_due`.
        Returns how many cases were committed.
        """
        assert self._prepare is not None
        ready: list[Ready] = []
        self.busy = True
        try:
            while self.clock.now() < at:
                ids = await self.index.pop_due(at, limit=self.batch_size)
                if not ids:
                    break
                try:
                    ready.append(await self._prepare(ids, at))
                except Exception:
                    log.exception("preparing %s deadlines failed; they fire when due", len(ids))
                    await self.index.add_many(dict.fromkeys(ids, at))
        finally:
            self.busy = False
        if not ready:
            return 0  # another worker claimed them first
        await self.clock.sleep_until(at)
        self.busy = True
        try:
            # The chunks hold disjoint cases: committed side by side, the database works
            # on several at once (each locks its own rows, in id order).
            counts = await asyncio.gather(*(self._commit(batch, at) for batch in ready))
            return sum(counts)
        finally:
            self.busy = False

    async def _commit(self, batch: Ready, at: datetime) -> int:
        done: set[int] = set()
        try:
            await batch.commit(self._committed(done))
        except Exception:
            self.batch_failures += 1
            log.exception("committing prepared deadlines failed; they fire when due")
            rest = [case_id for case_id in batch.ids if case_id not in done]
            await self.index.add_many(dict.fromkeys(rest, at))
        return len(done)

    async def run(self) -> None:
        """The loop: fire what is due; then, if the next deadline is near, work ahead for
        it; else sleep until it nears, an earlier one is added, or the next sweep."""
        while True:
            self._wake.clear()  # before reading the index: a later schedule() wakes us
            await self.run_due()
            now = self.clock.now()
            nxt = await self.index.next_due()
            ahead = self._prepare is not None
            if ahead and nxt is not None and now < nxt <= now + self.lookahead:
                await self.fire_ahead(nxt)
                continue
            wake_at = now + self._sweep_every
            if nxt is not None:
                wake_at = min(wake_at, nxt - self.lookahead if ahead else nxt)
            await sleep_until_or_woken(self.clock, wake_at, self._wake)
