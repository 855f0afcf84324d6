"""The core without any chat platform: one event in, one transaction out."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.clock import FakeClock
from handlers import commands
from handlers.context import Services, Tx
from handlers.core import Core
from handlers.events import InboundEvent
from org.view import OrgView
from storage.models import Case, CaseEvent, Outbox
from triage.classifier import classify


def core_for(sessions: async_sessionmaker[AsyncSession], org: OrgView, clock: FakeClock) -> Core:
    return Core(Services(sessions=sessions, clock=clock, org=org, classify=classify))


def resident_says(text: str, update_id: int = 1, message_id: int = 10) -> InboundEvent:
    return InboundEvent(
        platform="telegram",
        update_id=update_id,
        chat_id=-1002001,
        chat_type="supergroup",
        user_id=7001,
        user_name="陈阿姨",
        message_id=message_id,
        text=text,
        mentions_bot=True,
    )


async def counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    found = []
    async with sessions() as session:
        for model in (Case, CaseEvent, Outbox):
            found.append((await session.execute(select(func.count()).select_from(model))).scalar())
    return found[0], found[1], found[2]


async def outbox_texts(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.execute(select(Outbox.text).order_by(Outbox.id))).scalars())


async def test_a_10000_character_report_is_refused_and_files_nothing(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    core = core_for(sessions, org_view, clock)
    await core.handle(resident_says("路灯坏了" * 2500))
    assert await outbox_texts(sessions) == [
        "这条消息有 10000 字，超过了本平台一条消息的上限（4096 字），没有受理。"
        "请分成几条、每条 4096 字以内发送，或用 /report 分段补充；已写的内容请先自行保存。"
    ]
    assert (await counts(sessions))[:2] == (0, 0)


async def test_a_letter_as_long_as_one_message_is_filed_whole(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    core = core_for(sessions, org_view, clock)
    letter = "宝玉直小区3栋门口的路灯坏了两个月，晚上老人出门看不见路。" * 140
    assert len(letter) == 4060
    await core.handle(resident_says(letter))
    async with sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert case.text == letter


async def test_a_redelivered_update_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    core = core_for(sessions, org_view, clock)
    first = await core.handle(resident_says("路灯坏了三天"))
    before = await counts(sessions)
    again = await core.handle(resident_says("路灯坏了三天"))
    assert first.handled and not again.handled
    assert before == await counts(sessions) == (1, 2, 2)  # filed + dispatched; receipt + card


async def test_filing_is_one_transaction_with_its_events_and_messages(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    scheduled: list[tuple[int, object]] = []

    async def on_deadline(case_id: int, due: object) -> None:
        scheduled.append((case_id, due))

    services = Services(sessions=sessions, clock=clock, org=org_view, classify=classify)
    services.on_deadline = on_deadline  # type: ignore[assignment]
    await Core(services).handle(resident_says("楼道里有人给电动车充电"))
    async with sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
        kinds = list(
            (await session.execute(select(CaseEvent.kind).order_by(CaseEvent.id))).scalars()
        )
    assert (case.status, case.level, case.category) == ("dispatched", "grid", "safety")
    assert kinds == ["filed", "dispatched"]
    assert scheduled == [(case.id, case.next_due_at)]  # the first reminder (催办)
    assert case.policy["ack"]["normal"] == 7200  # the policy is copied onto the case


async def test_a_slow_triage_is_consulted_before_the_transaction(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    """The language-model answer decides the category; it is asked before the database
    transaction opens (so its latency never holds a lock) and only once."""
    from triage.categories import Category, Priority
    from triage.classifier import Triage

    asked: list[tuple[str, bool]] = []

    async def model(text: str, *, addressed: bool = False) -> Triage:
        asked.append((text, addressed))
        return Triage(Category.HOUSING, 0.91, True, Priority.NORMAL, ())

    services = Services(sessions=sessions, clock=clock, org=org_view, classify=classify)
    services.triage_async = model
    await Core(services).handle(resident_says("@gridcall_bot 楼上漏水漏到我家天花板"))
    async with sessions() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert case.category == "housing" and case.confidence == 0.91
    assert asked == [("楼上漏水漏到我家天花板", True)]


async def test_work_left_for_after_the_commit_holds_up_no_update(
    sessions: async_sessionmaker[AsyncSession],
    org_view: OrgView,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A /stats answer over a year of cases takes seconds: it runs after its command's
    commit, beside the updates, and the core counts it as in flight until it is done."""
    release = asyncio.Event()
    ran: list[str] = []

    async def slow(tx: Tx, event: InboundEvent) -> None:
        async def job() -> None:
            await release.wait()
            ran.append("answered")

        tx.after_commit.append(job)

    monkeypatch.setitem(commands.COMMANDS, "slow", slow)
    core = core_for(sessions, org_view, clock)
    asking = replace(resident_says(""), command="slow", update_id=1, message_id=9)
    await core.handle(asking)
    assert core.in_flight == 1 and ran == []
    await core.handle(resident_says("小区门口的路灯坏了三天", update_id=2))
    assert (await counts(sessions))[0] == 1  # the report was filed meanwhile
    release.set()
    await asyncio.gather(*core.jobs)
    assert ran == ["answered"] and core.in_flight == 0

    # A job still running when the service stops is cancelled, not left behind.
    release.clear()
    await core.handle(replace(asking, update_id=3, message_id=11))
    await core.stop()
    assert core.in_flight == 0 and ran == ["answered"]
