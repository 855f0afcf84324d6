"""The deadline index in a Redis sorted set, shared by several workers.

Score = due time (epoch seconds), member = case id. `pop_due` claims entries with ZREM:
whichever worker removes a member owns that firing; the guarded transaction in the engine
is the second line of defence. Redis keeps nothing the database does not also hold.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")

# Atomically take up to ARGV[2] members due by ARGV[1]: no two workers get the same one.
_POP_DUE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
return ids
"""


class RedisDeadlineIndex:
    def __init__(self, redis: Redis, key: str = "gridcall:deadlines:ack") -> None:
        self.redis = redis
        self.key = key
        self._pop = redis.register_script(_POP_DUE)

    async def add(self, case_id: int, due: datetime) -> None:
        await self.redis.zadd(self.key, {str(case_id): due.timestamp()})

    async def add_many(self, items: Mapping[int, datetime]) -> None:
        """One ZADD for a whole fired batch: a round trip per case would cost more than
        the batch's transaction."""
        if items:
            await self.redis.zadd(self.key, {str(i): due.timestamp() for i, due in items.items()})

    async def rebuild(self, items: Iterable[tuple[int, datetime]]) -> None:
        mapping = {str(case_id): due.timestamp() for case_id, due in items}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key)
            for start in range(0, len(mapping), 10_000):
                chunk = dict(list(mapping.items())[start : start + 10_000])
                pipe.zadd(self.key, chunk)
            await pipe.execute()

    async def next_due(self) -> datetime | None:
        first = await self.redis.zrange(self.key, 0, 0, withscores=True)
        if not first:
            return None
        return datetime.fromtimestamp(float(first[0][1]), UTC)

    async def pop_due(self, now: datetime, limit: int = 500) -> list[int]:
        ids = await self._pop(keys=[self.key], args=[now.timestamp(), limit])
        return [int(i) for i in ids]

    async def size(self) -> int:
        return int(await self.redis.zcard(self.key))


RebuildFn = Callable[[], Awaitable[list[tuple[int, datetime]]]]


class FailoverDeadlineIndex:
    """The Redis index, or — while Redis is down — nothing but the database.

    During an outage every call answers as an empty index, so the scheduler falls back to its
    periodic sweep of `cases.next_due_at` (each firing still one guarded transaction, so
    several workers sweeping at once cannot double a step). It says so once in the log and
    counts it (`fallbacks`, exported as a metric). When Redis answers again the index is
    rebuilt from the database before it is trusted.
    """

    def __init__(
        self, inner: RedisDeadlineIndex, rebuild: RebuildFn, probe_every: float = 5.0
    ) -> None:
        self.inner = inner
        self._rebuild = rebuild
        self.probe_every = probe_every
        self.fallbacks = 0
        self.down = False
        self._next_probe = 0.0

    async def _recovered(self) -> bool:
        """While down, ask Redis again at most every `probe_every` seconds."""
        now = time.monotonic()
        if now < self._next_probe:
            return False
        self._next_probe = now + self.probe_every
        try:
            await self.inner.rebuild(await self._rebuild())
        except (RedisError, OSError):
            return False
        self.down = False
        log.warning("Redis is back: deadline index rebuilt from the database")
        return True

    async def _call(self, op: Callable[[], Awaitable[T]], default: T) -> T:
        if self.down and not await self._recovered():
            return default
        try:
            return await op()
        except (RedisError, OSError) as exc:
            if not self.down:
                self.down = True
                self.fallbacks += 1
                log.warning(
                    "Redis unavailable (%s): deadlines come from the database sweep until it "
                    "is back",
                    type(exc).__name__,
                )
            return default

    async def add(self, case_id: int, due: datetime) -> None:
        await self._call(lambda: self.inner.add(case_id, due), None)

    async def add_many(self, items: Mapping[int, datetime]) -> None:
        await self._call(lambda: self.inner.add_many(items), None)

    async def rebuild(self, items: Iterable[tuple[int, datetime]]) -> None:
        listed = list(items)
        await self._call(lambda: self.inner.rebuild(listed), None)

    async def next_due(self) -> datetime | None:
        return await self._call(self.inner.next_due, None)

    async def pop_due(self, now: datetime, limit: int = 500) -> list[int]:
        return await self._call(lambda: self.inner.pop_due(now, limit), [])

    async def size(self) -> int:
        return await self._call(self.inner.size, 0)
