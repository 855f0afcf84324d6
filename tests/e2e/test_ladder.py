"""A report climbs the whole ladder on a moved clock, exactly once per rung, and stops when
an entitled person acknowledges it — through the real aiogram client and a Bot API server."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.e2e.harness import Harness

RESIDENTS_CHAT = -1002001
GRID, COMMUNITY, STREET, POWER, LEADERSHIP = -1001003, -1001002, -1001001, -1001904, -1001999
CHEN, ZHANG, WANG, HUANG = 7001, 5001, 5002, 5004
TWO_HOURS = timedelta(hours=2)
REPORT = "@gridcall_bot 小区门口的路灯坏了三天，晚上很黑"
TZ = ZoneInfo("Asia/Shanghai")
UNITS = {
    GRID: "宝玉直第一网格",
    COMMUNITY: "宝玉直社区",
    STREET: "海幢街道",
    POWER: "供电局",
    LEADERSHIP: "领导",
}


def card_buttons(h: Harness, chat: int, index: int = -1) -> dict[str, str]:
    message = h.server.bot_messages(chat)[index]
    return {label: data for row in message.buttons for label, data in row}


async def test_report_climbs_every_rung_once_then_acknowledge_stops_it(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, REPORT)

    assert h.all_texts().keys() == {RESIDENTS_CHAT, GRID}
    [receipt] = h.texts(RESIDENTS_CHAT)
    assert "HZ-2026-000001" in receipt and "市政设施" in receipt
    assert "承诺签收时间：11-25 11:00 前" in receipt  # 01:00 UTC + 2h, shown in Beijing time
    [card] = h.server.bot_messages(GRID)
    assert "路灯坏了三天" in card.plain_text and "宝玉直第一网格" in card.plain_text
    assert "报告人：陈阿姨" in card.plain_text  # the grid's own chat may see who reported
    assert "张三" in card.plain_text  # the grid worker is mentioned
    assert [label for row in card.buttons for label, _ in row] == [
        "接单",
        "办结",
        "回退",
        "提级",
        "改类",
    ]

    def total() -> int:
        return sum(len(v) for v in h.all_texts().values())

    rungs = [GRID, COMMUNITY, STREET, POWER, LEADERSHIP]
    for here, above in zip(rungs, [*rungs[1:], None], strict=True):
        sent = total()
        # 催办 at three quarters of the level's two hours, to that level only.
        await h.advance(timedelta(minutes=90) - timedelta(seconds=1))
        assert total() == sent, "reminded early"
        await h.advance(timedelta(seconds=1))
        due = h.clock.now().astimezone(TZ) + timedelta(minutes=30)
        assert h.texts(here)[-1] == (
            f"⏰ 催办：HZ-2026-000001（市政设施）将于 {due:%m-%d %H:%M} 到期，"
            f"请{UNITS[here]}尽快签收。"
        )
        await h.advance(timedelta(minutes=30) - timedelta(seconds=1))
        assert total() == sent + 1, "fired early"
        await h.advance(timedelta(seconds=1))
        if above is None:
            assert total() == sent + 1  # the top of the ladder: nobody new is pinged
            continue
        [climbed] = h.texts(above)
        assert "超时未签收" in climbed and "HZ-2026-000001" in climbed
        # Personal data stays in the grid: no rung above it sees the reporter's name.
        assert "陈阿姨" not in climbed
        assert total() == sent + 2, "an extra message"

    await h.advance(TWO_HOURS * 2)
    assert {chat: len(texts) for chat, texts in h.all_texts().items()} == {
        RESIDENTS_CHAT: 1,
        GRID: 2,
        COMMUNITY: 2,
        STREET: 2,
        POWER: 2,
        LEADERSHIP: 2,
    }

    # A worker of the neighbouring grid, who also sits in this chat, presses 接单:
    # an alert, and nothing changes.
    h.server.state.chat_for(ZHANG, GRID).members.add(WANG)
    grid_card = h.server.bot_messages(GRID)[0]
    await h.press(WANG, GRID, grid_card.message_id, card_buttons(h, GRID, 0)["接单"])
    assert "只有" in (h.alerts()[-1] or "")
    assert grid_card.edits == []
    assert len(h.server.bot_messages()) == 11

    # The grid worker takes it: the resident hears who, the card shows it.
    await h.press(ZHANG, GRID, grid_card.message_id, card_buttons(h, GRID, 0)["接单"])
    assert h.alerts()[-1] == "已接单：HZ-2026-000001"
    assert h.texts(RESIDENTS_CHAT)[-1] == (
        "您的呼 HZ-2026-000001 已由宝玉直第一网格 张三 接单，正在处理。"
    )
    edited = h.server.bot_messages(GRID)[0]
    assert "✅ 张三 已于 11-25 23:00 接单" in edited.plain_text
    assert "⏰ 请在 11-28 09:00 前办结" in edited.plain_text  # the resolve clock keeps running
    assert [label for row in edited.buttons for label, _ in row] == ["办结", "回退", "提级", "改类"]

    # A second press on another rung's card, even by an entitled person, changes nothing.
    street_card = h.server.bot_messages(STREET)[0]
    await h.press(HUANG, STREET, street_card.message_id, card_buttons(h, STREET, 0)["接单"])
    assert h.alerts()[-1] == "HZ-2026-000001 已由 张三 接单。"
    assert len(h.server.bot_messages()) == 12
    assert h.server.duplicates() == []


async def test_acknowledge_before_the_deadline_stops_the_climb(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    card = h.server.bot_messages(GRID)[0]
    await h.advance(timedelta(minutes=30))
    await h.press(ZHANG, GRID, card.message_id, card_buttons(h, GRID, 0)["接单"])
    await h.advance(TWO_HOURS * 10)
    assert set(h.all_texts()) == {RESIDENTS_CHAT, GRID}
    assert len(h.texts(RESIDENTS_CHAT)) == 2
