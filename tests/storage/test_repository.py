"""The storage layer on SQLite and PostgreSQL alike: schema by migrations, guarded updates,
idempotent outbox, case numbers, org import."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.clock import FakeClock
from org.file import OrgConfig
from org.policy import DEFAULT_POLICY
from storage import cases, outbox
from storage.models import Case, Chat, Outbox, Person, PersonUnit, Unit
from storage.org_import import import_org, load_view


def new_case(clock: FakeClock, number: str) -> Case:
    now = clock.now()
    return Case(
        number=number,
        version=1,
        status="dispatched",
        reporter_id=7001,
        reporter_name="陈阿姨",
        source_chat_id=-1002001,
        source_message_id=10,
        text="路灯坏了三天",
        photos=[],
        category="municipal",
        confidence=0.9,
        priority="normal",
        grid_id="baoyuzhi-1",
        level="grid",
        current_unit_id="baoyuzhi-1",
        policy=DEFAULT_POLICY.to_json(),
        ack_due_at=now + timedelta(hours=2),
        created_at=now,
        updated_at=now,
    )


async def test_case_numbers_count_per_year(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        first = await cases.next_case_number(session, "HZ", 2026)
        second = await cases.next_case_number(session, "HZ", 2026)
        other_year = await cases.next_case_number(session, "HZ", 2027)
    assert (first, second, other_year) == ("HZ-2026-000001", "HZ-2026-000002", "HZ-2027-000001")


async def test_guarded_update_lets_exactly_one_racer_win(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions() as session, session.begin():
        session.add(new_case(clock, "HZ-2026-000001"))
    async with sessions() as one, sessions() as two:
        async with one.begin():
            a = (await one.execute(select(Case))).scalar_one()
        async with two.begin():
            b = (await two.execute(select(Case))).scalar_one()
        async with one.begin():
            won_a = await cases.guarded_update(one, a, ("dispatched",), status="acknowledged")
        async with two.begin():
            won_b = await cases.guarded_update(two, b, ("dispatched",), level="community")
    assert (won_a, won_b) == (True, False)
    async with sessions() as session:
        row = (await session.execute(select(Case))).scalar_one()
    assert (row.status, row.level, row.version) == ("acknowledged", "grid", 2)


async def test_outbox_keeps_one_row_per_key_and_leases_claims(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    message = outbox.OutgoingMessage(key="case:1:card", chat_id=-1001003, text="<b>HZ</b>")
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, message, clock.now())
        await outbox.enqueue(session, message, clock.now())
    async with sessions() as session, session.begin():
        ids = await outbox.due_ids(session, clock.now())
        assert len(ids) == 1
        assert await outbox.claim(session, ids[0], clock.now(), timedelta(seconds=60))
        assert not await outbox.claim(session, ids[0], clock.now(), timedelta(seconds=60))
    async with sessions() as session:
        assert await outbox.due_ids(session, clock.now()) == []
        # A sender that died holding the row: after the lease the row is due again.
        later = clock.now() + timedelta(seconds=61)
        assert await outbox.due_ids(session, later) == ids
        assert (await session.execute(select(func.count()).select_from(Outbox))).scalar() == 1


async def test_reimporting_the_org_updates_without_duplicates(
    sessions: async_sessionmaker[AsyncSession], org_config: OrgConfig
) -> None:
    renamed = org_config.model_copy(update={"name": "测试区（改）"})
    async with sessions() as session, session.begin():
        await import_org(session, renamed)
    async with sessions() as session, session.begin():
        await import_org(session, renamed)
    async with sessions() as session:
        counts = [
            (await session.execute(select(func.count()).select_from(model))).scalar()
            for model in (Unit, Chat, Person, PersonUnit)
        ]
        view = await load_view(session)
    assert counts == [15, 16, 6, 5]  # 4 org units + 10 departments + leadership
    assert view is not None and view.name == "测试区（改）"
    assert view.grid_for_chat(-1002001) is not None
    assert view.grid_for_chat(-1002001).id == "baoyuzhi-1"  # type: ignore[union-attr]
    assert view.grid_for_location(113.295, 23.115).id == "baoyuzhi-2"  # type: ignore[union-attr]
    assert view.grid_for_location(100.0, 20.0) is None


async def test_workers_importing_the_org_at_once_take_turns(
    sessions: async_sessionmaker[AsyncSession], org_config: OrgConfig
) -> None:
    """Several workers start together and each imports the org file: none may fail."""
    import asyncio

    async def one() -> None:
        async with sessions() as session, session.begin():
            await import_org(session, org_config)

    await asyncio.gather(*(one() for _ in range(4)))
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Chat))).scalar() == 16
