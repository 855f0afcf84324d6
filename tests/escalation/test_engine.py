"""The engine and the scheduler, GoAlert style: state in SQL, each step one guarded
transaction, time moved by the test, and exactly the expected messages in the outbox."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.clock import FakeClock
from escalation.engine import fire_due
from escalation.redis_index import RedisDeadlineIndex
from escalation.scheduler import MemoryDeadlineIndex, Scheduler
from handlers.context import Services
from handlers.core import Core
from handlers.notify import CaseNotifier
from org.view import OrgView
from storage import cases
from storage.models import Case, CaseEvent, Outbox
from tests.handlers.test_core import resident_says
from triage.classifier import classify


async def file_one(
    sessions: async_sessionmaker[AsyncSession], org: OrgView, clock: FakeClock, text: str
) -> Case:
    services = Services(sessions=sessions, clock=clock, org=org, classify=classify)
    async with sessions() as session:
        update_id = len(list((await session.execute(select(Case.id))).scalars())) + 1
    await Core(services).handle(resident_says(text, update_id, message_id=update_id))
    async with sessions() as session:
        return (await session.execute(select(Case).order_by(Case.id.desc()))).scalars().first()  # type: ignore[return-value]


async def chats_messaged(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessions() as session:
        return list((await session.execute(select(Outbox.chat_id).order_by(Outbox.id))).scalars())


async def test_two_workers_racing_on_one_deadline_escalate_once(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    case = await file_one(sessions, org_view, clock, "路灯坏了三天")
    clock.advance(timedelta(hours=2))
    notifier = CaseNotifier(Services(sessions, clock, org_view, classify))
    results = await asyncio.gather(
        *(fire_due(sessions, case.id, org_view, clock.now(), notifier) for _ in range(4)),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    async with sessions() as session:
        climbs = (
            await session.execute(select(CaseEvent).where(CaseEvent.kind == "escalated"))
        ).scalars()
        assert len(list(climbs)) == 1
    assert await chats_messaged(sessions) == [-1001003, -1002001, -1001002]
    async with sessions() as session:
        row = (await session.execute(select(Case))).scalar_one()
    assert (row.level, row.version) == ("community", 3)


async def test_a_level_without_a_chat_is_skipped_at_once(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    """The environment department has no chat: street → leadership in one step."""
    case = await file_one(sessions, org_view, clock, "楼下餐馆油烟太大，噪音扰民")
    assert case.category == "environment"
    notifier = CaseNotifier(Services(sessions, clock, org_view, classify))
    for _ in range(3):
        clock.advance(timedelta(hours=2))
        await fire_due(sessions, case.id, org_view, clock.now(), notifier)
    chats = await chats_messaged(sessions)
    assert chats == [-1001003, -1002001, -1001002, -1001001, -1001999]
    async with sessions() as session:
        kinds = [
            (e.kind, e.to_level)
            for e in (await session.execute(select(CaseEvent).order_by(CaseEvent.id))).scalars()
        ]
    assert kinds[-2:] == [("skipped", "department"), ("escalated", "leadership")]


async def test_scheduler_fires_each_deadline_once_from_the_rebuilt_index(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    for text in ("路灯坏了三天", "楼下垃圾没人清", "井盖丢了"):
        await file_one(sessions, org_view, clock, text)
    notifier = CaseNotifier(Services(sessions, clock, org_view, classify))

    async def fire(case_id: int, now: datetime) -> datetime | None:
        return await fire_due(sessions, case_id, org_view, now, notifier)

    async def sweep(now: datetime) -> list[int]:
        async with sessions() as session:
            return await cases.due_case_ids(session, now)

    async def rebuild() -> list[tuple[int, datetime]]:
        async with sessions() as session:
            return await cases.pending_deadlines(session)

    scheduler = Scheduler(MemoryDeadlineIndex(), clock, fire, sweep, rebuild)
    assert await scheduler.start() == 3
    assert await scheduler.run_due() == 0
    clock.advance(timedelta(hours=2))
    assert await scheduler.run_due() == 3
    assert await scheduler.run_due() == 0
    assert await scheduler.index.size() == 3  # each case's community deadline is indexed
    assert (await chats_messaged(sessions)).count(-1001002) == 3


async def test_redis_index_hands_each_due_entry_to_one_worker(
    redis: Redis, clock: FakeClock
) -> None:
    key = f"{redis.test_prefix}:ack"  # type: ignore[attr-defined]
    one, two = RedisDeadlineIndex(redis, key), RedisDeadlineIndex(redis, key)
    await one.rebuild((i, clock.now() + timedelta(seconds=i % 10)) for i in range(1000))
    assert await two.size() == 1000
    assert await one.next_due() == clock.now()
    clock.advance(timedelta(seconds=4))
    taken = await asyncio.gather(
        *(idx.pop_due(clock.now(), limit=50) for idx in (one, two) for _ in range(5))
    )
    flat = [i for batch in taken for i in batch]
    assert sorted(flat) == sorted(i for i in range(1000) if i % 10 <= 4)
    assert len(flat) == len(set(flat)) == 500
    assert await one.size() == 500
