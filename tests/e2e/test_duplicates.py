"""Neighbours reporting the same problem at the same place join one case; each hears the
outcome, and what each of them wrote reaches the people handling it. Different problems at
one place, one problem at different places, and a danger beside a slower case stay apart."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.harness import Harness

RESIDENTS_CHAT, OTHER_GRID_CHAT, GRID = -1002001, -1002002, -1001003
COMMUNITY = -1001002
CHEN, LIN, ALICE, ZHANG = 7001, 7002, 7003, 5001


def buttons(h: Harness, chat: int, index: int = 0) -> dict[str, str]:
    message = h.server.bot_messages(chat)[index]
    return {label: data for row in message.buttons for label, data in row}


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
    # No second card: the card now shows the neighbour's words, and the grid hears of them.
    assert h.texts(GRID) == [
        "HZ-2026-000001 · 市政设施 · 一般\n网格：宝玉直第一网格\n📍 宝玉直第一网格\n"
        "小区门口的路灯坏了三天\n报告人：陈阿姨\n+1 林先生：门口路灯坏了，晚上黑麻麻\n"
        "⏰ 请在 11-25 11:00 前签收\n张三",
        "➕ HZ-2026-000001 又有居民反映（共 2 位）：\n林先生：门口路灯坏了，晚上黑麻麻",
    ]

    # A third neighbour, privately, picking the grid: the threshold raises the priority.
    await h.say(ALICE, ALICE, "小区门口路灯坏了好几天了")
    ask = h.server.bot_messages(ALICE)[-1]
    await h.press(ALICE, ALICE, ask.message_id, "p:baoyuzhi-1")
    assert "已有 3 位居民反映" in h.texts(ALICE)[-1]
    assert h.texts(GRID)[-1] == (
        "➕ HZ-2026-000001 又有居民反映（共 3 位）：\nAlice：小区门口路灯坏了好几天了\n"
        "⚠️ 已有 3 位居民反映，优先级提升为「紧急」。请在 11-25 09:15 前签收。"
    )
    assert h.texts(GRID)[0].startswith("HZ-2026-000001 · 市政设施 · 紧急\n")
    # The same person asking again is not counted twice, and their words are kept too.
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 路灯还是坏的")
    assert "已有 3 位居民反映" in h.texts(RESIDENTS_CHAT)[-1]
    assert h.texts(GRID)[-1].startswith(
        "➕ HZ-2026-000001 又有居民反映（共 3 位）：\n林先生：路灯还是坏的"
    )

    # Every word reaches the staff: 全文 lists each report, whole, with who and when.
    await h.press(ZHANG, GRID, h.server.bot_messages(GRID)[0].message_id, "c:1:full")
    assert h.texts(GRID)[-1] == (
        "📄 HZ-2026-000001 居民原话（共 4 条）\n\n"
        "11-25 09:00 陈阿姨：\n小区门口的路灯坏了三天\n\n"
        "11-25 09:05 林先生：\n门口路灯坏了，晚上黑麻麻\n\n"
        "11-25 09:05 Alice：\n小区门口路灯坏了好几天了\n\n"
        "11-25 09:05 林先生：\n路灯还是坏的"
    )

    card = h.server.bot_messages(GRID)[0]
    await h.press(ZHANG, GRID, card.message_id, "c:1:ack")
    taken = "您的呼 HZ-2026-000001 已由宝玉直第一网格 张三 接单，正在处理。"
    assert h.texts(RESIDENTS_CHAT).count(taken) == 1  # one message for the group's two
    assert h.texts(ALICE)[-1] == taken
    # The timeline shows what each neighbour said.
    await h.say(ZHANG, GRID, "/case HZ-2026-000001")
    timeline = h.texts(GRID)[-1]
    assert "合并（又一位居民反映） · 林先生：\n门口路灯坏了，晚上黑麻麻" in timeline
    assert "合并（又一位居民反映） · Alice：\n小区门口路灯坏了好几天了" in timeline
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


async def test_three_problems_at_one_building_are_three_cases(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 3栋门口的路灯不亮了")
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 3栋门口那个井盖松了，踩上去会晃")
    await h.say(ALICE, RESIDENTS_CHAT, "@gridcall_bot 3栋楼下的饭店油烟熏得人受不了")
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 5栋门口的路灯也不亮")
    numbers = [t.split("\n")[0] for t in h.texts(RESIDENTS_CHAT) if t.startswith("已受理")]
    assert numbers == [f"已受理您的呼：HZ-2026-00000{n}" for n in (1, 2, 3, 4)]
    assert not any("已在处理中" in t for t in h.texts(RESIDENTS_CHAT))


async def test_a_danger_is_not_hidden_in_a_slower_case_and_a_doubt_is_one_tap(
    harness: Harness,
) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 北门井盖有点松，踩着会响，麻烦看看")
    # Same thing, same gate, but now someone fell in: its own urgent case, linked.
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 北门井盖塌了，有个小孩掉下去受伤了！")
    assert h.texts(RESIDENTS_CHAT)[-1].startswith("已受理您的呼：HZ-2026-000002")
    urgent = h.texts(GRID)[-1]
    assert urgent.startswith("HZ-2026-000002 · ") and " · 紧急\n" in urgent
    assert "🔁 可能重复：HZ-2026-000001（是同一问题请点「合并」）" in urgent
    # A report with no place: maybe the same, so not merged, and the card says so.
    await h.say(ALICE, RESIDENTS_CHAT, "@gridcall_bot 井盖松动很危险")
    card = h.texts(GRID)[-1]
    assert card.startswith("HZ-2026-000003")
    assert "🔁 可能重复：HZ-2026-000002" in card
    merge = buttons(h, GRID, -1)["🔁 合并"]
    assert merge == "c:3:merge"

    # A resident cannot press it; the grid worker can, and the words move with the case.
    receipt = h.server.bot_messages(RESIDENTS_CHAT)[-1]
    await h.press(ALICE, RESIDENTS_CHAT, receipt.message_id, merge)
    assert h.alerts()[-1] == "只有 HZ-2026-000003 所属单位的工作人员可以操作。"
    await h.press(ZHANG, GRID, h.server.bot_messages(GRID)[-1].message_id, merge)
    assert h.alerts()[-1] == "已将 HZ-2026-000003 合并到 HZ-2026-000002。"
    told = [t for t in h.texts(RESIDENTS_CHAT) if t.startswith("您反映的问题（HZ-2026-000003）")]
    assert len(told) == 1
    assert told[0].startswith("您反映的问题（HZ-2026-000003）与 HZ-2026-000002 是同一问题")
    assert told[0].endswith("，已派遣，宝玉直第一网格）。办理结果会通知您。")
    merged_card = next(t for t in h.texts(GRID) if t.startswith("HZ-2026-000003"))
    assert "🔁 张三 已于 11-25 09:00 合并到 HZ-2026-000002" in merged_card
    assert "+1 Alice：井盖松动很危险" in next(
        t for t in h.texts(GRID) if t.startswith("HZ-2026-000002")
    )
    # Pressing again changes nothing.
    await h.press(ZHANG, GRID, h.server.bot_messages(GRID)[-1].message_id, merge)
    assert "无法合并" in (h.alerts()[-1] or "")
    await h.say(ZHANG, GRID, "/case HZ-2026-000003")
    assert "已合并" in h.texts(GRID)[-1].split("\n")[0]
    assert h.server.duplicates() == []


async def test_a_long_letter_is_filed_whole_and_shown_one_tap_away(harness: Harness) -> None:
    h = harness
    letter = "尊敬的领导：宝玉直小区3栋门口的路灯已经坏了两个月。" + "晚上老人出门看不见路，" * 345
    assert 3800 < len(letter) <= 4096
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot " + letter)
    assert h.texts(RESIDENTS_CHAT)[-1].startswith("已受理您的呼：HZ-2026-000001")
    card = h.texts(GRID)[-1]
    assert f"（全文 {len(letter)} 字，点「全文」查看）" in card
    assert len(card) < 800
    await h.press(ZHANG, GRID, h.server.bot_messages(GRID)[-1].message_id, "c:1:full")
    assert letter in h.texts(GRID)[-1]  # whole


async def test_a_generic_word_joins_the_one_case_it_can_mean_and_asks_when_two_fit(
    harness: Harness,
) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 3栋门口的路灯不亮了")
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 3栋门口井盖松了，踩上去会晃")
    # "那盏灯" can only be the street light: the manhole case is another problem.
    await h.say(ALICE, RESIDENTS_CHAT, "@gridcall_bot 三号楼门口那盏灯坏了，晚上好黑")
    assert h.texts(RESIDENTS_CHAT)[-1].startswith("您反映的问题已在处理中：HZ-2026-000001")
    first = next(t for t in h.texts(GRID) if t.startswith("HZ-2026-000001"))
    assert "+1 Alice：三号楼门口那盏灯坏了，晚上好黑" in first
    # Now 3栋 has a stair-light case too: a bare 灯 could be either, so the worker decides.
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 3栋2单元楼道灯全坏了，楼梯摸黑")
    assert h.texts(RESIDENTS_CHAT)[-1].startswith("已受理您的呼：HZ-2026-000003")
    await h.say(LIN, RESIDENTS_CHAT, "@gridcall_bot 3栋这个灯还是不亮")
    assert h.texts(RESIDENTS_CHAT)[-1].startswith("已受理您的呼：HZ-2026-000004")
    card = h.texts(GRID)[-1]
    assert card.startswith("HZ-2026-000004") and "🔁 可能重复：HZ-2026-000003" in card
    assert h.server.duplicates() == []
