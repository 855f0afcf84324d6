"""Neighbours reporting the same problem join one case; each hears the outcome."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.harness import Harness

RESIDENTS_CHAT, OTHER_GRID_CHAT, GRID = -1002001, -1002002, -1001003
CHEN, LIN, ALICE, ZHANG = 7001, 7002, 7003, 5001


async def test_duplicates_merge_raise_priority_and_all_reporters_hear_the_outcome(
    harness: Harness,
) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    await h.advance(timedelta(minutes=5))
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 门口路灯坏了，晚上黑麻麻")
    assert h.texts(RESIDENTS_CHAT)[-1] == (
        "您反映的问题已在处理中：HZ-2026-000001（市政设施，已派遣，宝玉直第一网格）。\n"
        "已有 2 位居民反映，办理结果会通知每一位反映人。"
    )
    assert len(h.texts(GRID)) == 1  # no second card

    # A third neighbour, privately, picking the grid: the threshold raises the priority.
    await h.say(ALICE, ALICE, "小区门口路灯坏了好几天了")
    ask = h.server.bot_messages(ALICE)[-1]
    await h.press(ALICE, ALICE, ask.message_id, "p:baoyuzhi-1")
    assert "已有 3 位居民反映" in h.texts(ALICE)[-1]
    assert h.texts(GRID)[-1] == (
        "⚠️ HZ-2026-000001 已有 3 位居民反映，优先级提升为「紧急」。请在 11-25 09:15 前签收。"
    )
    # The same person reporting again is not counted twice.
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 路灯还是坏的")
    assert "已有 3 位居民反映" in h.texts(RESIDENTS_CHAT)[-1]

    card = h.server.bot_messages(GRID)[0]
    await h.press(ZHANG, GRID, card.message_id, "c:1:ack")
    taken = "您的呼 HZ-2026-000001 已由宝玉直第一网格 张三 接单，正在处理。"
    assert h.texts(RESIDENTS_CHAT).count(taken) == 1  # one message for the group's two
    assert h.texts(ALICE)[-1] == taken
    assert h.server.duplicates() == []


async def test_other_problems_places_and_old_cases_are_not_merged(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 楼下垃圾堆了一个星期没人清")
    await h.say(ALICE, OTHER_GRID_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    await h.advance(timedelta(days=3, seconds=1))
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    receipts = [t.split("\n")[0] for t in h.texts(RESIDENTS_CHAT) if t.startswith("已受理")]
    assert receipts == [
        "已受理您的呼：HZ-2026-000001",
        "已受理您的呼：HZ-2026-000002",
        "已受理您的呼：HZ-2026-000004",
    ]
    assert h.texts(OTHER_GRID_CHAT)[0].startswith("已受理您的呼：HZ-2026-000003")
