"""Leaders subscribe (订阅) to escalations and get the morning digest — through the real
aiogram client and the sandbox Bot API server, on a moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from org.file import DigestConfig, OrgConfig, PersonConfig
from tests.e2e.harness import Harness

LI = 5009  # 李书记, leader: his private chat with the bot has his id
CHEN, ALICE, ZHANG = 7001, 7003, 5001
ADMIN = 5010
RESIDENTS_CHAT, LEADERSHIP, STREET = -1002001, -1001999, -1001001
NEWS_GROUP, NEWS_CHANNEL, OTHER_CHANNEL = -1003001, -1003002, -1003003
REPORT = "@gridcall_bot 小区门口的路灯坏了三天，晚上很黑，联系电话13812345678"
STORED = "小区门口的路灯坏了三天，晚上很黑，联系电话"
TWO_HOURS = timedelta(hours=2)
LINK = "https://t.me/gridcall_bot?start=case-HZ-2026-000001"


def last(h: Harness, chat: int) -> str:
    return h.texts(chat)[-1]


async def test_street_subscription_hears_the_climb_once_masked_and_links_the_timeline(
    harness: Harness,
) -> None:
    h = harness
    await h.say(LI, LI, "/subscribe 街道 海幢街道")
    assert last(h, LI) == (
        "✅ 已订阅（第 1 项）：\n"
        "层级：街道；地区：海幢街道 → 私聊\n"
        "案件升级时会发来提醒。/subscriptions 查看全部，/unsubscribe 1 取消。"
    )
    # A second subscription that also matches a street-level municipal escalation, in
    # English words; and one for traffic at the department level, which will not match.
    await h.say(LI, LI, "/subscribe street Municipal facilities")
    assert last(h, LI).startswith("✅ 已订阅（第 2 项）：\n层级：街道；类别：市政设施 → 私聊")
    await h.say(LI, LI, "/subscribe 交通出行 level=department")
    assert last(h, LI).startswith("✅ 已订阅（第 3 项）：\n层级：部门；类别：交通出行 → 私聊")
    await h.say(LI, LI, "/subscriptions")
    assert last(h, LI) == (
        "我的订阅\n"
        "1. 层级：街道；地区：海幢街道 → 私聊\n"
        "2. 层级：街道；类别：市政设施 → 私聊\n"
        "3. 层级：部门；类别：交通出行 → 私聊\n"
        "取消一项：/unsubscribe 序号"
    )
    before = len(h.texts(LI))

    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    await h.advance(TWO_HOURS)  # grid → community: nobody subscribed to that
    assert len(h.texts(LI)) == before
    await h.advance(TWO_HOURS)  # community → street: two subscriptions, one message
    assert h.texts(LI)[before:] == [
        "🔔 超时未签收，自动提级\n"
        "HZ-2026-000001 · 市政设施 · 一般\n"
        "已到：街道 · 海幢街道\n"
        "📍 宝玉直第一网格\n"
        f"{STORED}[电话已隐藏]\n"
        "查看办理记录"
    ]
    alert = h.server.bot_messages(LI)[-1]
    assert f'href="{LINK}"' in alert.text
    assert "陈阿姨" not in alert.plain_text and "13812345678" not in alert.plain_text
    # The street's own chat got the card, and nothing else of the subscriptions.
    assert [t for t in h.texts(STREET) if "HZ-2026-000001" in t][-1].startswith("⬆️")
    await h.advance(TWO_HOURS)  # street → 供电局 (municipal): the traffic one does not match
    await h.advance(TWO_HOURS)  # → leadership
    await h.advance(TWO_HOURS * 4)
    assert len(h.texts(LI)) == before + 1

    # The link opens the timeline (the same rules as /case): the leader may see it…
    await h.say(LI, LI, "/start case-HZ-2026-000001")
    timeline = last(h, LI)
    assert timeline.startswith("HZ-2026-000001 · 市政设施 · 已派遣")
    assert "提级 → 街道" in timeline
    # …a resident who did not report it may not.
    await h.say(ALICE, ALICE, "/start case-HZ-2026-000001")
    assert "HZ-2026-000001" in last(h, ALICE) and "提级" not in last(h, ALICE)


async def test_manual_escalation_and_unsubscribe(harness: Harness) -> None:
    h = harness
    await h.say(LI, LI, "/subscribe 领导 社区")  # shown in the ladder's order
    await h.say(LI, LI, "/subscribe 宝玉直社区 urgent")
    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    before = len(h.texts(LI))
    # 提级 by the grid worker, with a reason: the community level is reached now.
    card = h.server.bot_messages(-1001003)[-1]
    await h.press(ZHANG, -1001003, card.message_id, "c:1:escalate")
    await h.say(
        ZHANG, -1001003, "需要社区协调", reply_to=h.server.bot_messages(-1001003)[-1].message_id
    )
    assert h.texts(LI)[before:] == [
        "🔔 人工提级\n"
        "HZ-2026-000001 · 市政设施 · 一般\n"
        "已到：社区 · 宝玉直社区\n"
        "📍 宝玉直第一网格\n"
        f"{STORED}[电话已隐藏]\n"
        "查看办理记录"
    ]
    await h.say(LI, LI, "/unsubscribe 1")
    assert last(h, LI) == "已取消第 1 项订阅：\n层级：社区、领导 → 私聊"
    await h.say(LI, LI, "/subscriptions")
    assert last(h, LI) == (
        "我的订阅\n1. 地区：宝玉直社区；优先级：紧急 → 私聊\n取消一项：/unsubscribe 序号"
    )


async def test_bad_input_is_refused_and_saves_nothing(harness: Harness) -> None:
    h = harness
    usage = (
        "可用的条件：层级（网格 社区 街道 部门 领导）、街道或社区（名称或编号）、"
        "类别（如 交通出行）、优先级（紧急 一般 较低）。例如：/subscribe 街道 海幢街道 紧急"
    )
    await h.say(LI, LI, "/subscribe 街道 海珠街道")
    assert last(h, LI) == f"没有保存：不认识「海珠街道」。你是不是想说「海幢街道」？\n{usage}"
    await h.say(LI, LI, "/subscribe category=交通")
    assert last(h, LI) == (f"没有保存：不认识「交通」这个类别。你是不是想说「交通出行」？\n{usage}")
    await h.say(LI, LI, "/subscribe 宝玉直第一网格")
    assert last(h, LI) == (
        "没有保存：「宝玉直第一网格」是网格，订阅只能按街道或社区，例如它所属的「宝玉直社区」。"
    )
    await h.say(LI, LI, "/subscribe 交警大队")
    assert last(h, LI) == (
        "没有保存：「交警大队」是职能部门，不能按部门订阅；请按它负责的类别订阅：「交通出行」。"
        "也可以订阅「部门」层级：/subscribe 部门"
    )
    await h.say(LI, LI, "/subscribe colour=red")
    assert last(h, LI).startswith("没有保存：「colour=red」中的「colour」不是可用的条件名。")
    await h.say(LI, LI, "/subscribe to=abc 街道")
    assert last(h, LI) == "没有保存：「to=abc」里应当是群或频道的编号，例如 to=-1001234567890。"
    await h.say(LI, LI, f"/subscribe to={RESIDENTS_CHAT}")
    assert last(h, LI) == f"没有保存：{RESIDENTS_CHAT} 是居民群，升级提醒不能发到居民群。"
    await h.say(CHEN, CHEN, "/subscribe 街道")
    assert last(h, CHEN) == (
        "只有领导或管理员可以订阅升级提醒。如果你应当有此权限，请联系管理员在组织配置中为你添加 "
        "leader 角色。"
    )
    await h.say(LI, LI, "/unsubscribe 99")
    assert last(h, LI) == "没有第 99 项订阅：你还没有订阅。"
    await h.say(LI, LI, "/unsubscribe abc")
    assert last(h, LI) == "「abc」不是序号。用法：/unsubscribe 序号（你还没有订阅）。"
    # 李书记 is a member of the leadership group, not one of its administrators.
    await h.say(LI, LEADERSHIP, "/subscribe 街道")
    assert last(h, LEADERSHIP) == "没有保存：只有本群的管理员可以把升级提醒订阅到这里。"
    await h.say(LI, LI, "/subscriptions")
    assert last(h, LI) == "你还没有订阅。例如：/subscribe 街道 海幢街道"

    # One saved now; the same again is not saved twice; a bad number names the count.
    await h.say(LI, LI, "/subscribe 海幢街道 街道")
    await h.say(LI, LI, "/subscribe 街道 haizhuang")
    assert last(h, LI) == (
        "已有相同的订阅（第 1 项），没有重复保存：\n层级：街道；地区：海幢街道 → 私聊"
    )
    await h.say(LI, LI, "/unsubscribe 2")
    assert last(h, LI) == "没有第 2 项订阅：你有 1 项订阅，/subscriptions 查看序号。"


async def test_groups_and_channels_need_their_administrator(harness: Harness) -> None:
    h = harness
    h.server.add_chat(NEWS_GROUP, "海幢要闻群", "supergroup", members=[ZHANG], admins=[LI])
    h.server.add_chat(NEWS_CHANNEL, "海幢频道", "channel", admins=[LI])
    h.server.add_chat(OTHER_CHANNEL, "别人的频道", "channel", admins=[ZHANG])

    await h.say(ZHANG, NEWS_GROUP, "/subscribe 街道")  # a grid worker: no role
    assert last(h, NEWS_GROUP).startswith("只有领导或管理员可以订阅升级提醒。")
    await h.say(LI, NEWS_GROUP, "/subscribe 街道")
    assert last(h, NEWS_GROUP).startswith(
        f"✅ 已订阅（第 1 项）：\n层级：街道 → 群/频道 {NEWS_GROUP}"
    )
    await h.say(LI, LI, f"/subscribe to={NEWS_CHANNEL} 领导")
    assert last(h, LI).startswith(f"✅ 已订阅（第 2 项）：\n层级：领导 → 群/频道 {NEWS_CHANNEL}")
    await h.say(LI, LI, f"/subscribe to={OTHER_CHANNEL} 领导")
    assert last(h, LI) == (
        f"没有保存：无法确认你是 {OTHER_CHANNEL} 的管理员。请先把我加入该群或频道，"
        "并确认你是它的管理员。"
    )
    await h.say(LI, NEWS_GROUP, f"/subscribe to={NEWS_CHANNEL}")
    assert last(h, NEWS_GROUP) == (
        "没有保存：「to=」只能在与我的私聊中使用。在群里发送 /subscribe 时，提醒就发到这个群。"
    )
    # A post in a channel has no author to check: the bot says how to do it.
    await h.say(LI, NEWS_CHANNEL, "/subscribe 街道")
    assert last(h, NEWS_CHANNEL) == (
        "在频道里我无法确认是谁发的命令。请频道管理员私聊 @gridcall_bot，发送：\n"
        f"/subscribe to={NEWS_CHANNEL} 条件…\n"
        f"（例如 /subscribe to={NEWS_CHANNEL} 街道 海幢街道）"
    )

    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    for _ in range(2):  # → community → street: the group hears of it
        await h.advance(TWO_HOURS)
    assert last(h, NEWS_GROUP).startswith("🔔 超时未签收，自动提级\nHZ-2026-000001")
    assert h.texts(NEWS_CHANNEL)[-1].startswith("在频道里")
    for _ in range(2):  # → 供电局 → leadership: the channel hears of it
        await h.advance(TWO_HOURS)
    assert last(h, NEWS_CHANNEL).startswith("🔔 超时未签收，自动提级\nHZ-2026-000001")
    assert "已到：领导" in last(h, NEWS_CHANNEL)
    assert len([t for t in h.texts(NEWS_GROUP) if t.startswith("🔔")]) == 1


@pytest.fixture
async def admin_harness(database_url: str, org_config: OrgConfig) -> AsyncIterator[Harness]:
    admin = PersonConfig(name="区管理员", telegram=ADMIN, roles=["admin"])
    org = org_config.model_copy(update={"people": [*org_config.people, admin]})
    async with Harness(org, database_url) as h:
        yield h


async def test_a_chat_the_bot_was_removed_from_loses_its_subscriptions_once(
    admin_harness: Harness,
) -> None:
    """A channel that kicked the bot would fail at every climb and page the admins each
    time: its subscriptions are switched off at the first failure, the owner is told how to
    subscribe again, the admins hear of it once, and the leader's other subscription stays."""
    h = admin_harness
    h.server.add_chat(NEWS_CHANNEL, "海幢频道", "channel", admins=[LI])
    await h.say(LI, LI, f"/subscribe to={NEWS_CHANNEL} 社区")
    await h.say(LI, LI, f"/subscribe to={NEWS_CHANNEL} 街道")
    await h.say(LI, LI, "/subscribe 街道 海幢街道")
    h.server.kick_bot(NEWS_CHANNEL)
    seen = len(h.texts(LI))

    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    await h.advance(TWO_HOURS)  # → community: the channel's alert fails with 403
    kicked = "Telegram server says - Forbidden: bot is not a member of the channel chat"
    assert h.texts(LI)[seen:] == [
        f"⚠️ 无法再向 {NEWS_CHANNEL} 发送升级提醒（{kicked}），以下订阅已停用：\n"
        f"• 层级：社区 → 群/频道 {NEWS_CHANNEL}\n"
        f"• 层级：街道 → 群/频道 {NEWS_CHANNEL}\n"
        f"请把我重新加入该群或频道，然后再次订阅，例如：/subscribe to={NEWS_CHANNEL} 街道"
    ]
    assert h.texts(ADMIN) == [
        f"⚠️ 消息无法送达「{NEWS_CHANNEL}」（{NEWS_CHANNEL}）。\n"
        f"原因：{kicked}\n"
        "发往该会话的 2 项订阅已停用，订阅人已收到通知；等待发往该会话的其他提醒已取消。\n"
        "请检查机器人是否仍在该群中。"
    ]

    await h.advance(TWO_HOURS)  # → street: the private subscription hears it; nothing more
    assert [t.split("\n")[0] for t in h.texts(LI)[seen + 1 :]] == ["🔔 超时未签收，自动提级"]
    assert "已到：街道" in last(h, LI)
    assert len(h.texts(ADMIN)) == 1
    await h.say(LI, LI, "/subscriptions")
    assert last(h, LI) == (
        "我的订阅\n1. 层级：街道；地区：海幢街道 → 私聊\n取消一项：/unsubscribe 序号"
    )
    assert h.texts(NEWS_CHANNEL) == []


@pytest.fixture
async def limited(database_url: str, org_config: OrgConfig) -> AsyncIterator[Harness]:
    """Telegram's limits paced by the app and enforced by the sandbox (a 429 for each
    excess); duplicate merging made strict so that similar reports stay separate cases."""
    policy = org_config.policy
    strict = policy.model_copy(
        update={"duplicates": policy.duplicates.model_copy(update={"similarity": 1.0})}
    )
    async with Harness(
        org_config.model_copy(update={"policy": strict}), database_url, limits=True
    ) as h:
        yield h


async def test_a_flood_of_climbs_reaches_a_leader_as_one_bundle(limited: Harness) -> None:
    """Eight cases miss their deadline at the same instant. One message each would keep the
    leader's chat busy at Telegram's pace; instead the first alert goes out at once and the
    other seven as one message, each line linking its case's timeline."""
    h = limited
    await h.say(LI, LI, "/subscribe 社区")
    problems = (
        "门口的路灯坏了三天",
        "井盖松动",
        "下水道堵了",
        "垃圾没人清",
        "树枝压到电线",
        "路面塌陷",
    )
    problems += ("消防通道堵了", "电梯坏了")
    for n, problem in enumerate(problems, start=1):
        await h.say(CHEN, RESIDENTS_CHAT, f"@gridcall_bot {n}号楼{problem}")
    seen = len(h.texts(LI))
    await h.advance(TWO_HOURS)  # all eight climb to the community at once
    for _ in range(3):
        await h.advance(timedelta(seconds=1))
    alerts = h.server.bot_messages(LI)[seen:]
    assert len(alerts) == 2, [m.plain_text for m in alerts]
    assert alerts[0].plain_text.startswith("🔔 超时未签收，自动提级\nHZ-2026-000001")
    bundle = alerts[1]
    # 树枝压到电线 is a hazard to the classifier (safety); the bundle shows what it decided.
    categories = ("市政设施", "市政设施", "城市管理", "安全生产与消防", "市政设施")
    categories += ("安全生产与消防",)
    categories += ("房屋物业",)
    numbers = [f"HZ-2026-{n:06d}" for n in range(2, 9)]
    assert bundle.plain_text == "\n".join(
        [
            "🔔 7 条升级提醒（短时间内集中到达，合并为一条；点案件编号查看办理记录）",
            "",
            *(
                f"🔔 {number} · {category} · 超时未签收，自动提级 → 社区 · 宝玉直社区"
                for number, category in zip(numbers, categories, strict=True)
            ),
        ]
    )
    for number in numbers:
        assert (
            f'<a href="https://t.me/gridcall_bot?start=case-{number}">{number}</a>' in bundle.text
        )
    assert bundle.buttons == []
    assert h.server.flood_rejections == 0


@pytest.fixture
async def digest_harness(database_url: str, org_config: OrgConfig) -> AsyncIterator[Harness]:
    # The fake clock starts at 09:00 in Shanghai; the digest is at 10:00.
    org = org_config.model_copy(
        update={"digest": DigestConfig(at="10:00", stuck_after=timedelta(days=1))}
    )
    async with Harness(org, database_url) as h:
        yield h


async def hours(h: Harness, n: int) -> None:
    """Let `n` hours pass an hour at a time, so every deadline fires at its own time."""
    for _ in range(n):
        await h.advance(timedelta(hours=1))


def digests(h: Harness, chat: int) -> list[str]:
    return [t for t in h.texts(chat) if t.startswith("🌅")]


async def test_morning_digest_once_a_day_new_overdue_stuck(digest_harness: Harness) -> None:
    h = digest_harness
    h.server.add_chat(NEWS_GROUP, "海幢要闻群", "supergroup", members=[], admins=[LI])
    await h.say(LI, LI, "/subscribe 海幢街道")
    await h.say(LI, NEWS_GROUP, "/subscribe 交通出行")
    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    await h.advance(timedelta(minutes=59))
    assert digests(h, LI) == []

    await h.advance(timedelta(minutes=1))  # 10:00
    line = "HZ-2026-000001 市政设施 · 一般 · 网格 宝玉直第一网格 · 已派遣："
    assert digests(h, LI) == [
        "🌅 早报 2026-11-25\n"
        "新呼 1 · 超期 0 · 停滞 0\n\n"
        "🆕 新呼（近 24 小时）\n"
        f"• {line}{STORED}[电话已隐藏]"
    ]
    assert f'href="{LINK}"' in h.server.bot_messages(LI)[-1].text
    # Nothing in the group's scope: it still hears that all is quiet.
    assert digests(h, NEWS_GROUP) == ["🌅 早报 2026-11-25\n订阅范围内没有新呼、超期或停滞的案件。"]

    await h.advance(timedelta(minutes=30))
    await h.restart()  # later the same day: not again
    await h.advance(timedelta(minutes=30))
    assert len(digests(h, LI)) == 1 and len(digests(h, NEWS_GROUP)) == 1

    # The case reached the leadership at 17:00 and its clock stopped at 19:00 (nobody left
    # to call): overdue the next morning…
    await hours(h, 23)  # 10:00 the next day
    assert len(digests(h, LI)) == 2
    assert digests(h, LI)[-1] == (
        "🌅 早报 2026-11-26\n"
        "新呼 0 · 超期 1 · 停滞 0\n\n"
        "⏰ 超期\n"
        "• HZ-2026-000001 市政设施 · 一般 · 领导 · 已派遣 · 📍宝玉直第一网格："
        f"{STORED}[电话已隐藏]"
    )
    # …and stuck the day after: nothing has happened to it for more than a day.
    await hours(h, 24)
    assert digests(h, LI)[-1].startswith("🌅 早报 2026-11-27\n新呼 0 · 超期 1 · 停滞 1\n")
    assert "⏸ 停滞（24 小时无进展）\n• HZ-2026-000001" in digests(h, LI)[-1]
    assert len(digests(h, NEWS_GROUP)) == 3
