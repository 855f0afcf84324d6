"""/stats through the real client: a table in the caption of a chart, and who may ask what."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from handlers import stats
from tests.e2e.harness import Harness

RESIDENTS_CHAT, GRID, GRID_2 = -1002001, -1001003, -1001004
CHEN, ZHANG, WANG, LEADER = 7001, 5001, 5002, 5009


async def one_closed_case(h: Harness) -> None:
    """Filed at 09:00, acknowledged 10 minutes later, resolved at 09:30, judged 满意."""
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    card = h.server.bot_messages(GRID)[0]
    await h.advance(timedelta(minutes=10))
    await h.press(ZHANG, GRID, card.message_id, "c:1:ack")
    await h.advance(timedelta(minutes=20))
    await h.press(ZHANG, GRID, card.message_id, "c:1:resolve")
    prompt = h.server.bot_messages(GRID)[-1]
    await h.say(ZHANG, GRID, "已更换灯泡", reply_to=prompt.message_id)
    resolved = h.server.bot_messages(RESIDENTS_CHAT)[-1]
    judge = {label: data for row in resolved.buttons for label, data in row}
    await h.press(CHEN, RESIDENTS_CHAT, resolved.message_id, judge["满意"])


TABLE = [
    "案件数　　  1",
    "及时签收率  100.0% (1/1)",
    "按期办结率  100.0% (1/1)",
    "结案率　　  100.0% (1/1)",
    "返工率　　  0.0% (0/1)",
    "回退率　　  0.0% (0/1)",
    "满意率　　  100.0% (1/1)",
    "平均签收　  10分钟（P90 10分钟）",
    "平均办结　  30分钟（P90 30分钟）",
]


async def test_stats_sends_a_chart_with_the_table(harness: Harness) -> None:
    h = harness
    await one_closed_case(h)
    await h.say(LEADER, LEADER, "/stats")
    answer = h.server.bot_messages(LEADER)[-1]
    assert answer.kind == "photo"
    lines = answer.plain_text.splitlines()
    assert lines[0] == "测试区 · 近7天"
    assert lines[1] == "2026-11-18 09:30 – 2026-11-25 09:30（按立案时间）"
    assert lines[2:11] == TABLE
    assert lines[-1] == "括号内为 分子/分母 案件数；逐案明细见 gridcall report。"
    # The answer took the place of the stand-in written with the command: nothing follows.
    await h.advance(stats.ANSWER_GRACE * 2)
    assert h.server.bot_messages(LEADER)[-1].message_id == answer.message_id

    # A grid worker's default is their own grid; a category or a period can be named.
    await h.say(ZHANG, GRID, "/stats 本月")
    mine = h.server.bot_messages(GRID)[-1]
    assert mine.kind == "photo"
    assert mine.plain_text.splitlines()[0] == "宝玉直第一网格 · 本月"
    assert mine.plain_text.splitlines()[2:4] == TABLE[:2]

    await h.say(LEADER, LEADER, "/stats 交通出行 2026-11")
    empty = h.server.bot_messages(LEADER)[-1]
    assert empty.kind == "text"  # nothing filed: no chart to draw
    assert empty.plain_text.splitlines()[0] == "交通出行 · 2026-11"
    assert "这段时间没有立案。" in empty.plain_text
    assert "案件数　　  0" in empty.plain_text


async def test_stats_refuses_what_is_not_yours_and_bad_input(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, CHEN, "/stats")
    assert h.texts(CHEN)[-1] == "统计只对工作人员开放。如需了解您反映的问题，请发送 /mine。"
    await h.say(WANG, GRID_2, "/stats 宝玉直第一网格")
    assert h.texts(GRID_2)[-1] == (
        "您只能查看本单位及下辖单位的统计，「宝玉直第一网格」不在其中。发送 /stats 查看本单位。"
    )
    await h.say(WANG, GRID_2, "/stats 交通出行")
    assert h.texts(GRID_2)[-1].startswith("您只能查看本单位及下辖单位的统计，「交通出行」")
    # What is under one's own unit is one's business too; a department sees itself.
    await h.say(5003, -1001002, "/stats 宝玉直第一网格 month")
    assert h.texts(-1001002)[-1].splitlines()[0] == "宝玉直第一网格 · 近30天"
    await h.say(5005, -1001902, "/stats")
    assert h.texts(-1001902)[-1].splitlines()[0] == "交警大队 · 近7天"
    await h.say(LEADER, LEADER, "/stats 月球")
    assert h.texts(LEADER)[-1].startswith("没有叫「月球」的单位或类别。")
    await h.say(LEADER, LEADER, "/stats 2026-13")
    assert h.texts(LEADER)[-1].splitlines()[0] == "看不懂时间「2026-13」：没有这个日期。"
    await h.say(LEADER, LEADER, "/stats 2026-11-20..2026-11-01")
    assert h.texts(LEADER)[-1].splitlines()[0] == (
        "时间「2026-11-20..2026-11-01」的结束日期早于开始日期。"
    )


async def test_a_deadline_the_bot_escalated_counts_as_missed(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    await h.advance(timedelta(hours=2, minutes=1))  # the grid's acknowledge deadline passes
    community_card = h.server.bot_messages(-1001002)[0]
    await h.press(5003, -1001002, community_card.message_id, "c:1:ack")
    await h.say(LEADER, LEADER, "/stats")
    lines = h.texts(LEADER)[-1].splitlines()
    assert lines[3] == "及时签收率  0.0% (0/1)"
    assert lines[9] == "平均签收　  2小时1分钟（P90 2小时1分钟）"
    assert lines[10] == "平均办结　  —（P90 —）"


STAND_IN = "⚠️ 这次 /stats 没有算出结果（出错或服务重启），请重新发送。"


async def test_an_answer_lost_to_a_restart_or_an_error_is_not_lost_silently(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    working = asyncio.Event()

    async def never_done(*args: Any) -> stats.StatsAnswer:
        working.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    monkeypatch.setattr(stats, "figures_of", never_done)
    command = h.server.user_sends(LEADER, LEADER, "/stats")
    await asyncio.wait_for(working.wait(), timeout=15)
    await h.restart()  # the process goes down while the figures are being worked out
    await h.advance(stats.ANSWER_GRACE - timedelta(minutes=1))
    assert h.texts(LEADER) == []
    await h.advance(timedelta(minutes=1))
    assert h.texts(LEADER) == [STAND_IN]
    assert h.server.bot_messages(LEADER)[0].reply_to_message_id == command["message_id"]

    async def broken(*args: Any) -> stats.StatsAnswer:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(stats, "figures_of", broken)
    await h.say(LEADER, LEADER, "/stats 本月")  # an error: told at once, not after the grace
    assert h.texts(LEADER) == [STAND_IN, STAND_IN]
    await h.advance(stats.ANSWER_GRACE * 2)
    assert h.texts(LEADER) == [STAND_IN, STAND_IN]
