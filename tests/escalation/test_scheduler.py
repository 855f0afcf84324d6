"""The scheduler with batch firing: bursts, fallbacks, and workers sharing a Redis index.

What is checked here is what the issue promises of the scheduler itself: every deadline
fires, once, whether it comes from the index, from a sweep after a worker died holding it,
or from the one-by-one path after a batch failed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.batch import PreparedBatch, fire_batch, prepare_batch
from escalation.clock import FakeClock
from escalation.engine import fire_due
from escalation.redis_index import RedisDeadlineIndex
from escalation.scheduler import DeadlineIndex, MemoryDeadlineIndex, Scheduler
from handlers.context import Services
from handlers.core import Core
from handlers.events import InboundEvent
from handlers.notify import CaseNotifier
from org.file import OrgConfig
from org.view import OrgView
from storage import cases
from storage.db import create_engine, migrate, sessionmaker
from storage.models import Case, CaseEvent, Outbox
from storage.org_import import import_org, load_view
from tests.handlers.test_core import resident_says
from triage.classifier import classify

Results = dict[int, datetime | None]
OnCommit = Callable[[Results], Awaitable[None]]
STREET_LAMP = "{n}号楼门口的路灯坏了三天"  # municipal, normal: two hours to acknowledge
GRACE = timedelta(seconds=2)  # the sweep's grace with a shared index, as in bot/app.py


async def file_reports(
    sessions: async_sessionmaker[AsyncSession], org: OrgView, clock: FakeClock, count: int
) -> list[int]:
    core = Core(Services(sessions=sessions, clock=clock, org=org, classify=classify))
    for n in range(1, count + 1):
        await core.handle(resident_says(STREET_LAMP.format(n=n), update_id=n, message_id=n))
    async with sessions() as session:
        return list((await session.execute(select(Case.id).order_by(Case.id))).scalars())


def make_scheduler(
    sessions: async_sessionmaker[AsyncSession],
    org: OrgView,
    clock: FakeClock,
    index: DeadlineIndex,
    *,
    batch: bool = True,
    batch_size: int = 200,
    sweep_grace: timedelta = timedelta(0),
    breaks_after: int | None = None,
    ahead: bool = False,
) -> tuple[Scheduler, list[int]]:
    """A scheduler wired as `bot/app.py` wires it; `breaks_after` makes the batch path
    fail after that many committed chunks. Also returns the ids fired one by one."""
    notifier = CaseNotifier(Services(sessions=sessions, clock=clock, org=org, classify=classify))
    singly: list[int] = []

    async def fire(case_id: int, now: datetime) -> datetime | None:
        singly.append(case_id)
        return await fire_due(sessions, case_id, org, now, notifier)

    async def fire_many(ids: list[int], now: datetime, on_commit: OnCommit) -> Results:
        chunks = 0

        async def committed(results: Results) -> None:
            nonlocal chunks
            await on_commit(results)
            chunks += 1
            if breaks_after is not None and chunks >= breaks_after:
                raise ConnectionError("the database went away")

        return await fire_batch(
            sessions, ids, org, now, notifier, chunk_size=5, on_commit=committed
        )

    async def prepare(ids: list[int], at: datetime) -> PreparedBatch:
        return await prepare_batch(sessions, ids, org, at, notifier)

    async def sweep(now: datetime) -> list[int]:
        async with sessions() as session:
            return await cases.due_case_ids(session, now)

    async def rebuild() -> list[tuple[int, datetime]]:
        async with sessions() as session:
            return await cases.pending_deadlines(session)

    scheduler = Scheduler(
        index,
        clock,
        fire,
        sweep,
        rebuild,
        fire_batch=fire_many if batch else None,
        prepare_batch=prepare if ahead else None,
        batch_size=batch_size,
        sweep_grace=sweep_grace,
    )
    return scheduler, singly


async def climbs(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessions() as session:
        stmt = select(CaseEvent.case_id).where(CaseEvent.kind == "escalated")
        return sorted((await session.execute(stmt)).scalars())


async def no_duplicate_messages(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        total = (await session.execute(select(func.count(Outbox.id)))).scalar_one()
        keys = (
            await session.execute(select(func.count(func.distinct(Outbox.dedupe_key))))
        ).scalar_one()
    return bool(total == keys)


async def test_a_burst_is_fired_in_batches_each_deadline_once(
    world: tuple[async_sessionmaker[AsyncSession], OrgView], clock: FakeClock
) -> None:
    sessions, org_view = world
    ids = await file_reports(sessions, org_view, clock, 12)
    scheduler, singly = make_scheduler(sessions, org_view, clock, MemoryDeadlineIndex())
    assert await scheduler.start() == 12
    clock.advance(timedelta(hours=2))
    assert await scheduler.run_due() == 12
    assert await scheduler.run_due() == 0
    assert singly == []  # all through the batch path
    assert await climbs(sessions) == ids
    # Each case's next deadline (the community's) is indexed, two hours on.
    assert await scheduler.index.size() == 12
    assert await scheduler.index.next_due() == clock.now() + timedelta(hours=2)
    assert await no_duplicate_messages(sessions)


async def test_a_failing_batch_falls_back_to_one_by_one_for_what_it_did_not_commit(
    world: tuple[async_sessionmaker[AsyncSession], OrgView], clock: FakeClock
) -> None:
    sessions, org_view = world
    ids = await file_reports(sessions, org_view, clock, 12)
    scheduler, singly = make_scheduler(
        sessions, org_view, clock, MemoryDeadlineIndex(), breaks_after=1
    )
    await scheduler.start()
    clock.advance(timedelta(hours=2))
    assert await scheduler.run_due() == 12
    assert scheduler.batch_failures == 1
    assert singly == ids[5:]  # the first chunk of five committed; the rest went singly
    assert await climbs(sessions) == ids
    assert await scheduler.index.size() == 12
    assert await no_duplicate_messages(sessions)


async def test_a_case_that_fails_both_ways_is_retried_later(
    world: tuple[async_sessionmaker[AsyncSession], OrgView], clock: FakeClock
) -> None:
    sessions, org_view = world
    await file_reports(sessions, org_view, clock, 1)
    index = MemoryDeadlineIndex()

    async def broken(case_id: int, now: datetime) -> datetime | None:
        raise ConnectionError("the database went away")

    async def broken_batch(ids: list[int], now: datetime, on_commit: OnCommit) -> Results:
        raise ConnectionError("the database went away")

    async def nothing(now: datetime) -> list[int]:
        return []

    async def rebuild() -> list[tuple[int, datetime]]:
        return [(1, clock.now())]

    scheduler = Scheduler(index, clock, broken, nothing, rebuild, fire_batch=broken_batch)
    await scheduler.start()
    assert await scheduler.run_due() == 0
    assert await index.next_due() == clock.now() + timedelta(seconds=5)


async def test_an_entry_claimed_by_a_worker_that_died_is_fired_by_the_sweep(
    pg_world: tuple[async_sessionmaker[AsyncSession], OrgView], redis: Redis
) -> None:
    """Worker A pops entries from the shared index and is killed before firing them: the
    entries are gone from Redis, the cases still overdue in the table. Worker B leaves them
    alone while A might still be at work (the sweep's grace), then fires them, once."""
    sessions, org = pg_world
    clock = FakeClock()
    ids = await file_reports(sessions, org, clock, 6)
    key = f"{redis.test_prefix}:deadlines"  # type: ignore[attr-defined]
    a, _ = make_scheduler(sessions, org, clock, RedisDeadlineIndex(redis, key), sweep_grace=GRACE)
    b, _ = make_scheduler(sessions, org, clock, RedisDeadlineIndex(redis, key), sweep_grace=GRACE)
    assert await a.start() == 6
    clock.advance(timedelta(hours=2))

    claimed = await a.index.pop_due(clock.now(), limit=4)  # ... and worker A is killed here
    assert len(claimed) == 4 and await b.index.size() == 2
    assert await b.run_due() == 2  # only what is still in the index
    assert await climbs(sessions) == sorted(set(ids) - set(claimed))

    clock.advance(GRACE)
    assert await b.run_due() == 4  # the sweep finds the lost ones
    assert await climbs(sessions) == ids
    assert await b.run_due() == 0
    assert await b.index.size() == 6  # everyone's next deadline is indexed again
    assert await no_duplicate_messages(sessions)


async def test_three_workers_share_one_burst(
    pg_world: tuple[async_sessionmaker[AsyncSession], OrgView], redis: Redis
) -> None:
    """Three schedulers on one Redis index fire a burst together: each takes its own
    slices, and every case climbs once."""
    sessions, org = pg_world
    clock = FakeClock()
    ids = await file_reports(sessions, org, clock, 30)
    key = f"{redis.test_prefix}:deadlines"  # type: ignore[attr-defined]
    workers = [
        make_scheduler(
            sessions, org, clock, RedisDeadlineIndex(redis, key), batch_size=4, sweep_grace=GRACE
        )[0]
        for _ in range(3)
    ]
    await workers[0].start()
    clock.advance(timedelta(hours=2))
    counts = await asyncio.gather(*(w.run_due() for w in workers))
    assert sum(counts) == 30
    assert all(n > 0 for n in counts), counts
    assert await climbs(sessions) == ids
    assert await no_duplicate_messages(sessions)


async def test_working_ahead_commits_at_the_deadline_not_before(
    world: tuple[async_sessionmaker[AsyncSession], OrgView], clock: FakeClock
) -> None:
    """The loop decides a burst `lookahead` before it is due and commits at the instant:
    nothing is written early, everything is there at the deadline, and a case acknowledged
    in between is left alone (its guard fails) and then fired afresh — finding nothing due."""
    sessions, org_view = world
    ids = await file_reports(sessions, org_view, clock, 8)
    scheduler, singly = make_scheduler(
        sessions, org_view, clock, MemoryDeadlineIndex(), batch_size=3, ahead=True
    )
    await scheduler.start()
    due = clock.now() + timedelta(hours=2)
    clock.advance(timedelta(hours=2) - scheduler.lookahead)
    loop = asyncio.create_task(scheduler.run())
    try:
        for _ in range(200):  # until every entry is claimed and prepared
            await asyncio.sleep(0.01)
            if await scheduler.index.size() == 0 and not scheduler.busy:
                break
        assert await scheduler.index.size() == 0
        assert await climbs(sessions) == []  # decided, not written
        services = Services(sessions=sessions, clock=clock, org=org_view, classify=classify)
        press = InboundEvent(
            platform="telegram",
            update_id=999,
            chat_id=-1001003,
            chat_type="supergroup",
            user_id=5001,
            user_name="张三",
            callback_id="q1",
            callback_data=f"c:{ids[0]}:ack",
            callback_message_id=1,
        )
        await Core(services).handle(press)

        clock.set(due)
        for _ in range(200):
            await asyncio.sleep(0.01)
            if len(await climbs(sessions)) == len(ids) - 1 and not scheduler.busy:
                break
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert await climbs(sessions) == ids[1:]
    assert singly == []
    async with sessions() as session:
        ats = set(
            (
                await session.execute(select(CaseEvent.at).where(CaseEvent.kind == "escalated"))
            ).scalars()
        )
        acked = await session.get(Case, ids[0])
    assert ats == {due}  # recorded at the deadline itself
    assert acked is not None and acked.status == "acknowledged" and acked.level == "grid"
    assert await no_duplicate_messages(sessions)


async def test_memory_index_stays_proportional_to_open_cases() -> None:
    """Moving a deadline leaves the old heap entry behind until it surfaces; the heap is
    compacted so that a long-running worker's memory follows its open cases."""
    index = MemoryDeadlineIndex()
    start = FakeClock().now()
    for round_ in range(50):
        await index.add_many({i: start + timedelta(hours=round_ + 1) for i in range(100)})
    assert await index.size() == 100
    assert len(index._heap) <= 2 * 100 + 1024
    assert await index.pop_due(start + timedelta(hours=49)) == []
    assert sorted(await index.pop_due(start + timedelta(hours=50))) == list(range(100))


def strict(org: OrgConfig) -> OrgConfig:
    """Duplicate merging made strict, so that similar-sounding reports stay separate cases,
    and no reminders (催办), so that the next thing due is the deadline (both are tested
    elsewhere)."""
    policy = org.policy
    duplicates = policy.duplicates.model_copy(update={"similarity": 1.0})
    policy = policy.model_copy(update={"duplicates": duplicates, "remind_at": 0.0})
    return org.model_copy(update={"policy": policy})


async def open_world(
    url: str, org_config: OrgConfig
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], OrgView]]:
    engine = create_engine(url)
    await migrate(engine)
    maker = sessionmaker(engine)
    async with maker() as session, session.begin():
        await import_org(session, strict(org_config))
    async with maker() as session:
        view = await load_view(session)
    assert view is not None
    try:
        yield maker, view
    finally:
        await engine.dispose()


@pytest.fixture
async def world(
    database_url: str, org_config: OrgConfig
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], OrgView]]:
    """The test org on SQLite and on PostgreSQL."""
    async for pair in open_world(database_url, org_config):
        yield pair


@pytest.fixture
async def pg_world(
    postgres_url: str, org_config: OrgConfig
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], OrgView]]:
    """PostgreSQL only: workers sharing Redis share a server database in production."""
    async for pair in open_world(postgres_url, org_config):
        yield pair
