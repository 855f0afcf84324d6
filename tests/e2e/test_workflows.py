"""The staff and resident workflows beyond acknowledging: 办结 with a note, 回退 and 提级 with
a reason, a private report that asks where, and the /case timeline."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.harness import Harness

RESIDENTS_CHAT, GRID, COMMUNITY, STREET = -1002001, -1001003, -1001002, -1001001
CHEN, ZHANG, WANG, COMMUNITY_STAFF = 7001, 5001, 5002, 5003


def buttons(h: Harness, chat: int, index: int = 0) -> dict[str, str]:
    message = h.server.bot_messages(chat)[index]
    return {label: data for row in message.buttons for label, data in row}


async def report(h: Harness, text: str = "@gridcall_bot 路灯坏了三天") -> int:
    await h.say(CHEN, RESIDENTS_CHAT, text)
    return h.server.bot_messages(GRID)[-1].message_id


async def test_resolve_asks_for_a_note_and_tells_the_resident(harness: Harness) -> None:
    h = harness
    card = await report(h)
    await h.press(ZHANG, GRID, card, buttons(h, GRID)["办结"])
    assert h.alerts()[-1] == "请在群里回复机器人的提问（HZ-2026-000001）。"
    prompt = h.server.bot_messages(GRID)[-1]
    assert prompt.plain_text == (
        "张三，请回复本消息，写下 HZ-2026-000001 的办结说明（/cancel 取消）。"
    )
    assert prompt.force_reply

    await h.say(ZHANG, GRID, "已更换灯泡，恢复照明", reply_to=prompt.message_id)
    assert h.texts(GRID)[-1] == "HZ-2026-000001 已办结，已通知居民。"
    assert h.texts(RESIDENTS_CHAT)[-1] == (
        "您的呼 HZ-2026-000001 已办结（宝玉直第一网格 张三）。\n办结说明：已更换灯泡，恢复照明"
    )
    assert "☑️ 张三" in h.server.bot_messages(GRID)[0].plain_text
    assert h.server.bot_messages(GRID)[0].buttons == []

    # Resolved cases do not climb, and their buttons are dead.
    await h.advance(timedelta(days=1))
    assert COMMUNITY not in h.all_texts()
    await h.press(ZHANG, GRID, card, "c:1:ack")
    assert h.alerts()[-1] == "HZ-2026-000001 当前状态不能再操作。"

    await h.say(ZHANG, GRID, "/case HZ-2026-000001")
    timeline = h.texts(GRID)[-1]
    for line in ("受理 · 陈阿姨", "派遣 → 网格 · 系统", "办结 · 张三：已更换灯泡，恢复照明"):
        assert line in timeline


async def test_send_back_and_escalate_need_a_reason_and_move_the_case(harness: Harness) -> None:
    h = harness
    card = await report(h)
    await h.press(ZHANG, GRID, card, buttons(h, GRID)["回退"])
    prompt = h.server.bot_messages(GRID)[-1]
    await h.say(ZHANG, GRID, "", reply_to=prompt.message_id, photo="AgAD-photo")
    assert h.texts(GRID)[-1] == "说明不能为空，请回复文字（/cancel 取消）。"
    await h.say(ZHANG, GRID, "不属于本网格，是隔壁小区的路灯", reply_to=prompt.message_id)
    assert h.texts(GRID)[-1] == "HZ-2026-000001 已提级至社区：宝玉直社区（回退）。"
    [community_card] = h.texts(COMMUNITY)
    assert "回退" in community_card

    # The community escalates by hand, straight away, with a reason.
    community_msg = h.server.bot_messages(COMMUNITY)[0]
    await h.press(COMMUNITY_STAFF, COMMUNITY, community_msg.message_id, "c:1:escalate")
    ask = h.server.bot_messages(COMMUNITY)[-1]
    await h.say(COMMUNITY_STAFF, COMMUNITY, "需要街道协调供电局", reply_to=ask.message_id)
    assert h.texts(COMMUNITY)[-1] == "HZ-2026-000001 已提级至街道：海幢街道（人工提级）。"
    [street_card] = h.texts(STREET)
    assert "人工提级" in street_card

    # /cancel clears a pending question; the next message is not taken as an answer.
    street_msg = h.server.bot_messages(STREET)[0]
    h.server.state.chat_for(5004, STREET)
    await h.press(5004, STREET, street_msg.message_id, "c:1:resolve")
    await h.say(5004, STREET, "/cancel")
    assert h.texts(STREET)[-1] == "已取消。"
    await h.say(5004, STREET, "这句话不是说明")
    assert h.texts(STREET)[-1] == "已取消。"


async def test_a_private_report_asks_where_then_files(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, CHEN, "你好")
    assert "请直接描述需要反映的问题" in h.texts(CHEN)[-1]
    await h.say(CHEN, CHEN, "楼道里有人给电动车充电，很危险")
    ask = h.server.bot_messages(CHEN)[-1]
    assert "请选择问题所在的社区网格" in ask.plain_text
    choices = {label: data for row in ask.buttons for label, data in row}
    assert choices == {
        "宝玉直社区 · 宝玉直第一网格": "p:baoyuzhi-1",
        "宝玉直社区 · 宝玉直第二网格": "p:baoyuzhi-2",
    }
    await h.press(CHEN, CHEN, ask.message_id, "p:baoyuzhi-2")
    assert h.alerts()[-1] == "已受理：HZ-2026-000001"
    assert "安全生产与消防" in h.texts(CHEN)[-1]
    assert "电动车充电" in h.texts(-1001004)[0]  # the second grid's staff chat
    # The same choice pressed again does not file a second case.
    await h.press(CHEN, CHEN, ask.message_id, "p:baoyuzhi-2")
    assert h.alerts()[-1] == "这条报告已过期，请重新发送。"


async def test_a_private_report_with_a_location_is_routed_by_area(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, CHEN, "这里的井盖丢了")
    await h.say(CHEN, CHEN, None, location=(113.285, 23.115))
    assert "HZ-2026-000001" in h.texts(CHEN)[-1]
    assert "井盖丢了" in h.texts(GRID)[0]
    assert "23.11500, 113.28500" in h.texts(GRID)[0]


async def test_case_timeline_is_only_for_the_people_it_belongs_to(harness: Harness) -> None:
    h = harness
    await report(h)
    await h.say(WANG, WANG, "/case HZ-2026-000001")
    assert h.texts(WANG)[-1] == "找不到 HZ-2026-000001，或您无权查看。"
    await h.say(CHEN, CHEN, "/case HZ-2026-000001")
    assert "HZ-2026-000001" in h.texts(CHEN)[-1] and "受理" in h.texts(CHEN)[-1]
    await h.say(CHEN, CHEN, "/case nonsense")
    assert h.texts(CHEN)[-1] == "用法：/case HZ-2026-000123"
    await h.say(ZHANG, ZHANG, "/whoami")
    assert h.texts(ZHANG)[-1] == "张三（ID 5001）\n角色：网格员\n单位：宝玉直第一网格"
    await h.say(CHEN, CHEN, "/whoami")
    assert h.texts(CHEN)[-1] == "陈阿姨（ID 7001）：居民。"
    await h.say(CHEN, CHEN, "/frobnicate")
    assert h.texts(CHEN)[-1] == "不认识的命令 /frobnicate，发送 /help 查看用法。"
