"""Bundles on real SQLite and PostgreSQL with the fake transport: a burst of cards into one
chat becomes one message listing the cases, edited as more arrive, each case still
actionable — and only when the chat's pacing is what holds them back."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox_sender import FailedDelivery, OutboxSender, SendLimits
from escalation.clock import FakeClock
from handlers.notify import card_message
from org.view import OrgView
from storage.models import Outbox
from storage.outbox import OutgoingMessage, enqueue
from templates.render import Renderer
from tests.fakes import FakeTransport, PermanentError, Sent
from tests.storage.test_repository import new_case

GROUP = -1001003
NUMBER = re.compile(r"HZ-2026-\d{6}")


def number(i: int) -> str:
    return f"HZ-2026-{i:06d}"


def card(i: int, chat_id: int = GROUP) -> OutgoingMessage:
    """A case card as the notifier writes it, with its bundle line and button given."""
    return OutgoingMessage(
        key=f"case:{i}:card",
        chat_id=chat_id,
        text=f"<b>{number(i)}</b> · 市政设施 · 普通\n\n{i}号楼门口的路灯坏了",
        buttons=[[("接单", f"c:{i}:ack"), ("办结", f"c:{i}:resolve")]],
        case_id=i,
        bundle_line=f"<b>{number(i)}</b> · 市政设施 · {i}号楼门口的路灯坏了",
        bundle_button=(f"接单 {number(i)}", f"c:{i}:ack"),
    )


async def put(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, *messages: OutgoingMessage
) -> None:
    async with sessions() as session, session.begin():
        for message in messages:
            await enqueue(session, message, clock.now())


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[Outbox]:
    async with sessions() as session:
        return list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())


def sender_for(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    transport: FakeTransport,
    **kw: object,
) -> OutboxSender:
    transport.now = clock.now
    return OutboxSender(sessions, transport, clock, SendLimits(), **kw)  # type: ignore[arg-type]


def buttons_of(message: Sent) -> list[tuple[str, str]]:
    return [b for row in message.buttons for b in row]


async def test_without_backlog_cards_go_one_by_one_exactly_as_written(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport)
    for i in (1, 2, 3):
        await put(sessions, clock, card(i))
        await sender.drain()
        clock.advance(timedelta(seconds=10))  # slower than the chat's pacing: no backlog
    assert [s.text for s in transport.sent] == [card(i).text for i in (1, 2, 3)]
    assert transport.sent[0].buttons == [[("接单", "c:1:ack"), ("办结", "c:1:resolve")]]
    assert transport.edits == []
    assert {(r.status, r.bundle_id) for r in await rows(sessions)} == {("sent", None)}


async def test_two_cards_due_at_once_on_a_free_chat_are_not_bundled(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Bundling answers backlog, not batches: a free chat gets the first card at once."""
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport)
    await put(sessions, clock, card(1), card(2))
    await sender.drain()
    clock.advance(timedelta(seconds=3))
    await sender.drain()
    assert [s.text for s in transport.sent] == [card(1).text, card(2).text]


async def test_backlog_becomes_one_bundle_and_the_bundle_is_edited_as_cards_arrive(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport)
    await put(sessions, clock, card(1))
    await sender.drain()  # the chat was free: card 1 alone
    clock.advance(timedelta(seconds=1))
    await put(sessions, clock, card(2), card(3), card(4))
    await sender.drain()  # the chat's pacing says "not yet"
    assert len(transport.sent) == 1

    clock.advance(timedelta(seconds=2))
    await sender.drain()
    assert len(transport.sent) == 2
    bundle = transport.sent[1]
    assert bundle.text.startswith("📥 <b>3 个新呼</b>")
    assert NUMBER.findall(bundle.text) == [number(2), number(3), number(4)]
    assert buttons_of(bundle) == [(f"接单 {number(i)}", f"c:{i}:ack") for i in (2, 3, 4)]
    by_case = {r.case_id: r for r in await rows(sessions) if r.case_id is not None}
    bundle_row = next(r for r in await rows(sessions) if r.kind == "bundle")
    assert [by_case[i].status for i in (1, 2, 3, 4)] == ["sent", "bundled", "bundled", "bundled"]
    assert {by_case[i].bundle_id for i in (2, 3, 4)} == {bundle_row.id}
    assert bundle_row.edit_message_id == bundle.message_id

    # Two more arrive while the bundle is the chat's newest message: it is edited, at the
    # chat's next slot, and no new message is sent.
    clock.advance(timedelta(seconds=1))
    await put(sessions, clock, card(5), card(6))
    await sender.drain()
    assert transport.edits == []
    clock.advance(timedelta(seconds=2))
    await sender.drain()
    assert len(transport.sent) == 2
    assert [e[1] for e in transport.edits] == [bundle.message_id]
    shown = transport.shown[bundle.message_id]
    assert shown.text.startswith("📥 <b>5 个新呼</b>")
    assert NUMBER.findall(shown.text) == [number(i) for i in (2, 3, 4, 5, 6)]
    assert ("接单 HZ-2026-000006", "c:6:ack") in buttons_of(shown)
    assert all(r.sent_at is not None for r in await rows(sessions) if r.case_id)


async def test_a_burst_is_paced_and_every_case_is_in_exactly_one_message(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport, bundle_max=10)
    for i in range(1, 46):  # 45 cards, one a second: 15 minutes' worth of single messages
        await put(sessions, clock, card(i))
        await sender.drain()
        clock.advance(timedelta(seconds=1))
    for _ in range(30):
        await sender.drain()
        clock.advance(timedelta(seconds=1))

    times = [at for at, _, chat, _ in transport.calls if chat == GROUP]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 3.0, "sends and edits both keep the group's pacing"
    assert len(transport.sent) <= 8, [s.text[:20] for s in transport.sent]

    seen: dict[str, int] = {}
    for message in transport.shown.values():
        for found in NUMBER.findall(message.text):
            seen[found] = seen.get(found, 0) + 1
    assert seen == {number(i): 1 for i in range(1, 46)}, "every case in exactly one message"

    cards = [r for r in await rows(sessions) if r.case_id is not None]
    for row in cards:
        alone = row.status == "sent" and row.bundle_id is None
        bundled = row.status == "bundled" and row.bundle_id is not None
        assert alone != bundled, (row.id, row.status, row.bundle_id)
        sent_alone = [s for s in transport.sent if s.text == row.text]
        assert len(sent_alone) == (1 if alone else 0), "a bundled row is never sent alone"
    for message in transport.shown.values():
        assert len(NUMBER.findall(message.text)) <= 10


async def test_a_full_bundle_is_closed_and_the_next_cards_start_a_new_one(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport, bundle_max=5)
    await put(sessions, clock, card(0))
    await sender.drain()
    await put(sessions, clock, *[card(i) for i in range(1, 13)])
    await sender.drain()
    for _ in range(4):
        clock.advance(timedelta(seconds=3))
        await sender.drain()
    counts = [len(NUMBER.findall(s.text)) for s in transport.sent]
    assert counts == [1, 5, 5, 2]
    assert transport.edits == []


async def test_a_quiet_bundle_is_not_appended_to(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport)
    await put(sessions, clock, card(1))
    await sender.drain()
    await put(sessions, clock, card(2), card(3))
    await sender.drain()
    clock.advance(timedelta(seconds=3))
    await sender.drain()
    assert len(transport.sent) == 2
    clock.advance(timedelta(minutes=10))
    await put(sessions, clock, card(4))
    await sender.drain()
    assert [s.text for s in transport.sent][-1] == card(4).text
    assert transport.edits == []


async def test_acknowledging_from_a_bundle_posts_the_card_and_ticks_the_line(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport)
    await put(sessions, clock, card(1))
    await sender.drain()
    await put(sessions, clock, card(2), card(3))
    await sender.drain()
    clock.advance(timedelta(seconds=3))
    await sender.drain()
    bundle = transport.sent[-1]

    # The handler edits "the card the button was on" — here, the bundle message.
    acked = OutgoingMessage(
        key="case:2:v2:card-edit",
        chat_id=GROUP,
        text=f"<b>{number(2)}</b> · 市政设施\n☑️ 张三 已签收",
        buttons=[[("办结", "c:2:resolve")]],
        edit_message_id=bundle.message_id,
        case_id=2,
    )
    await put(sessions, clock, acked)
    clock.advance(timedelta(seconds=3))
    await sender.drain()
    card_alone = transport.sent[-1]
    assert card_alone.text == acked.text
    assert card_alone.reply_to_message_id == bundle.message_id
    assert card_alone.buttons == [[("办结", "c:2:resolve")]]
    assert transport.shown[bundle.message_id].text == bundle.text, "the list was not replaced"

    clock.advance(timedelta(seconds=3))
    await sender.drain()
    shown = transport.shown[bundle.message_id]
    assert f"✅ <b>{number(2)}</b>" in shown.text and number(3) in shown.text
    assert buttons_of(shown) == [(f"接单 {number(3)}", "c:3:ack")]


async def test_a_case_card_carries_its_bundle_line_and_button_from_the_notifier(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, org_view: OrgView
) -> None:
    r = Renderer("zh")
    async with sessions() as session, session.begin():
        case = new_case(clock, "HZ-2026-000007")
        case.text = "小区门口的路灯<坏了>三天，晚上很黑看不见路，已经好几天了"
        session.add(case)
        await session.flush()
        unit = org_view.units[case.grid_id]
        climbed = card_message(
            r, org_view, case, unit, key="card", chat_id=GROUP, reason="ack_overdue"
        )
        await enqueue(session, climbed, clock.now())
        await enqueue(
            session,
            OutgoingMessage(key="note", chat_id=GROUP, text="已办结", case_id=case.id),
            clock.now(),
        )
        taken = card_message(r, org_view, case, unit, key="new", chat_id=GROUP, reason="new")
        case_id = case.id
    card_row, note_row = await rows(sessions)
    assert card_row.bundle_line == (
        "⬆️ <b>HZ-2026-000007</b> · 市政设施 · 一般 · "
        "小区门口的路灯&lt;坏了&gt;三天，晚上很黑看不见路，…"
    )
    assert card_row.bundle_button == ["接单 HZ-2026-000007", f"c:{case_id}:ack"]
    assert card_row.bundle_kind == "call"
    assert taken.bundle_line is not None and not taken.bundle_line.startswith("⬆️")
    assert note_row.bundle_line is None, "a message the notifier gave no line is never bundled"


async def test_a_bundle_the_bot_cannot_deliver_reports_each_case(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    failures: list[FailedDelivery] = []

    async def on_failed(failed: FailedDelivery) -> None:
        failures.append(failed)

    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport, on_failed=on_failed)
    await put(sessions, clock, card(1))
    await sender.drain()
    await put(sessions, clock, card(2), card(3))
    await sender.drain()
    transport.fail(PermanentError("Forbidden: bot was kicked", unreachable=True))
    clock.advance(timedelta(seconds=3))
    await sender.drain()
    assert sorted((f.case_id, f.unreachable) for f in failures) == [(2, True), (3, True)]
    by_case = {r.case_id: r.status for r in await rows(sessions) if r.case_id}
    assert by_case == {1: "sent", 2: "failed", 3: "failed"}
    assert sender.failed == 2


async def test_rows_held_by_pacing_are_not_work_now(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """The app's idle check: due rows that must wait for their chat are not pending work."""
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport)
    await put(sessions, clock, card(1), card(2))
    assert await sender.has_work(clock.now())
    wake_at = await sender.drain()
    assert not await sender.has_work(clock.now())
    assert wake_at == clock.now() + timedelta(seconds=3)
    clock.advance(timedelta(seconds=3))
    assert await sender.has_work(clock.now())


async def test_parts_of_a_long_message_each_wait_for_the_chat(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    transport = FakeTransport()
    sender = sender_for(sessions, clock, transport)
    text = "\n".join(f"第{i}行 路灯坏了三天" for i in range(900))  # three parts
    await put(sessions, clock, OutgoingMessage(key="long", chat_id=GROUP, text=text))
    for _ in range(4):
        await sender.drain()
        clock.advance(timedelta(seconds=3))
    times = [at for at, *_ in transport.calls]
    assert len(times) == 3 and times[1] - times[0] == timedelta(seconds=3) == times[2] - times[1]
    [row] = await rows(sessions)
    assert row.status == "sent" and row.attempts == 1, "waiting for the chat is not a retry"
