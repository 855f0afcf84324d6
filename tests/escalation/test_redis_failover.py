"""Redis down: the deadline index answers as empty (the database sweep takes over), says so
once, and is rebuilt from the database when Redis is back."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from escalation.clock import FakeClock
from escalation.redis_index import FailoverDeadlineIndex, RedisDeadlineIndex


class Flaky(RedisDeadlineIndex):
    """A real Redis index that can be switched off."""

    broken = False

    async def pop_due(self, now, limit=500):  # type: ignore[no-untyped-def]
        if self.broken:
            raise RedisConnectionError("Connection refused")
        return await super().pop_due(now, limit)

    async def add(self, case_id, due):  # type: ignore[no-untyped-def]
        if self.broken:
            raise RedisConnectionError("Connection refused")
        await super().add(case_id, due)

    async def rebuild(self, items):  # type: ignore[no-untyped-def]
        if self.broken:
            raise RedisConnectionError("Connection refused")
        await super().rebuild(items)


async def test_outage_falls_back_and_recovery_rebuilds(redis: Redis, clock: FakeClock) -> None:
    key = f"{redis.test_prefix}:ack"  # type: ignore[attr-defined]
    inner = Flaky(redis, key)
    truth = [(1, clock.now() + timedelta(minutes=1)), (2, clock.now() + timedelta(minutes=2))]

    async def from_database() -> list[tuple[int, object]]:
        return list(truth)

    index = FailoverDeadlineIndex(inner, rebuild=from_database, probe_every=0)  # type: ignore[arg-type]
    await index.rebuild(truth)
    inner.broken = True
    await index.add(3, clock.now())
    assert await index.pop_due(clock.now() + timedelta(hours=1)) == []
    assert await index.pop_due(clock.now() + timedelta(hours=1)) == []
    assert index.down and index.fallbacks == 1  # one outage, counted once

    truth.append((4, clock.now() + timedelta(minutes=3)))  # written while Redis was down
    inner.broken = False
    due = await index.pop_due(clock.now() + timedelta(hours=1))
    assert sorted(due) == [1, 2, 4] and not index.down


async def test_an_unreachable_redis_never_raises(clock: FakeClock) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)

    async def from_database() -> list[tuple[int, object]]:
        return []

    index = FailoverDeadlineIndex(RedisDeadlineIndex(dead), rebuild=from_database)  # type: ignore[arg-type]
    try:
        assert await index.next_due() is None
        assert await index.pop_due(clock.now()) == []
        assert await index.size() == 0
        assert index.fallbacks == 1
    finally:
        await dead.aclose()
