"""回访: the resident judges the result. 不满意 reopens the case one level higher; 满意 closes
it; silence closes it after the policy's window. Each message is checked."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.harness import Harness

RESIDENTS_CHAT, GRID, COMMUNITY = -1002001, -1001003, -1001002
CHEN, LIN, ZHANG, COMMUNITY_STAFF = 7001, 7002, 5001, 5003


def buttons_of(h: Harness, chat: int, index: int = -1) -> dict[str, str]:
    message = h.server.bot_messages(chat)[index]
    return {label: data for row in message.buttons for label, data in row}


async def resolve(h: Harness, user: int, chat: int, card_id: int, note: str) -> None:
    await h.press(user, chat, card_id, "c:1:resolve")
    prompt = h.server.bot_messages(chat)[-1]
    await h.say(user, chat, note, reply_to=prompt.message_id)


async def test_full_loop_unsatisfied_reopens_then_satisfied_closes(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    grid_card = h.server.bot_messages(GRID)[0]
    await resolve(h, ZHANG, GRID, grid_card.message_id, "已更换灯泡")
    resolved = h.server.bot_messages(RESIDENTS_CHAT)[-1]
    assert resolved.plain_text.startswith("您的呼 HZ-2026-000001 已办结")
    judge = buttons_of(h, RESIDENTS_CHAT)
    assert list(judge) == ["满意", "基本满意", "不满意"]

    # Another resident cannot judge someone else's case.
    await h.press(LIN, RESIDENTS_CHAT, resolved.message_id, judge["不满意"])
    assert h.alerts()[-1] == "只有反映 HZ-2026-000001 的居民可以评价。"

    await h.press(CHEN, RESIDENTS_CHAT, resolved.message_id, judge["不满意"])
    assert h.alerts()[-1] == "谢谢您的评价：不满意"
    assert h.texts(RESIDENTS_CHAT)[-2:] == [
        "您的呼 HZ-2026-000001 已返工，交由宝玉直社区重新办理。",
        "陈阿姨，可以说说 HZ-2026-000001 哪里还不满意吗？直接回复本消息即可，"
        "我们会转告办理人员（可不填，/cancel 跳过）。",
    ]
    [reopened] = h.texts(COMMUNITY)
    assert "居民不满意，返工" in reopened
    # The reason (optional) goes to the community now handling it, without her name.
    ask = h.server.bot_messages(RESIDENTS_CHAT)[-1]
    await h.say(CHEN, RESIDENTS_CHAT, "晚上还是不亮<b>", reply_to=ask.message_id)
    assert h.texts(COMMUNITY)[-1] == "居民对 HZ-2026-000001 不满意的原因：\n晚上还是不亮<b>"
    assert h.texts(RESIDENTS_CHAT)[-1] == (
        "谢谢，已把您的意见转告宝玉直社区，HZ-2026-000001 正在重新办理。"
    )
    # A second press on the old buttons changes nothing.
    await h.press(CHEN, RESIDENTS_CHAT, resolved.message_id, judge["满意"])
    assert h.alerts()[-1] == "HZ-2026-000001 已经评价过了，谢谢。"

    community_card = h.server.bot_messages(COMMUNITY)[0]
    assert len(h.texts(COMMUNITY)) == 2
    await resolve(h, COMMUNITY_STAFF, COMMUNITY, community_card.message_id, "已联系供电所修复")
    again = h.server.bot_messages(RESIDENTS_CHAT)[-1]
    await h.press(CHEN, RESIDENTS_CHAT, again.message_id, buttons_of(h, RESIDENTS_CHAT)["满意"])
    assert h.texts(COMMUNITY)[-1] == "居民评价 HZ-2026-000001：满意，已结案。"

    await h.say(CHEN, CHEN, "/case HZ-2026-000001")
    timeline = h.texts(CHEN)[-1]
    assert "已结案" in timeline.split("\n")[0]
    steps = ("办结 · 张三", "返工 → 社区 · 陈阿姨", "不满意原因 · 陈阿姨：晚上还是不亮<b>")
    for step in (*steps, "办结 · 陈社区", "结案 · 陈阿姨"):
        assert step in timeline
    assert h.server.duplicates() == []
    # Every message of the loop, chat by chat, and nothing else.
    assert h.all_texts() == {
        GRID: [
            "HZ-2026-000001 · 市政设施 · 一般\n网格：宝玉直第一网格\n📍 宝玉直第一网格\n"
            "小区门口的路灯坏了三天\n报告人：陈阿姨\n⏰ 请在 11-28 09:00 前办结\n"
            "张三 ☑️ 张三 已于 11-25 09:00 办结",
            "张三，请回复本消息，写下 HZ-2026-000001 的办结说明（/cancel 取消）。",
            "HZ-2026-000001 已办结，已通知居民。",
        ],
        RESIDENTS_CHAT: [
            "已受理您的呼：HZ-2026-000001\n类别：市政设施\n承办：宝玉直第一网格\n"
            "承诺签收时间：11-25 11:00 前\n发送 /case HZ-2026-000001 可查看办理进度。",
            "您的呼 HZ-2026-000001 已办结（宝玉直第一网格 张三）。\n办结说明：已更换灯泡",
            "您的呼 HZ-2026-000001 已返工，交由宝玉直社区重新办理。",
            "陈阿姨，可以说说 HZ-2026-000001 哪里还不满意吗？直接回复本消息即可，"
            "我们会转告办理人员（可不填，/cancel 跳过）。",
            "谢谢，已把您的意见转告宝玉直社区，HZ-2026-000001 正在重新办理。",
            "您的呼 HZ-2026-000001 已办结（宝玉直社区 陈社区）。\n办结说明：已联系供电所修复",
        ],
        COMMUNITY: [
            "HZ-2026-000001 · 市政设施 · 一般\n社区：宝玉直社区\n📍 宝玉直第一网格\n"
            "小区门口的路灯坏了三天\n⏰ 请在 11-28 09:00 前办结\n"
            "陈社区 ☑️ 陈社区 已于 11-25 09:00 办结",
            "居民对 HZ-2026-000001 不满意的原因：\n晚上还是不亮<b>",
            "陈社区，请回复本消息，写下 HZ-2026-000001 的办结说明（/cancel 取消）。",
            "HZ-2026-000001 已办结，已通知居民。",
            "居民评价 HZ-2026-000001：满意，已结案。",
        ],
        CHEN: [timeline],
    }


async def test_a_group_message_that_does_not_answer_the_question_is_a_new_report(
    harness: Harness,
) -> None:
    """The reason is optional: words in the group that do not reply to the question are
    handled as usual (here a new report), and the question stays open."""
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    await resolve(h, ZHANG, GRID, h.server.bot_messages(GRID)[0].message_id, "已修好")
    resolved = h.server.bot_messages(RESIDENTS_CHAT)[-1]
    await h.press(
        CHEN, RESIDENTS_CHAT, resolved.message_id, buttons_of(h, RESIDENTS_CHAT)["不满意"]
    )
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 三栋楼道的消防通道被电动车堵住了")
    assert h.texts(RESIDENTS_CHAT)[-1].startswith("已受理您的呼：HZ-2026-000002")
    ask = h.server.bot_messages(RESIDENTS_CHAT)[-2]
    await h.say(CHEN, RESIDENTS_CHAT, "x" * 1001, reply_to=ask.message_id)
    assert h.texts(RESIDENTS_CHAT)[-1] == "说明太长了（1001 字），请精简到 1000 字以内。"
    assert "不满意的原因" not in "".join(h.texts(COMMUNITY))


async def test_silence_closes_the_case_after_the_window(harness: Harness) -> None:
    h = harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 小区门口的路灯坏了三天")
    await resolve(h, ZHANG, GRID, h.server.bot_messages(GRID)[0].message_id, "已修好")
    sent = len(h.server.bot_messages())
    await h.advance(timedelta(days=3))
    assert len(h.server.bot_messages()) == sent  # closing quietly sends nothing
    await h.say(CHEN, CHEN, "/mine")
    assert h.texts(CHEN)[-1].split("\n")[1].startswith("HZ-2026-000001 · 市政设施 · 已结案")


async def test_mine_with_no_cases(harness: Harness) -> None:
    await harness.say(LIN, LIN, "/mine")
    assert harness.texts(LIN)[-1] == "您还没有反映过问题。直接描述问题即可报告。"
