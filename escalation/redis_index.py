"""The deadline index in a Redis sorted set, shared by several workers.

Score = due time (epoch seconds), member = case id. `pop_due` claims entries with ZREM:
whichever worker removes a member owns that firing; the guarded transaction in the engine
is the second line of defence. Redis keeps nothing the database does not also hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from redis.asyncio import Redis

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
