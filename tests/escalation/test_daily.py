"""The daily runner: at the local time each day, once; a late start catches up at once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, time, timedelta

from escalation.clock import FakeClock
from escalation.daily import DailyRunner

START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_runs_at_the_local_time_every_day_and_says_when_it_is_due() -> None:
    clock = FakeClock(START)
    runs: list[tuple[datetime, str]] = []

    async def job(now: datetime, period: str) -> None:
        runs.append((now, period))

    runner = DailyRunner(clock, "Asia/Shanghai", time(8, 30), job, name="digest")
    assert runner.due(clock.now())  # not looked yet
    task = asyncio.create_task(runner.run())
    try:
        await settle()
        assert runs == [] and not runner.due(clock.now())
        assert runner.next_at == datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
        clock.advance(timedelta(minutes=29))
        await settle()
        assert runs == []
        clock.advance(timedelta(minutes=1))
        assert runner.due(clock.now())  # due until it has run
        await settle()
        assert runs == [(datetime(2026, 11, 25, 0, 30, tzinfo=UTC), "2026-11-25")]
        assert not runner.due(clock.now())
        clock.advance(timedelta(days=1))
        await settle()
        assert [period for _, period in runs] == ["2026-11-25", "2026-11-26"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_late_start_catches_up_at_once_and_a_failure_is_retried() -> None:
    clock = FakeClock(START + timedelta(hours=3))  # 11:00 local: today's 08:30 has passed
    runs: list[str] = []

    async def job(now: datetime, period: str) -> None:
        runs.append(period)
        if len(runs) == 1:
            raise RuntimeError("database down")

    runner = DailyRunner(clock, "Asia/Shanghai", time(8, 30), job, name="digest")
    task = asyncio.create_task(runner.run())
    try:
        await settle()
        assert runs == ["2026-11-25"]
        assert runner.next_at == clock.now() + timedelta(minutes=1)
        clock.advance(timedelta(minutes=1))
        await settle()
        assert runs == ["2026-11-25", "2026-11-25"]  # the job's own claim makes it once
        assert runner.next_at == datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
