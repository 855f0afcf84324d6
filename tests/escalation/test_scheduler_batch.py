"""`fire_batch` writes exactly what `fire_due` writes, case by case.

The same scenario — reports of several categories, one acknowledged, time jumping through
reminders (催办), deadlines, a level without a chat, the top of the ladder and a long
outage where several things fall due at once — runs on two databases of the same kind: one
fired case by case through `fire_due`, the other through `fire_batch` in chunks. Events,
outbox rows (keys, chats, texts, buttons) and case rows must come out identical, and so
must what each returns for the index. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from escalation.batch import BatchUnsupported, fire_batch
from escalation.clock import FakeClock
from escalation.engine import fire_due
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
from tests.conftest import _drop_postgres_database, _postgres_database
from tests.handlers.test_core import resident_says
from triage.classifier import classify

GRID_CHAT, ZHANG = -1001003, 5001
REPORTS = (
    "路灯坏了三天",  # municipal: the power department's chat
    "楼下餐馆油烟太大，噪音扰民",  # environment: that department has no chat
    "井盖丢了，晚上很危险",
    "小区门口有僵尸车长期占道",  # traffic
    "楼道里堆满了杂物，堵住了安全出口",  # safety
    "公司拖欠工资三个月了",  # livelihood
    "想咨询一下社区活动室开放时间",  # other
    "楼下垃圾堆了一个星期没人清",  # city management: acknowledged, then 督办
)
# 90 min: reminders. 30 min: the grid's deadline. Then the next levels, the top of the
# ladder, and outages long enough that several things are due at once.
STEPS = (
    timedelta(minutes=90),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=1, minutes=30),
    timedelta(hours=3),
    timedelta(days=3),
    timedelta(days=8),
)


JSON_COLUMNS = {
    model.__tablename__: [c.name for c in model.__table__.columns if isinstance(c.type, JSON)]
    for model in (Case, Outbox)
}


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    org: OrgView
    clock: FakeClock
    notifier: CaseNotifier
    core: Core


async def make_world(url: str, org_config: OrgConfig) -> World:
    engine = create_engine(url)
    await migrate(engine)
    sessions = sessionmaker(engine)
    async with sessions() as session, session.begin():
        await import_org(session, org_config)
    async with sessions() as session:
        org = await load_view(session)
    assert org is not None
    clock = FakeClock()
    services = Services(sessions=sessions, clock=clock, org=org, classify=classify)
    return World(sessions, engine, org, clock, CaseNotifier(services), Core(services))


@pytest.fixture(params=["sqlite", "postgres"])
async def twin_urls(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    """Two empty databases of one kind: one for each way of firing."""
    if request.param == "sqlite":
        yield (
            f"sqlite+aiosqlite:///{tmp_path / 'one.db'}",
            f"sqlite+aiosqlite:///{tmp_path / 'many.db'}",
        )
        return
    (one, one_url), (many, many_url) = await _postgres_database(), await _postgres_database()
    try:
        yield one_url, many_url
    finally:
        await _drop_postgres_database(one)
        await _drop_postgres_database(many)


async def file_reports(world: World) -> list[int]:
    for n, report in enumerate(REPORTS, start=1):
        await world.core.handle(resident_says(report, update_id=n, message_id=100 + n))
    async with world.sessions() as session:
        return list((await session.execute(select(Case.id).order_by(Case.id))).scalars())


async def acknowledge(world: World, case_id: int) -> None:
    press = InboundEvent(
        platform="telegram",
        update_id=1000 + case_id,
        chat_id=GRID_CHAT,
        chat_type="supergroup",
        user_id=ZHANG,
        user_name="张三",
        callback_id=f"q{case_id}",
        callback_data=f"c:{case_id}:ack",
        callback_message_id=500 + case_id,
    )
    await world.core.handle(press)


def _row(obj: object, skip: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    attrs = inspect(obj).mapper.column_attrs
    return {a.key: getattr(obj, a.key) for a in attrs if a.key not in skip}


async def snapshot(world: World) -> dict[str, Any]:
    """Everything firing writes, comparable across databases (row ids aside)."""
    async with world.sessions() as session:
        events = (await session.execute(select(CaseEvent).order_by(CaseEvent.id))).scalars()
        outbox = (await session.execute(select(Outbox).order_by(Outbox.dedupe_key))).scalars()
        rows = (await session.execute(select(Case).order_by(Case.id))).scalars()
        by_case: dict[int, list[dict[str, Any]]] = {}
        for event in events:
            by_case.setdefault(event.case_id, []).append(_row(event))
        # JSON None may be stored as SQL NULL or as JSON null: the ORM reads both as None,
        # queries do not. Compare the raw text of every JSON column too.
        raw = {
            table: [
                tuple(row)
                for row in await session.execute(
                    text(f"SELECT {', '.join(f'CAST({c} AS TEXT)' for c in cols)} FROM {table}")
                )
            ]
            for table, cols in JSON_COLUMNS.items()
        }
        return {
            "events": by_case,
            "outbox": [_row(o) for o in outbox],
            "cases": [_row(c, skip=()) for c in rows],
            "raw": {table: sorted(rows, key=str) for table, rows in raw.items()},
        }


async def due_ids(world: World, now: datetime) -> list[int]:
    async with world.sessions() as session:
        return await cases.due_case_ids(session, now)


async def test_fire_batch_writes_what_fire_due_writes(
    twin_urls: tuple[str, str], org_config: OrgConfig
) -> None:
    one, many = [await make_world(url, org_config) for url in twin_urls]
    try:
        ids = await file_reports(one)
        assert await file_reports(many) == ids
        for world in (one, many):
            await acknowledge(world, ids[-1])
        assert await snapshot(one) == await snapshot(many)

        climbed = 0
        for step in STEPS:
            for world in (one, many):
                world.clock.advance(step)
            now = one.clock.now()
            due = sorted(await due_ids(one, now))
            assert due == sorted(await due_ids(many, now))
            # Stale entries and a case that does not exist: both ways ignore them alike.
            asked = [*due, ids[0], ids[1], 999_999]
            singly = {
                case_id: await fire_due(one.sessions, case_id, one.org, now, one.notifier)
                for case_id in dict.fromkeys(asked)
            }
            together = await fire_batch(
                many.sessions, asked, many.org, now, many.notifier, chunk_size=3
            )
            assert together == singly
            after = await snapshot(many)
            assert after == await snapshot(one), f"after {step}"
            climbed = sum(e["kind"] == "escalated" for ev in after["events"].values() for e in ev)
        # The scenario did what it is meant to exercise.
        kinds = {e["kind"] for ev in (await snapshot(many))["events"].values() for e in ev}
        assert {"reminded", "escalated", "skipped", "ladder_exhausted"} <= kinds
        notes = {e["note"] for ev in (await snapshot(many))["events"].values() for e in ev}
        assert "resolve_overdue" in notes
        assert climbed >= 3 * len(REPORTS)
    finally:
        for world in (one, many):
            await world.engine.dispose()


async def test_racing_batches_and_single_firings_escalate_each_case_once(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    """Two workers given the same burst (a sweep racing a claim), and a third firing cases
    one by one: every case climbs once, and no message is written twice."""
    services = Services(sessions=sessions, clock=clock, org=org_view, classify=classify)
    core = Core(services)
    for n, report in enumerate(REPORTS, start=1):
        await core.handle(resident_says(report, update_id=n, message_id=100 + n))
    async with sessions() as session:
        ids = list((await session.execute(select(Case.id))).scalars())
    clock.advance(timedelta(days=1))  # every priority's first deadline has passed
    notifier = CaseNotifier(services)
    now = clock.now()
    results = await asyncio.gather(
        fire_batch(sessions, ids, org_view, now, notifier, chunk_size=3),
        fire_batch(sessions, list(reversed(ids)), org_view, now, notifier, chunk_size=5),
        *(fire_due(sessions, case_id, org_view, now, notifier) for case_id in ids[:3]),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    async with sessions() as session:
        climbs = list(
            (
                await session.execute(
                    select(CaseEvent.case_id).where(CaseEvent.kind == "escalated")
                )
            ).scalars()
        )
        keys = list((await session.execute(select(Outbox.dedupe_key))).scalars())
        rows = list((await session.execute(select(Case))).scalars())
    assert sorted(climbs) == sorted(ids)
    assert len(keys) == len(set(keys))
    assert {(r.level, r.version) for r in rows} == {("community", 3)}
    assert all(r.next_due_at is not None and r.next_due_at > now for r in rows)


async def test_a_write_the_batch_does_not_know_is_refused_not_guessed(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    """A notifier that writes something else than outbox rows cannot be replayed in bulk:
    the batch refuses (and the scheduler falls back to `fire_due`), writing nothing."""
    services = Services(sessions=sessions, clock=clock, org=org_view, classify=classify)
    await Core(services).handle(resident_says(REPORTS[0]))

    class Meddling(CaseNotifier):
        async def case_reached(self, session: AsyncSession, *args: Any) -> None:
            session.add(Outbox())

    clock.advance(timedelta(hours=2))
    before = await snapshot_of(sessions)
    with pytest.raises(BatchUnsupported):
        await fire_batch(sessions, [1], org_view, clock.now(), Meddling(services))
    assert await snapshot_of(sessions) == before


async def snapshot_of(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    async with sessions() as session:
        version = (await session.execute(select(Case.version))).scalar_one()
        events = len(list((await session.execute(select(CaseEvent.id))).scalars()))
        outbox = len(list((await session.execute(select(Outbox.id))).scalars()))
    return version, events, outbox
