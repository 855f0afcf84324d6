"""Policy as districts use it: working time, category deadlines, 督办, key grids, the rota,
returns and undeliverable chats — each checked by the messages it produces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.clock import FakeClock
from escalation.engine import fire_due
from handlers.context import Services
from handlers.core import Core
from handlers.delivery import on_delivery_failed
from handlers.events import InboundEvent
from handlers.notify import CaseNotifier
from org.file import parse_org
from org.view import OrgView
from storage.db import create_engine, migrate, sessionmaker
from storage.models import Case, CaseEvent, Outbox
from storage.org_import import import_org, load_view
from triage.categories import Category, Priority
from triage.classifier import Triage

FIXTURE = Path(__file__).parents[1] / "fixtures" / "org.yaml"
GRID, KEY_GRID, COMMUNITY, STREET = -1001003, -1001005, -1001002, -1001001
RESIDENTS = -1002001
# Friday 2026-11-27 17:30 in Beijing.
FRIDAY_1730 = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def variant() -> str:
    text = FIXTURE.read_text(encoding="utf-8")
    text = text.replace(
        "  ladder:  [grid, community, street, department, leadership]",
        "  ladder:  [grid, community, street, department, leadership]\n"
        '  working_hours: {start: "09:00", end: "18:00"}\n'
        "  categories:\n"
        "    traffic: {ack: {normal: 30m}}\n",
    )
    text = text.replace(
        "            resident_chats: [-1002001]\n",
        "            resident_chats: [-1002001]\n            rota: {all: [5001, 5006]}\n",
    )
    text = text.replace(
        "          - id: baoyuzhi-2\n",
        "          - id: baoyuzhi-key\n"
        "            name: 宝玉直消防重点网格\n"
        "            level: grid\n"
        "            key: true\n"
        "            categories: [safety]\n"
        "            chat: -1001005\n"
        "          - id: baoyuzhi-2\n",
    )
    text = text.replace(
        "  - {name: 王五,",
        "  - {name: 赵六, telegram: 5006, roles: [grid_worker], units: [baoyuzhi-1],"
        " location: [113.281, 23.111]}\n"
        "  - {name: 消防网格员, telegram: 5007, roles: [grid_worker], units: [baoyuzhi-key]}\n"
        "  - {name: 管理员, telegram: 5010, roles: [admin]}\n"
        "  - {name: 王五,",
    )
    text = text.replace(
        "  - {name: 张三, telegram: 5001, roles: [grid_worker], units: [baoyuzhi-1]}",
        "  - {name: 张三, telegram: 5001, roles: [grid_worker], units: [baoyuzhi-1],"
        " location: [113.289, 23.119]}",
    )
    return text


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    org: OrgView
    clock: FakeClock
    category: Category = Category.MUNICIPAL
    priority: Priority = Priority.NORMAL
    updates: int = 0

    def classify(self, text: str, *, addressed: bool = False) -> Triage:
        return Triage(self.category, 0.9, True, self.priority, ())

    @property
    def services(self) -> Services:
        return Services(self.sessions, self.clock, self.org, self.classify)

    async def report(self, text: str, place: tuple[float, float] | None = None) -> Case:
        self.updates += 1
        event = InboundEvent(
            platform="telegram",
            update_id=self.updates,
            chat_id=RESIDENTS,
            chat_type="supergroup",
            user_id=7000 + self.updates,
            user_name=f"居民{self.updates}",
            message_id=self.updates,
            text=text,
            mentions_bot=True,
            location=place,
        )
        await Core(self.services).handle(event)
        async with self.sessions() as session:
            return (await session.execute(select(Case).order_by(Case.id.desc()))).scalars().first()  # type: ignore[return-value]

    async def fire(self, case: Case) -> None:
        await fire_due(
            self.sessions, case.id, self.org, self.clock.now(), CaseNotifier(self.services)
        )

    async def messages(self) -> list[tuple[int, str]]:
        async with self.sessions() as session:
            rows = await session.execute(select(Outbox.chat_id, Outbox.text).order_by(Outbox.id))
            return [(c, t) for c, t in rows.all()]

    async def case(self, case_id: int) -> Case:
        async with self.sessions() as session:
            found = await session.get(Case, case_id)
            assert found is not None
            return found


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    engine = create_engine(database_url)
    await migrate(engine)
    maker = sessionmaker(engine)
    async with maker() as session, session.begin():
        await import_org(session, parse_org(variant()))
    async with maker() as session:
        org = await load_view(session)
    assert org is not None
    try:
        yield World(maker, org, FakeClock(FRIDAY_1730))
    finally:
        await engine.dispose()


async def test_normal_deadlines_count_working_time_and_urgent_ones_the_clock(w: World) -> None:
    normal = await w.report("路灯坏了")
    # 30 working minutes on Friday, 90 on Monday: Monday 10:30 in Beijing.
    assert normal.ack_due_at == datetime(2026, 11, 30, 2, 30, tzinfo=UTC)
    w.priority = Priority.URGENT
    urgent = await w.report("电线掉在地上冒火花")
    assert urgent.ack_due_at == FRIDAY_1730 + timedelta(minutes=10)


async def test_category_deadlines_override_the_org_default(w: World) -> None:
    w.category = Category.TRAFFIC
    case = await w.report("门口乱停车")
    assert case.ack_due_at == datetime(2026, 11, 27, 9, 30, tzinfo=UTC) + timedelta(minutes=30)
    assert case.policy["ack"]["normal"] == 1800 and case.policy["categories"] == {}


async def test_an_overdue_resolve_deadline_escalates(w: World) -> None:
    w.priority = Priority.URGENT  # the clock, not working time: easier to read
    case = await w.report("楼道电线冒烟")
    async with w.sessions() as session, session.begin():
        row = await session.get(Case, case.id)
        assert row is not None
        row.status, row.ack_due_at, row.next_due_at = "acknowledged", None, row.resolve_due_at
    w.clock.set(case.resolve_due_at)  # type: ignore[arg-type]
    await w.fire(case)
    moved = await w.case(case.id)
    assert (moved.status, moved.level) == ("dispatched", "community")
    assert moved.resolve_due_at == w.clock.now() + timedelta(hours=4)
    chat, text = (await w.messages())[-1]
    assert chat == COMMUNITY and "超期未办结，督办提级" in text


async def test_the_worker_on_duty_with_the_fewest_cases_gets_it_privately(w: World) -> None:
    first = await w.report("路灯坏了", place=(113.2811, 23.1111))
    second = await w.report("井盖丢了")
    # Both on duty; 赵六 is nearer for the first, then 张三 has fewer open cases.
    assert (first.assignee_name, second.assignee_name) == ("赵六", "张三")
    chats = [c for c, _ in await w.messages()]
    assert chats.count(5006) == 1 and chats.count(5001) == 1 and GRID not in chats


async def test_an_unreachable_worker_falls_back_to_the_staff_chat(w: World) -> None:
    case = await w.report("路灯坏了", place=(113.2811, 23.1111))

    @dataclass
    class Failed:
        row_id: int
        chat_id: int
        case_id: int | None
        error: str
        unreachable: bool

    services = w.services
    await on_delivery_failed(services, Failed(1, 5006, case.id, "Forbidden: bot was blocked", True))
    messages = await w.messages()
    assert [c for c, _ in messages][-2:] == [GRID, 5010]  # the grid's chat, then the admin
    assert "张三" in messages[-2][1] and "赵六" in messages[-2][1]  # the whole grid is pinged

    # The staff chat itself is gone: the case climbs at once.
    await on_delivery_failed(services, Failed(2, GRID, case.id, "Forbidden: bot was kicked", True))
    moved = await w.case(case.id)
    assert moved.level == "community"
    async with w.sessions() as session:
        kinds = [e.kind for e in (await session.execute(select(CaseEvent))).scalars()]
    assert kinds.count("delivery_failed") == 2


async def test_a_key_grid_gets_its_category_and_may_act(w: World) -> None:
    w.category = Category.SAFETY
    case = await w.report("楼道堆满杂物堵住消防通道")
    chats = [c for c, _ in await w.messages()]
    assert KEY_GRID in chats
    key_worker = w.org.person(5007)
    assert w.org.may_act(key_worker, case.grid_id, case.category, case.level, ["grid"])
    assert not w.org.may_act(key_worker, case.grid_id, "municipal", case.level, ["grid"])


@pytest.fixture
def w(world: World) -> World:
    return world
