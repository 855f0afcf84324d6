"""Chasing orders (令) without a chat platform: ladders, deadlines, the guarded steps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation import orders as chase
from escalation.clock import FakeClock
from handlers.context import Services
from handlers.core import Core
from handlers.events import InboundEvent
from handlers.orders import OrderInputError, OrderMessages, parse_deadline, parse_targets
from org.view import OrgView
from storage.models import Order, OrderEvent, OrderTarget, Outbox
from triage.classifier import classify

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Guangzhou


def test_deadlines_are_durations_or_local_times() -> None:
    assert parse_deadline("2h 清理", NOW, TZ) == (NOW + timedelta(hours=2), "清理")
    assert parse_deadline("1d2h x y", NOW, TZ) == (NOW + timedelta(hours=26), "x y")
    due, rest = parse_deadline("12-01 18:00 清理\n第二行", NOW, TZ)
    assert due == datetime(2026, 12, 1, 10, 0, tzinfo=UTC) and rest == "清理\n第二行"
    due, _ = parse_deadline("2027-01-02 08:30 x", NOW, TZ)
    assert due == datetime(2027, 1, 2, 0, 30, tzinfo=UTC)
    due, _ = parse_deadline("01-05 18:00 x", NOW, TZ)  # January, from late November: next year
    assert due.year == 2027
    for bad in ("", "soon x", "90 x", "0h x", "12-01 x", "12-32 18:00 x", "12-01 25:00 x"):
        with pytest.raises(OrderInputError) as raised:
            parse_deadline(bad, NOW, TZ)
        assert raised.value.template == "order_bad_deadline"
    with pytest.raises(OrderInputError) as raised:
        parse_deadline("11-25 08:59 x", NOW, TZ)
    assert raised.value.template == "order_past_deadline"


async def test_targets_by_id_name_and_all_grids(org_view: OrgView) -> None:
    ids = [u.id for u in parse_targets(org_view, "baoyuzhi-1,宝玉直第二网格、baoyuzhi-1")]
    assert ids == ["baoyuzhi-1", "baoyuzhi-2"]
    assert [u.id for u in parse_targets(org_view, "haizhuang/grids")] == [
        "baoyuzhi-1",
        "baoyuzhi-2",
    ]
    assert [u.id for u in parse_targets(org_view, "宝玉直社区全部网格,交警大队")] == [
        "baoyuzhi-1",
        "baoyuzhi-2",
        "traffic-police",
    ]
    with pytest.raises(OrderInputError) as raised:
        parse_targets(org_view, "leadership")  # the leadership is not a unit to order
    assert raised.value.template == "order_unknown_unit"


async def test_ladders_climb_the_tree_then_the_leadership(org_view: OrgView) -> None:
    assert [u.id for u in chase.chain(org_view, "baoyuzhi-1")] == [
        "baoyuzhi-1",
        "baoyuzhi",
        "haizhuang",
        "leadership",
    ]
    assert [u.id for u in chase.chain(org_view, "traffic-police")] == [
        "traffic-police",
        "leadership",
    ]
    # 生态环境分局 has no chat: its order starts at the first rung that has one.
    rungs = chase.chain(org_view, "environment")
    assert chase.first_reachable(rungs, 0) == 1


def leader_says(text: str, update_id: int) -> InboundEvent:
    return InboundEvent(
        platform="telegram",
        update_id=update_id,
        chat_id=5009,
        chat_type="private",
        user_id=5009,
        user_name="李书记",
        message_id=update_id,
        text=text,
        command="order",
        command_args=text.removeprefix("/order "),
    )


async def test_the_chase_is_one_guarded_step_per_deadline(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView, clock: FakeClock
) -> None:
    indexed: list[tuple[int, datetime | None]] = []

    async def on_order_deadline(target_id: int, due: datetime | None) -> None:
        indexed.append((target_id, due))

    services = Services(sessions=sessions, clock=clock, org=org_view, classify=classify)
    services.on_order_deadline = on_order_deadline
    await Core(services).handle(leader_says("/order traffic-police,environment 3h 路口疏导", 1))
    start = clock.now()
    # Indexed after the commit: the reminder at half of the hour to acknowledge.
    assert indexed == [(1, start + timedelta(minutes=30)), (2, start + timedelta(minutes=30))]
    async with sessions() as session:
        targets = list(await session.execute(select(OrderTarget).order_by(OrderTarget.id)))
        chased = [(t.unit_id, t.chased_unit_id, t.level) for (t,) in targets]
        kinds = list(await session.execute(select(OrderEvent.kind).order_by(OrderEvent.id)))
    assert chased == [
        ("traffic-police", "traffic-police", "department"),
        ("environment", "leadership", "leadership"),
    ]
    assert [k for (k,) in kinds] == ["issued", "sent", "skipped", "sent"]

    messages = OrderMessages(services)
    at = start + timedelta(hours=1)
    # Two workers fire the same deadline at once: one climb, one message.
    results = await asyncio.gather(
        chase.fire_due(sessions, 1, org_view, at, messages),
        chase.fire_due(sessions, 1, org_view, at, messages),
    )
    assert list(results) == [at + timedelta(minutes=30)] * 2
    async with sessions() as session:
        climbs = list(
            (
                await session.execute(
                    select(Outbox.chat_id).where(Outbox.dedupe_key.like("order:1:t1:%climb"))
                )
            ).scalars()
        )
        events = list(
            (
                await session.execute(
                    select(OrderEvent.kind).where(OrderEvent.target_id == 1).order_by(OrderEvent.id)
                )
            ).scalars()
        )
    assert climbs == [-1001999]
    assert events == ["sent", "escalated"]  # no reminder: the climb made it moot

    # At the top, the chase stops and says so; the next thing due is the order's due time.
    top = at + timedelta(hours=1)
    assert await chase.fire_due(sessions, 1, org_view, top, messages) == start + timedelta(hours=3)
    async with sessions() as session:
        target = await session.get(OrderTarget, 1)
        assert target is not None and target.ack_due_at is None
        last = (
            await session.execute(select(OrderEvent).order_by(OrderEvent.id.desc()).limit(1))
        ).scalar_one()
        assert (last.kind, last.note) == ("chase_stopped", "top of the ladder")
    # At the due time both targets are late: one message to the issuer, whichever fires.
    due = start + timedelta(hours=3)
    for target_id in (2, 1):
        assert await chase.fire_due(sessions, target_id, org_view, due, messages) is None
    async with sessions() as session:
        overdue = list(
            (
                await session.execute(
                    select(Outbox.text).where(Outbox.dedupe_key.like("order:%:overdue"))
                )
            ).scalars()
        )
        order = await session.get(Order, 1)
    assert overdue == [
        "❌ 令 <b>HZ-L-2026-0001</b> 已逾期（截止 11-25 12:00），2 个单位未完成：\n"
        "· 交警大队：未收到\n· 生态环境分局：未收到"
    ]
    assert order is not None and order.status == "open"
