"""The subscription filter matrix: which chats hear of which escalation, on SQLite and
PostgreSQL — subscriptions stored and read back, the fan-out writing real outbox rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.batch import fire_batch
from escalation.clock import FakeClock
from handlers.alerts import fan_out
from handlers.context import Services
from handlers.core import Core
from handlers.notify import CaseNotifier
from org.file import parse_org
from org.view import OrgView, Stop
from storage.db import create_engine, migrate, sessionmaker
from storage.models import Case, Outbox, Subscription
from storage.org_import import import_org, load_view
from storage.subscriptions import (
    Filters,
    Subject,
    add_subscription,
    deactivate,
    matches,
    subscriptions_of,
    switch_off_chat,
)
from tests.handlers.test_core import resident_says
from triage.classifier import classify

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)

# Two streets; 海幢 has two communities. 5009 leads, 5010 administers, 5001 is a worker.
ORG = """
name: 测试区
timezone: Asia/Shanghai
language: zh
case_prefix: HZ
units:
  - id: haizhuang
    name: 海幢街道
    level: street
    chat: -1001001
    units:
      - id: baoyuzhi
        name: 宝玉直社区
        level: community
        chat: -1001002
        units:
          - {id: baoyuzhi-1, name: 宝玉直第一网格, level: grid, chat: -1001003,
             resident_chats: [-1002001]}
      - id: tongqing
        name: 同庆社区
        level: community
        chat: -1001005
        units:
          - {id: tongqing-1, name: 同庆第一网格, level: grid, chat: -1001006}
  - id: nanhua
    name: 南华西街道
    level: street
    chat: -1001011
    units:
      - id: longfeng
        name: 龙凤社区
        level: community
        chat: -1001012
        units:
          - {id: longfeng-1, name: 龙凤第一网格, level: grid, chat: -1001013}
departments:
  - {id: traffic-police, name: 交警大队, chat: -1001902, categories: [traffic]}
  - {id: power, name: 供电局, chat: -1001904, categories: [municipal]}
leadership:
  chat: -1001999
people:
  - {name: 张三, telegram: 5001, roles: [grid_worker], units: [baoyuzhi-1]}
  - {name: 李书记, telegram: 5009, roles: [leader]}
  - {name: 管理员, telegram: 5010, roles: [admin]}
"""

# (chat, owner, filters) — each chat tells which subscriptions matched.
SUBSCRIPTIONS: list[tuple[int, int, Filters]] = [
    (101, 5009, Filters.of()),  # everything
    (102, 5009, Filters.of(levels=["street"])),
    (103, 5009, Filters.of(unit_ids=["haizhuang"])),  # a street
    (104, 5009, Filters.of(unit_ids=["tongqing"])),  # a community
    (105, 5009, Filters.of(categories=["traffic"])),
    (106, 5009, Filters.of(priorities=["urgent"])),
    (  # all four filters, two values in some: all must hold, any value within one
        107,
        5009,
        Filters.of(["street", "leadership"], ["nanhua"], ["municipal"], ["normal", "urgent"]),
    ),
    (108, 5001, Filters.of()),  # a grid worker's (the role was taken away): never
    (109, 5009, Filters.of()),  # switched off below: never
    (-1002001, 5009, Filters.of()),  # a residents' chat: never
    (111, 5009, Filters.of(levels=["community"])),  # two that match the same escalations:
    (111, 5010, Filters.of(unit_ids=["baoyuzhi"], levels=["community"])),  # one message
    (-1001001, 5010, Filters.of()),  # 海幢's staff chat: not when it gets the card itself
]

# (grid, category, priority, level reached, unit reached) → the chats that hear of it.
ESCALATIONS: list[tuple[str, str, str, str, str, set[int]]] = [
    ("baoyuzhi-1", "municipal", "normal", "community", "baoyuzhi", {101, 103, 111, -1001001}),
    ("baoyuzhi-1", "municipal", "normal", "street", "haizhuang", {101, 102, 103}),
    (
        "tongqing-1",
        "traffic",
        "urgent",
        "department",
        "traffic-police",
        {101, 103, 104, 105, 106, -1001001},
    ),
    ("longfeng-1", "municipal", "urgent", "leadership", "leadership", {101, 106, 107, -1001001}),
    ("longfeng-1", "municipal", "low", "street", "nanhua", {101, 102, -1001001}),
    ("longfeng-1", "traffic", "normal", "street", "nanhua", {101, 102, 105, -1001001}),
    ("tongqing-1", "housing", "low", "community", "tongqing", {101, 103, 104, 111, -1001001}),
]


@pytest.fixture
async def matrix_sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    await migrate(engine)
    maker = sessionmaker(engine)
    async with maker() as session, session.begin():
        await import_org(session, parse_org(ORG))
        rows = [add_subscription(session, p, c, f, NOW) for c, p, f in SUBSCRIPTIONS]
        await session.flush()
        assert await deactivate(session, rows[8])
        assert not await deactivate(session, rows[8])  # once
    try:
        yield maker
    finally:
        await engine.dispose()


def case_for(case_id: int, grid: str, category: str, priority: str, level: str) -> Case:
    return Case(
        id=case_id,
        number=f"HZ-2026-{case_id:06d}",
        version=3,
        status="dispatched",
        reporter_id=7001,
        reporter_name="陈阿姨",
        source_chat_id=-1002001,
        text="井盖丢了，电话 13812345678",
        category=category,
        priority=priority,
        grid_id=grid,
        level=level,
        current_unit_id="x",
        created_at=NOW,
    )


async def test_the_filter_matrix(matrix_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with matrix_sessions() as session:
        org = await load_view(session)
    assert org is not None
    services = Services(sessions=matrix_sessions, clock=FakeClock(NOW), org=org, classify=classify)
    found: dict[int, set[int]] = {}
    for case_id, (grid, category, priority, level, unit_id, _) in enumerate(ESCALATIONS, 1):
        case = case_for(case_id, grid, category, priority, level)
        unit = org.units[unit_id]
        async with matrix_sessions() as session, session.begin():
            for _ in range(2):  # a retry of the same climb writes nothing more
                await fan_out(
                    session,
                    services,
                    case,
                    Stop(level, unit),
                    NOW,
                    "ack_overdue",
                    place=org.units[grid].name,
                    card_chat=unit.chat_id,
                )
        async with matrix_sessions() as session:
            rows = (
                await session.execute(
                    select(Outbox.chat_id).where(Outbox.dedupe_key.like(f"case:{case_id}:%"))
                )
            ).scalars()
            chats = list(rows)
        assert len(chats) == len(set(chats)), f"escalation {case_id}: a chat told twice"
        found[case_id] = set(chats)
    assert found == {i: expected for i, (*_, expected) in enumerate(ESCALATIONS, 1)}


async def test_what_a_subscriber_is_told(matrix_sessions: async_sessionmaker[AsyncSession]) -> None:
    async with matrix_sessions() as session:
        org = await load_view(session)
    assert org is not None
    services = Services(sessions=matrix_sessions, clock=FakeClock(NOW), org=org, classify=classify)
    case = case_for(1, "baoyuzhi-1", "municipal", "normal", "street")
    async with matrix_sessions() as session, session.begin():
        await fan_out(
            session,
            services,
            case,
            Stop("street", org.units["haizhuang"]),
            NOW,
            "manual",
            place="宝玉直第一网格",
            card_chat=-1001001,
        )
    async with matrix_sessions() as session:
        text = (
            await session.execute(select(Outbox.text).where(Outbox.chat_id == 102))
        ).scalar_one()
    assert text == (
        "🔔 <b>人工提级</b>\n"
        '<a href="https://t.me/gridcall_bot?start=case-HZ-2026-000001">HZ-2026-000001</a>'
        " · 市政设施 · 一般\n"
        "已到：街道 · 海幢街道\n"
        "📍 宝玉直第一网格\n"
        "井盖丢了，电话 [电话已隐藏]\n"
        '<a href="https://t.me/gridcall_bot?start=case-HZ-2026-000001">查看办理记录</a>'
    )


async def test_subscriptions_of_a_person_in_order(
    matrix_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with matrix_sessions() as session:
        mine = await subscriptions_of(session, 5010)
        everything = (await session.execute(select(Subscription))).scalars().all()
    assert [(s.chat_id, Filters.of_row(s)) for s in mine] == [
        (111, Filters.of(unit_ids=["baoyuzhi"], levels=["community"])),
        (-1001001, Filters.of()),
    ]
    assert len(everything) == len(SUBSCRIPTIONS)  # switched off, not deleted


async def test_an_unreachable_chat_is_switched_off_once(
    matrix_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two failures for the same chat reported side by side: the guarded UPDATE hands each
    subscription to one of them only, so its owner is told once."""
    async with matrix_sessions() as session, session.begin():
        before = {s.id for s in await subscriptions_of(session, 5010)}
        first = await switch_off_chat(session, -1001001)
        again = await switch_off_chat(session, -1001001)
        after = {s.id for s in await subscriptions_of(session, 5010)}
    assert [(s.chat_id, s.active) for s in first] == [(-1001001, False)] * len(first)
    assert first and again == []
    assert after == before - {s.id for s in first}


@pytest.mark.parametrize(
    ("filters", "subject", "expected"),
    [
        (Filters.of(), Subject("grid", frozenset(), "other", "low"), True),
        (Filters.of(levels=["street"]), Subject("community", frozenset(), "x", "y"), False),
        (
            Filters.of(unit_ids=["a", "b"]),
            Subject("street", frozenset({"b", "c"}), "x", "y"),
            True,
        ),
        (
            Filters.of(categories=["traffic"], priorities=["urgent"]),
            Subject("street", frozenset(), "traffic", "normal"),
            False,
        ),
    ],
)
def test_matches(filters: Filters, subject: Subject, expected: bool) -> None:
    assert matches(filters, subject) is expected


def test_filters_compare_regardless_of_order_and_repeats() -> None:
    assert Filters.of(["street", "grid", "street"]) == Filters.of(["grid", "street"])


async def test_the_scheduler_batch_writes_the_alerts_too(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    """`fire_batch` plans escalations without writing: the fan-out's one SELECT and its
    enqueues are allowed there, and the alert is written with the climb."""
    services = Services(sessions=sessions, clock=clock, org=org_view, classify=classify)
    async with sessions() as session, session.begin():
        add_subscription(session, 5009, 5009, Filters.of(levels=["community"]), clock.now())
    await Core(services).handle(resident_says("路灯坏了三天"))
    clock.advance(timedelta(hours=2))
    notifier = CaseNotifier(services)
    await fire_batch(sessions, [1], org_view, clock.now(), notifier)
    async with sessions() as session:
        rows = (
            await session.execute(select(Outbox.dedupe_key).where(Outbox.chat_id == 5009))
        ).scalars()
        keys = list(rows)
    assert keys == ["case:1:v3:sub:5009"]
