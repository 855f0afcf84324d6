"""A job done once a day at a local time (the morning digest), on the injected clock.

The runner only decides *when*; the job itself claims its day in the database (a `JobRun`
row, see `storage.jobs`) in the same transaction as what it writes, so with several workers,
or after a restart, each day's job is done once. Started after today's time has passed (the
service was down at 08:30), it catches up at once — once, because the claim is already
there on every later start that day. Days missed entirely are not replayed: yesterday's
digest is no news today.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from escalation.clock import Clock, sleep_until_or_woken

log = logging.getLogger(__name__)

#: After a failed run (the database was down), try again this much later.
RETRY_AFTER = timedelta(minutes=1)

#: The job: given the moment it runs and the local day (YYYY-MM-DD) it runs for.
Job = Callable[[datetime, str], Awaitable[object]]


def parse_clock_time(value: str) -> time:
    """Parse "08:30" (the org file has already validated it)."""
    hours, _, minutes = value.partition(":")
    return time(int(hours), int(minutes or 0))


class DailyRunner:
    def __init__(self, clock: Clock, timezone: str, at: time, job: Job, *, name: str) -> None:
        self.clock = clock
        self.tz = ZoneInfo(timezone)
        self.at = at
        self.job = job
        self.name = name
        # When the loop next looks; None until it first did (so it counts as due).
        self.next_at: datetime | None = None
        self.running = False
        self._wake = asyncio.Event()

    def slot(self, day: date) -> datetime:
        """The instant of `day`'s run: the local time in the org's zone."""
        return datetime.combine(day, self.at, tzinfo=self.tz)

    def due(self, now: datetime) -> bool:
        """True while a run is due or under way: `GridcallApp.idle()` is False meanwhile."""
        return self.running or self.next_at is None or self.next_at <= now

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self, now: datetime) -> datetime:
        """Run today's job if its time has come; return when to look again."""
        today = now.astimezone(self.tz).date()
        slot = self.slot(today)
        if now < slot:
            return slot
        self.running = True
        try:
            await self.job(now, today.isoformat())
        except Exception:
            log.exception("%s for %s failed; trying again shortly", self.name, today)
            return now + RETRY_AFTER
        finally:
            self.running = False
        return self.slot(today + timedelta(days=1))

    async def run(self) -> None:
        while True:
            self.next_at = await self.run_once(self.clock.now())
            self._wake.clear()
            await sleep_until_or_woken(self.clock, self.next_at, self._wake)
