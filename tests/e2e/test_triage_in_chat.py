"""Triage as residents meet it in a group where the bot reads every message."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.harness import Harness

RESIDENTS_CHAT, GRID, COMMUNITY = -1002001, -1001003, -1001002
CHEN, LIN = 7001, 7002


async def test_chatter_is_left_alone_and_an_unaddressed_report_is_filed(
    harness: Harness,
) -> None:
    h = harness
    for text in ("大家早上好", "多谢网格员！", "收到", "哈哈哈哈", "👍👍", "今晚去江边散步好舒服"):
        await h.say(LIN, RESIDENTS_CHAT, text)
    assert h.server.bot_messages() == []
    await h.say(CHEN, RESIDENTS_CHAT, "楼下垃圾堆了一个星期都没人清，臭死了")
    assert h.texts(RESIDENTS_CHAT)[0].startswith("已受理您的呼：HZ-2026-000001")
    assert "城市管理" in h.texts(GRID)[0]


async def test_an_emergency_gets_the_right_number_and_a_short_deadline(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 三楼楼道闻到很浓的煤气味！")
    [receipt] = h.texts(RESIDENTS_CHAT)
    assert "⚠️ 情况紧急，请立即拨打 119！" in receipt
    assert "承诺签收时间：11-25 09:10 前" in receipt  # urgent: 10 minutes
    assert "紧急" in h.texts(GRID)[0]
    await h.advance(timedelta(minutes=10))
    assert len(h.texts(COMMUNITY)) == 1


async def test_english_reports_are_understood(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot the street light outside block 5 is broken")
    assert "市政设施" in h.texts(RESIDENTS_CHAT)[0]
