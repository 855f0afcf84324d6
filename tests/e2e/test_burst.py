"""A burst through the whole stack: 60 reports in one minute into one grid, with Telegram's
real limits paced by the app and enforced by the sandbox (a 429 for every excess), on the
harness's fake clock. One card per case would take 3 minutes to reach the grid's chat; a
bundle shows them all within seconds, every case stays actionable from it, and nothing is
rejected for flooding."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from org.file import OrgConfig
from storage.models import Case
from tests.e2e.harness import Harness

RESIDENTS_CHAT, GRID = -1002001, -1001003
CHEN, LIN, ZHANG = 7001, 7002, 5001
NUMBER = re.compile(r"HZ-2026-\d{6}")
PROBLEMS = (
    "{n}号楼门口的路灯坏了三天",
    "{n}号楼下水道堵了，污水漫到路面",
    "{n}号楼旁边有人乱扔垃圾",
    "{n}号楼楼道里有人给电动车充电",
    "{n}号楼附近有僵尸车长期占道",
    "{n}号楼电梯坏了，老人下不了楼",
    "{n}号楼楼下烧烤油烟太大",
    "{n}号楼旁边工地晚上施工，噪音扰民",
    "{n}号楼门口的井盖松动了",
    "{n}号楼垃圾房有老鼠出没",
)


@pytest.fixture
async def limited(database_url: str, org_config: OrgConfig) -> AsyncIterator[Harness]:
    """The test org with Telegram's limits on, and duplicate merging made strict so that
    60 similar-sounding reports stay 60 cases (merging is tested elsewhere)."""
    policy = org_config.policy
    strict = policy.model_copy(
        update={"duplicates": policy.duplicates.model_copy(update={"similarity": 1.0})}
    )
    org = org_config.model_copy(update={"policy": strict})
    async with Harness(org, database_url, limits=True) as h:
        yield h


async def test_sixty_reports_in_a_minute_reach_the_grid_bundled_and_actionable(
    limited: Harness,
) -> None:
    h = limited
    for i in range(60):
        text = PROBLEMS[i % len(PROBLEMS)].format(n=i + 1)
        await h.say((CHEN, LIN)[i % 2], RESIDENTS_CHAT, f"@gridcall_bot {text}")
        await h.advance(timedelta(seconds=1))
    for _ in range(4):  # the cards of the last seconds go out at the grid chat's next slots
        await h.advance(timedelta(seconds=3))

    assert h.app is not None
    async with h.app.sessions() as session:
        numbers = list((await session.execute(select(Case.number).order_by(Case.id))).scalars())
    assert len(numbers) == 60

    grid = h.server.bot_messages(GRID)
    assert len(grid) <= 5, [m.plain_text[:30] for m in grid]
    shown = [n for m in grid for n in NUMBER.findall(m.plain_text)]
    assert sorted(shown) == numbers, "every case is in the grid's chat, exactly once"
    assert h.server.flood_rejections == 0

    # A bundle keeps each case actionable: its 接单 HZ-… button acknowledges that case.
    bundle = next(m for m in grid if "个新呼" in m.plain_text)
    label, data = next((label, data) for row in bundle.buttons for label, data in row)
    number = label.removeprefix("接单 ")
    assert NUMBER.fullmatch(number) and data.endswith(":ack")
    await h.press(ZHANG, GRID, bundle.message_id, data)
    assert h.alerts()[-1] == f"已接单：{number}"
    for _ in range(2):  # the acknowledged card, then the bundle's tick, each at a slot
        await h.advance(timedelta(seconds=3))
    async with h.app.sessions() as session:
        case = (await session.execute(select(Case).where(Case.number == number))).scalar_one()
    assert case.status == "acknowledged" and case.acknowledged_by == "张三"

    card = h.server.bot_messages(GRID)[-1]
    assert card.reply_to_message_id == bundle.message_id
    assert number in card.plain_text and "张三" in card.plain_text
    ticked = next(m for m in h.server.bot_messages(GRID) if m.message_id == bundle.message_id)
    assert f"✅ {number}" in ticked.plain_text
    assert data not in [d for row in ticked.buttons for _, d in row]
    assert h.server.flood_rejections == 0


async def test_a_grid_chat_the_bot_was_removed_from_passes_the_case_up_at_once(
    harness: Harness,
) -> None:
    """The sender's `on_failed` hook is wired: a 403 on the grid's card moves the case on."""
    h = harness
    h.server.kick_bot(GRID)
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了三天")
    community = h.server.bot_messages(-1001002)
    assert community and "HZ-2026-000001" in community[0].plain_text
    assert h.server.bot_messages(GRID) == []


KINDS = (
    "{n}栋门口的路灯坏了，晚上一片黑",
    "{n}栋楼下的井盖松了，踩上去咣当响",
    "{n}栋一楼餐馆油烟直往楼上窜",
    "{n}栋楼道声控灯不亮了",
    "{n}栋电梯停在半层不动了",
    "{n}栋楼顶漏雨，顶楼天花板在滴水",
    "{n}栋门口垃圾桶满了没人清",
    "{n}栋旁边有人摆摊占道",
    "{n}栋外墙瓷砖松动快掉下来了",
    "{n}栋楼道里有人飞线给电动车充电",
    "{n}栋前面的消防通道被车堵了",
    "{n}栋一楼的灭火器过期了",
    "{n}栋地下车库积水很深",
    "{n}栋旁边工地晚上施工太吵",
    "{n}栋楼下有流浪狗咬人",
    "{n}栋家里停水一整天了",
    "{n}栋旁边的树枝快压到电线了",
    "{n}栋垃圾房老鼠很多",
    "{n}栋门口的护栏断了",
    "{n}栋楼下僵尸车停了半年",
)


async def test_two_hundred_distinct_reports_in_a_minute_stay_two_hundred_cases(
    database_url: str, org_config: OrgConfig
) -> None:
    """The real duplicate rules, Telegram's real limits: 20 problems at 10 buildings in one
    minute are 200 problems, and every resident hears back within a minute — the receipts
    are bundled, one message per turn of the group's slot, and nothing is refused."""
    async with Harness(org_config, database_url, limits=True) as h:
        for i in range(200):
            h.server.add_user(8000 + i, f"居民{i + 1}")
            h.server.state.chats[RESIDENTS_CHAT].members.add(8000 + i)
        for i in range(200):
            text = KINDS[i % 20].format(n=i // 20 + 1)
            await h.say(8000 + i, RESIDENTS_CHAT, f"@gridcall_bot {text}")
            await h.advance(timedelta(seconds=0.3))
        await h.advance(timedelta(seconds=60 - 200 * 0.3))  # a minute after the first report
        assert h.app is not None
        async with h.app.sessions() as session:
            numbers = list((await session.execute(select(Case.number))).scalars())
        assert len(numbers) == 200
        receipts = h.texts(RESIDENTS_CHAT)
        told = {n for text in receipts for n in NUMBER.findall(text)}
        assert told == set(numbers), "every resident has their case number within the minute"
        assert len(receipts) < 40  # bundled: a message per slot, not one per report
        assert h.server.flood_rejections == 0
