"""Telegram's sending limits, kept in-process or shared by every worker through Redis.

Telegram allows a bot about 30 messages a second overall, one a second in a private chat
and 20 a minute in a group; going faster earns a 429 and, repeated, a longer ban. One
worker can count that in memory. Several workers sending for the same bot must share the
count, or each would use the whole allowance: `RedisRateLimiter` keeps it in Redis and
decides atomically (one Lua script per decision), keyed per bot.

A decision is a reservation. `acquire` either grants a `Slot` (and counts it at once, so a
concurrent worker sees it) or says when to ask again. After the request, `settle` moves the
reservation to the moment the platform answered: the server counted the message somewhere
between the two, so spacing the next message from the answer — not from the request —
keeps our count at least as strict as the server's, whatever the latency.

Time is always passed in (the sender's injected clock), never read here, so tests and the
simulated benchmark move it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

WINDOW = timedelta(seconds=1)


@dataclass(frozen=True)
class SendLimits:
    """Telegram's documented limits: ~1 msg/s per chat, 20/min per group, ~30/s overall.

    A group gets one message every 3 s rather than bursts of 20 then silence: the same
    20 a minute, and a burst of reports gets bundled instead of queued behind a wall.
    """

    private_interval: float = 1.0
    group_interval: float = 3.0
    global_per_second: int = 30

    @classmethod
    def unlimited(cls) -> SendLimits:
        return cls(private_interval=0.0, group_interval=0.0, global_per_second=1_000_000)

    def interval(self, chat_id: int) -> timedelta:
        """Negative ids are groups, supergroups and channels; positive ones are people."""
        seconds = self.group_interval if chat_id < 0 else self.private_interval
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Slot:
    """The answer to "may I send to this chat now?".

    Granted: `at` is the reserved instant and `token` names the reservation for `settle`.
    Refused: `at` is when to ask again and `scope` says whether the chat ("chat") or the
    bot's overall allowance ("global") is used up — a global refusal means no other chat
    can go either, so the sender stops trying until `at`.
    """

    granted: bool
    at: datetime
    chat_id: int
    scope: Literal["chat", "global"] = "chat"
    token: str = ""
    source: Literal["memory", "redis"] = "memory"


class RateLimiter(Protocol):
    """What the outbox sender needs from a limiter; see the module docstring."""

    async def acquire(self, chat_id: int, now: datetime) -> Slot:
        """Reserve a message to `chat_id` at `now`, or say when to ask again."""
        ...

    async def settle(self, slot: Slot, done: datetime) -> None:
        """The request of a granted slot finished at `done`: count it from then."""
        ...

    async def block(self, chat_id: int, until: datetime) -> None:
        """The platform said "not before `until`" for this chat (a 429's retry_after)."""
        ...


@dataclass
class MemoryRateLimiter:
    """Per-chat spacing and a global sliding window, in this process only."""

    limits: SendLimits = field(default_factory=SendLimits)
    _next_ok: dict[int, datetime] = field(default_factory=dict)
    _recent: list[tuple[datetime, str]] = field(default_factory=list)  # sorted by time
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    async def acquire(self, chat_id: int, now: datetime) -> Slot:
        return self.try_acquire(chat_id, now)

    def try_acquire(self, chat_id: int, now: datetime) -> Slot:
        next_ok = self._next_ok.get(chat_id)
        if next_ok is not None and next_ok > now:
            return Slot(False, next_ok, chat_id, "chat")
        self._trim(now)
        if len(self._recent) >= self.limits.global_per_second:
            return Slot(False, self._recent[0][0] + WINDOW, chat_id, "global")
        token = f"m{next(self._seq)}"
        self.note(chat_id, now, token)
        return Slot(True, now, chat_id, token=token)

    def note(self, chat_id: int, at: datetime, token: str | None = None) -> None:
        """Count a message sent at `at` without asking: what another limiter granted, so
        that falling back to this one does not start from an empty count."""
        interval = self.limits.interval(chat_id)
        if interval:
            self._next_ok[chat_id] = max(at + interval, self._next_ok.get(chat_id, at))
        self._trim(at)
        bisect.insort(self._recent, (at, token or f"n{next(self._seq)}"))
        if len(self._next_ok) > 10_000:  # forget chats whose spacing ran out long ago
            self._next_ok = {c: t for c, t in self._next_ok.items() if t > at}

    async def settle(self, slot: Slot, done: datetime) -> None:
        if not slot.granted or done <= slot.at:
            return
        interval = self.limits.interval(slot.chat_id)
        if interval:
            current = self._next_ok.get(slot.chat_id, done)
            self._next_ok[slot.chat_id] = max(current, done + interval)
        entry = (slot.at, slot.token)
        index = bisect.bisect_left(self._recent, entry)
        if index < len(self._recent) and self._recent[index] == entry:
            del self._recent[index]
        bisect.insort(self._recent, (done, slot.token))

    async def block(self, chat_id: int, until: datetime) -> None:
        self._next_ok[chat_id] = max(until, self._next_ok.get(chat_id, until))

    def _trim(self, now: datetime) -> None:
        cut = bisect.bisect_right(self._recent, (now - WINDOW, "\uffff"))
        del self._recent[:cut]


# KEYS: chat key, global window (sorted set). ARGV: now, chat interval, per second, window
# (all in ms), reservation token. Returns {granted, at, scope} (scope 1 = chat, 2 = global).
_ACQUIRE = """
local now = tonumber(ARGV[1])
local next_ok = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_ok > now then return {0, next_ok, 1} end
local window = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) + window, 2}
end
local interval = tonumber(ARGV[2])
if interval > 0 then
  redis.call('SET', KEYS[1], now + interval, 'PX', interval + 60000)
end
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[2], window + 60000)
return {1, now, 0}
"""

# KEYS as above. ARGV: done, chat interval, window (ms), token. Moves the reservation.
_SETTLE = """
local done = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
if interval > 0 then
  local next_ok = tonumber(redis.call('GET', KEYS[1]) or '0')
  if done + interval > next_ok then
    redis.call('SET', KEYS[1], done + interval, 'PX', interval + 60000)
  end
end
redis.call('ZADD', KEYS[2], done, ARGV[4])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]) + 60000)
return 1
"""

# KEYS[1]: chat key. ARGV: until (ms), how long to keep the key (ms). Never shortens a wait.
_BLOCK = """
local till = tonumber(ARGV[1])
local next_ok = tonumber(redis.call('GET', KEYS[1]) or '0')
if till > next_ok then
  redis.call('SET', KEYS[1], till, 'PX', tonumber(ARGV[2]))
end
return 1
"""


def _ms(moment: datetime) -> int:
    """Milliseconds since the epoch, rounded up: a reservation is never earlier than real."""
    return math.ceil(moment.timestamp() * 1000)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class RedisRateLimiter:
    """The same limits shared through Redis by every worker sending for one bot.

    Keys: `<prefix>:{<bot>}:chat:<id>` holds the chat's next allowed instant and
    `<prefix>:{<bot>}:all` the bot's last second of messages (a sorted set). The braces
    keep one bot's keys in one cluster slot, so a script may touch them together. Every
    call is bounded by `timeout`: a Redis that hangs must not stall the sender (the caller,
    `FailoverRateLimiter`, falls back instead).
    """

    def __init__(
        self,
        redis: Redis,
        limits: SendLimits,
        *,
        bot: int | str,
        prefix: str = "gridcall:ratelimit",
        timeout: float = 0.5,
    ) -> None:
        self.redis = redis
        self.limits = limits
        self.timeout = timeout
        self._base = f"{prefix}:{{{bot}}}"
        self._acquire = redis.register_script(_ACQUIRE)
        self._settle = redis.register_script(_SETTLE)
        self._block = redis.register_script(_BLOCK)

    def chat_key(self, chat_id: int) -> str:
        return f"{self._base}:chat:{chat_id}"

    @property
    def global_key(self) -> str:
        return f"{self._base}:all"

    async def acquire(self, chat_id: int, now: datetime) -> Slot:
        token = uuid.uuid4().hex
        interval = _ms_delta(self.limits.interval(chat_id))
        args: list[int | str] = [
            _ms(now),
            interval,
            self.limits.global_per_second,
            _ms_delta(WINDOW),
            token,
        ]
        keys = [self.chat_key(chat_id), self.global_key]
        granted, at, scope = await asyncio.wait_for(
            self._acquire(keys=keys, args=args, client=self.redis), self.timeout
        )
        if granted:
            return Slot(True, now, chat_id, token=token, source="redis")
        return Slot(False, _moment(int(at)), chat_id, "chat" if scope == 1 else "global")

    async def settle(self, slot: Slot, done: datetime) -> None:
        if not slot.granted or done <= slot.at:
            return
        interval = _ms_delta(self.limits.interval(slot.chat_id))
        args: list[int | str] = [_ms(done), interval, _ms_delta(WINDOW), slot.token]
        keys = [self.chat_key(slot.chat_id), self.global_key]
        await asyncio.wait_for(self._settle(keys=keys, args=args, client=self.redis), self.timeout)

    async def block(self, chat_id: int, until: datetime) -> None:
        # The key only has to outlive the wait; an hour covers any retry_after we honour.
        keep = min(max(_ms(until) - _ms(datetime.now(UTC)), 0), 3_600_000) + 60_000
        args = [_ms(until), keep]
        await asyncio.wait_for(
            self._block(keys=[self.chat_key(chat_id)], args=args, client=self.redis),
            self.timeout,
        )


def _ms_delta(delta: timedelta) -> int:
    return math.ceil(delta.total_seconds() * 1000)


#: What a Redis that is down, unreachable or too slow raises.
REDIS_DOWN: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class FailoverRateLimiter:
    """Redis while it answers; the in-process limiter while it does not.

    Sending must not stop because Redis did: during an outage each worker paces alone
    (which may exceed the shared allowance if several are sending — a 429 is still
    honoured), logs one warning per outage and counts it in `fallbacks`. Every grant from
    Redis is also noted in memory, so a fallback starts from what this worker just sent.
    Redis is asked again `retry_every` after it failed (on the sender's clock), and used
    again as soon as it answers.
    """

    def __init__(
        self,
        primary: RedisRateLimiter,
        fallback: MemoryRateLimiter | None = None,
        *,
        retry_every: timedelta = timedelta(seconds=5),
    ) -> None:
        self.primary = primary
        self.fallback = fallback or MemoryRateLimiter(primary.limits)
        self.retry_every = retry_every
        self.fallbacks = 0
        self.down = False
        self._retry_at: datetime | None = None

    async def acquire(self, chat_id: int, now: datetime) -> Slot:
        if self.down and self._retry_at is not None and now < self._retry_at:
            return await self.fallback.acquire(chat_id, now)
        try:
            slot = await self.primary.acquire(chat_id, now)
        except REDIS_DOWN as exc:
            self._went_down(now, exc)
            return await self.fallback.acquire(chat_id, now)
        if self.down:
            log.warning("Redis answers again: sending limits are shared through it again")
            self.down = False
        if slot.granted:
            self.fallback.note(chat_id, now, slot.token)
        return slot

    async def settle(self, slot: Slot, done: datetime) -> None:
        await self.fallback.settle(slot, done)
        if slot.source != "redis":
            return
        try:
            await self.primary.settle(slot, done)
        except REDIS_DOWN as exc:
            self._went_down(done, exc)

    async def block(self, chat_id: int, until: datetime) -> None:
        await self.fallback.block(chat_id, until)
        if self.down:
            return
        try:
            await self.primary.block(chat_id, until)
        except REDIS_DOWN as exc:
            self._went_down(until, exc)

    def _went_down(self, now: datetime, exc: BaseException) -> None:
        self._retry_at = now + self.retry_every
        if self.down:
            return
        self.down = True
        self.fallbacks += 1
        log.warning(
            "Redis unavailable for sending limits (%s): pacing in this process until it "
            "answers again",
            exc or type(exc).__name__,
        )
