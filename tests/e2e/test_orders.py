"""Orders (令) end to end: a leader orders the three grids of a street; two press 收到 (one
also 完成), the third never does and is chased up its ladder to the leadership; the issuer
hears the overdue units once — through the real aiogram client and the sandbox server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from org.file import OrdersConfig, OrgConfig, load_org
from storage.models import Order, OrderEvent, OrderTarget
from tests.conftest import REDIS_URL
from tests.e2e.harness import Harness

DEMO_ORG = Path(__file__).parents[2] / "bot" / "demo_org.yaml"
LI = 5009  # 李书记, leader; his private chat with the bot has his id
ZHANG, WANG, CHEN_COMMUNITY, HUANG = 5001, 5002, 5003, 5004
CHEN_RESIDENT = 7001
GRID1, GRID2, TONGQING_GRID = -1001003, -1001004, -1001006
TONGQING, STREET, LEADERSHIP = -1001005, -1001001, -1001999
RESIDENTS_1 = -1002001
NUMBER = "HZ-L-2026-0001"
TEXT = "今晚八点前清理楼道和消防通道杂物"


@pytest.fixture(scope="module")
def demo_org() -> OrgConfig:
    """The demo org with the default hour to press 收到 (the demo itself chases faster)."""
    org = load_org(DEMO_ORG)
    return org.model_copy(update={"orders": OrdersConfig(ack=timedelta(hours=1))})


@pytest.fixture
async def h(database_url: str, demo_org: OrgConfig) -> AsyncIterator[Harness]:
    async with Harness(demo_org, database_url) as harness:
        yield harness


def card(unit: str, tail: str) -> str:
    """The order as a target's chat shows it (the clock starts at 11-25 09:00 local)."""
    return f"📢 令 {NUMBER}\n下达：李书记\n对象：{unit}\n截止：11-26 09:00\n\n{TEXT}\n\n{tail}"


def data(h: Harness, chat: int, index: int = 0) -> dict[str, str]:
    message = h.server.bot_messages(chat)[index]
    return {label: value for row in message.buttons for label, value in row}


def climbed(unit: str, due: str) -> str:
    return (
        f"⬆️ 令 {NUMBER} 超时未收到：同庆第一网格\n下达：李书记 · 截止：11-26 09:00\n\n{TEXT}\n\n"
        f"⏰ 请{unit}督促落实，在 {due} 前代为点「收到」"
    )


def reminder(unit: str, due: str) -> str:
    return f"⏰ 催办：令 {NUMBER}（同庆第一网格）将于 {due} 到期，请{unit}尽快点「收到」。"


async def counts(h: Harness) -> tuple[int, int, int]:
    assert h.app is not None
    async with h.app.sessions() as session:
        found = []
        for model in (Order, OrderTarget, OrderEvent):
            total = await session.execute(select(func.count()).select_from(model))
            found.append(int(total.scalar_one()))
    return found[0], found[1], found[2]


async def test_an_order_to_three_grids_of_which_one_never_acknowledges(h: Harness) -> None:
    await h.say(LI, LI, f"/order 海幢街道全部网格 1d {TEXT}")
    issued = (
        f"📢 令 {NUMBER} 已下达，截止 11-26 09:00。\n"
        "对象（3）：宝玉直第一网格、宝玉直第二网格、同庆第一网格\n发送 /orders 查看进度。"
    )
    ack_by_10 = "⏰ 请在 11-25 10:00 前点「收到」"
    assert h.all_texts() == {
        LI: [issued],
        GRID1: [card("宝玉直第一网格", f"{ack_by_10}\n张三")],
        GRID2: [card("宝玉直第二网格", f"{ack_by_10}\n王五")],
        TONGQING_GRID: [card("同庆第一网格", ack_by_10)],
    }
    assert data(h, GRID1) == {"收到": "o:1:ack"}

    # 张三 and 王五 press 收到 in their grids' chats: the card says who and when, and offers 完成.
    await h.advance(timedelta(minutes=10))
    await h.press(ZHANG, GRID1, h.server.bot_messages(GRID1)[0].message_id, "o:1:ack")
    assert h.alerts() == ["已收到：令 HZ-L-2026-0001"]
    assert h.texts(GRID1) == [
        card("宝玉直第一网格", "🟢 张三 已于 11-25 09:10 收到，办完请点「完成」")
    ]
    assert data(h, GRID1) == {"完成": "o:1:done"}
    await h.advance(timedelta(minutes=10))
    await h.press(WANG, GRID2, h.server.bot_messages(GRID2)[0].message_id, "o:2:ack")
    assert h.alerts()[-1] == "已收到：令 HZ-L-2026-0001"
    # A second press of a stale 收到 changes nothing.
    await h.press(WANG, GRID2, h.server.bot_messages(GRID2)[0].message_id, "o:2:ack")
    assert h.alerts()[-1] == "令 HZ-L-2026-0001 已由 王五 收到。"
    assert h.texts(GRID2) == [
        card("宝玉直第二网格", "🟢 王五 已于 11-25 09:20 收到，办完请点「完成」")
    ]

    # 催办 at half the hour, to the silent grid only; at the hour it climbs to its community.
    await h.advance(timedelta(minutes=10) - timedelta(seconds=1))
    assert len(h.texts(TONGQING_GRID)) == 1, "reminded early"
    await h.advance(timedelta(seconds=1))
    assert h.texts(TONGQING_GRID)[1:] == [reminder("同庆第一网格", "11-25 10:00")]
    await h.advance(timedelta(minutes=30) - timedelta(seconds=1))
    assert TONGQING not in h.all_texts(), "climbed early"
    await h.advance(timedelta(seconds=1))
    assert h.texts(TONGQING) == [climbed("同庆社区", "11-25 11:00")]
    assert data(h, TONGQING, 0) == {"收到": "o:3:ack"}  # acting for the grid

    # A restart loses no deadline: the index is rebuilt from the order targets.
    await h.restart()
    await h.advance(timedelta(minutes=30))
    assert h.texts(TONGQING)[1:] == [reminder("同庆社区", "11-25 11:00")]
    await h.advance(timedelta(minutes=30))
    assert h.texts(STREET) == [climbed("海幢街道", "11-25 12:00")]
    await h.advance(timedelta(minutes=30))
    assert h.texts(STREET)[1:] == [reminder("海幢街道", "11-25 12:00")]
    await h.advance(timedelta(minutes=30))
    assert h.texts(LEADERSHIP) == [climbed("领导", "11-25 13:00")]
    await h.advance(timedelta(minutes=30))
    assert h.texts(LEADERSHIP)[1:] == [reminder("领导", "11-25 13:00")]
    await h.advance(timedelta(minutes=30))  # the top of the ladder: the chase stops, silently
    assert len(h.texts(LEADERSHIP)) == 2

    # 张三 is done: his card says so and the issuer hears it.
    await h.press(ZHANG, GRID1, h.server.bot_messages(GRID1)[0].message_id, "o:1:done")
    assert h.alerts()[-1] == "已完成：令 HZ-L-2026-0001"
    assert h.texts(GRID1) == [card("宝玉直第一网格", "✅ 张三 已于 11-25 13:00 完成")]
    assert data(h, GRID1) == {}
    done = f"✅ 宝玉直第一网格 已完成 令 {NUMBER}（张三，11-25 13:00）。"
    assert h.texts(LI) == [issued, done]

    # The board: the leader sees every unit; a grid worker only his own, a community its grids.
    await h.say(LI, LI, "/orders")
    board = (
        "📋 进行中的令（1）\n\n"
        f"{NUMBER} · 截止 11-26 09:00\n{TEXT}\n"
        "✅ 宝玉直第一网格 完成（张三 11-25 13:00）\n"
        "🟢 宝玉直第二网格 已收到（王五 11-25 09:20）\n"
        "⏳ 同庆第一网格 未收到 · 已催至领导"
    )
    assert h.texts(LI) == [issued, done, board]
    await h.say(WANG, WANG, "/orders")
    assert h.texts(WANG) == [
        f"📋 进行中的令（1）\n\n{NUMBER} · 截止 11-26 09:00\n{TEXT}\n"
        "🟢 宝玉直第二网格 已收到（王五 11-25 09:20）"
    ]
    await h.say(CHEN_COMMUNITY, CHEN_COMMUNITY, "/orders")
    assert h.texts(CHEN_COMMUNITY) == [
        f"📋 进行中的令（1）\n\n{NUMBER} · 截止 11-26 09:00\n{TEXT}\n"
        "✅ 宝玉直第一网格 完成（张三 11-25 13:00）\n"
        "🟢 宝玉直第二网格 已收到（王五 11-25 09:20）"
    ]

    # The due time passes: ONE message to the issuer naming the units not done.
    await h.advance(timedelta(hours=20) - timedelta(seconds=1))
    assert len(h.texts(LI)) == 3, "overdue early"
    await h.advance(timedelta(seconds=1))
    overdue = (
        f"❌ 令 {NUMBER} 已逾期（截止 11-26 09:00），2 个单位未完成：\n"
        "· 宝玉直第二网格：已收到，未完成\n· 同庆第一网格：未收到"
    )
    assert h.texts(LI) == [issued, done, board, overdue]
    await h.advance(timedelta(days=3))
    await h.say(LI, LI, "/orders")
    assert h.texts(LI)[-1] == (
        "📋 进行中的令（1）\n\n"
        f"{NUMBER} · 截止 11-26 09:00\n{TEXT}\n"
        "✅ 宝玉直第一网格 完成（张三 11-25 13:00）\n"
        "❌ 宝玉直第二网格 逾期（已收到）\n"
        "❌ 同庆第一网格 逾期（未收到）"
    )

    # Every chat, whole: nothing else was said anywhere.
    assert h.all_texts() == {
        LI: [issued, done, board, overdue, h.texts(LI)[-1]],
        WANG: h.texts(WANG),
        CHEN_COMMUNITY: h.texts(CHEN_COMMUNITY),
        GRID1: [card("宝玉直第一网格", "✅ 张三 已于 11-25 13:00 完成")],
        GRID2: [card("宝玉直第二网格", "🟢 王五 已于 11-25 09:20 收到，办完请点「完成」")],
        TONGQING_GRID: [
            card("同庆第一网格", ack_by_10),
            reminder("同庆第一网格", "11-25 10:00"),
        ],
        TONGQING: [climbed("同庆社区", "11-25 11:00"), reminder("同庆社区", "11-25 11:00")],
        STREET: [climbed("海幢街道", "11-25 12:00"), reminder("海幢街道", "11-25 12:00")],
        LEADERSHIP: [climbed("领导", "11-25 13:00"), reminder("领导", "11-25 13:00")],
    }
    assert h.server.duplicates() == []
    assert h.alerts() == [
        "已收到：令 HZ-L-2026-0001",
        "已收到：令 HZ-L-2026-0001",
        "令 HZ-L-2026-0001 已由 王五 收到。",
        "已完成：令 HZ-L-2026-0001",
    ]
    assert (await counts(h))[:2] == (1, 3)


BAD_ORDERS = [
    ("/order", None),  # the usage, checked below
    (
        "/order 宝玉直第三网格 2h 清理杂物",
        "找不到单位「宝玉直第三网格」。您是不是要找「宝玉直第二网格」？",
    ),
    ("/order haizhuang/grids,nowhere 2h 清理杂物", "找不到单位「nowhere」。"),
    ("/order 海淀街道全部网格 2h 清理杂物", "找不到单位「海淀街道」。您是不是要找「海幢街道」？"),
    (
        "/order traffic/grids 2h 清理杂物",
        "「traffic/grids」下没有网格，令没有下达。请写出单位，例如 宝玉直第一网格,宝玉直第二网格。",
    ),
    (
        "/order ,， 2h 清理杂物",
        "没有写下达对象，令没有下达。请写出单位，例如 宝玉直第一网格,宝玉直第二网格。",
    ),
    (
        "/order baoyuzhi-1",
        "缺少截止时间：请写 2h、3d 这样的时长（最长一年），或 12-01 18:00、2026-12-01 18:00。",
    ),
    (
        "/order baoyuzhi-1 soon 清理杂物",
        "看不懂截止时间「soon」：请写 2h、3d 这样的时长（最长一年），或 12-01 18:00、"
        "2026-12-01 18:00。",
    ),
    (
        "/order baoyuzhi-1 90 清理杂物",
        "看不懂截止时间「90」：请写 2h、3d 这样的时长（最长一年），或 12-01 18:00、"
        "2026-12-01 18:00。",
    ),
    (
        "/order baoyuzhi-1 12-01 清理杂物",
        "看不懂截止时间「12-01」：请写 2h、3d 这样的时长（最长一年），或 12-01 18:00、"
        "2026-12-01 18:00。",
    ),
    (
        "/order baoyuzhi-1 13-01 18:00 清理杂物",
        "看不懂截止时间「13-01 18:00」：请写 2h、3d 这样的时长（最长一年），或 12-01 18:00、"
        "2026-12-01 18:00。",
    ),
    (
        "/order baoyuzhi-1 400d 清理杂物",
        "看不懂截止时间「400d」：请写 2h、3d 这样的时长（最长一年），或 12-01 18:00、"
        "2026-12-01 18:00。",
    ),
    (
        "/order baoyuzhi-1 2026-11-25 08:00 清理杂物",
        "截止时间 11-25 08:00 已经过去了，请给一个将来的时间。",
    ),
    ("/order baoyuzhi-1 12-01 18:00", "缺少令的内容：请在截止时间后面写明要做什么。"),
    ("/order baoyuzhi-1 2h " + "清" * 1001, "令的内容太长了（1001 字），请精简到 1000 字以内。"),
]


async def test_each_malformed_order_gets_its_own_answer_and_creates_nothing(h: Harness) -> None:
    for text, _ in BAD_ORDERS:
        await h.say(LI, LI, text)
    answers = h.texts(LI)
    assert answers[0].startswith("用法：/order 对象 截止 内容\n")
    assert answers[1:] == [answer for _, answer in BAD_ORDERS[1:]]
    # Only leaders and admins may order; residents and grid workers are told so.
    await h.say(ZHANG, ZHANG, "/order baoyuzhi-1 2h 清理杂物")
    await h.say(CHEN_RESIDENT, CHEN_RESIDENT, "/order baoyuzhi-1 2h 清理杂物")
    assert h.texts(ZHANG) == h.texts(CHEN_RESIDENT) == ["只有领导或管理员可以下达令。"]
    await h.say(CHEN_RESIDENT, CHEN_RESIDENT, "/orders")
    assert h.texts(CHEN_RESIDENT)[-1] == "只有工作人员可以查看令。"
    assert await counts(h) == (0, 0, 0)
    assert set(h.all_texts()) == {LI, ZHANG, CHEN_RESIDENT}
    # A December date without a year that is long past this year means next year's.
    await h.say(LI, LI, "/order baoyuzhi-1 01-05 18:00 清理杂物")
    assert "截止 01-05 18:00" in h.texts(LI)[-1]
    async with h.app.sessions() as session:  # type: ignore[union-attr]
        [due] = (await session.execute(select(Order.due_at))).scalars()
    assert due.year == 2027


async def test_only_the_units_of_an_order_can_press_its_buttons(h: Harness) -> None:
    await h.say(LI, LI, f"/order baoyuzhi-1 1d {TEXT}")
    grid_card = h.server.bot_messages(GRID1)[0]
    # A resident and a worker of another grid sit in the grid's chat and press 收到.
    members = h.server.state.chat_for(ZHANG, GRID1).members
    members.update({CHEN_RESIDENT, WANG})
    await h.press(CHEN_RESIDENT, GRID1, grid_card.message_id, "o:1:ack")
    await h.press(WANG, GRID1, grid_card.message_id, "o:1:ack")
    not_allowed = "只有令 HZ-L-2026-0001 下达单位（或其上级）的工作人员可以操作。"
    assert h.alerts() == [not_allowed, not_allowed]
    # Forged or stale data: another target, another action, 完成 before 收到, and the
    # right data on a message that is not this order's.
    for forged in ("o:999:ack", "o:1:delete", "o:1:ack:x", "o:01x:ack"):
        await h.press(ZHANG, GRID1, grid_card.message_id, forged)
    await h.press(ZHANG, GRID1, grid_card.message_id, "o:1:done")
    await h.say(ZHANG, ZHANG, "/orders")
    board_message = h.server.bot_messages(ZHANG)[0]
    await h.press(ZHANG, ZHANG, board_message.message_id, "o:1:ack")
    assert h.alerts()[2:] == [
        *["这个按钮无效或已过期。"] * 4,
        "请先点「收到」，再点「完成」：令 HZ-L-2026-0001",
        "这个按钮无效或已过期。",
    ]
    assert grid_card.edits == [] and board_message.edits == []
    async with h.app.sessions() as session:  # type: ignore[union-attr]
        [status] = (await session.execute(select(OrderTarget.status))).scalars()
    assert status == "sent"

    # Unacknowledged, it climbs to the community, whose staff may act for their grid.
    await h.advance(timedelta(hours=1))
    community = -1001002
    [climb] = h.server.bot_messages(community)
    await h.press(CHEN_COMMUNITY, community, climb.message_id, "o:1:ack")
    assert h.alerts()[-1] == "已收到：令 HZ-L-2026-0001"
    assert h.texts(community)[0].endswith("🟢 陈社区 已于 11-25 10:00 收到，办完请点「完成」")
    # The grid's own card was behind: its 收到 says who, and brings 完成 to the grid.
    await h.press(ZHANG, GRID1, grid_card.message_id, "o:1:ack")
    assert h.alerts()[-1] == "令 HZ-L-2026-0001 已由 陈社区 收到。"
    assert data(h, GRID1) == {"完成": "o:1:done"}
    await h.press(ZHANG, GRID1, grid_card.message_id, "o:1:done")
    assert h.alerts()[-1] == "已完成：令 HZ-L-2026-0001"
    await h.press(ZHANG, GRID1, grid_card.message_id, "o:1:done")
    assert h.alerts()[-1] == "令 HZ-L-2026-0001 已由 张三 完成。"
    assert h.texts(LI)[-1] == (
        f"✅ 宝玉直第一网格 已完成 令 {NUMBER}（张三，11-25 10:00）。\n全部对象均已完成，令已办结。"
    )
    # All done: the order is closed and leaves the board; no chase follows.
    await h.say(LI, LI, "/orders")
    assert h.texts(LI)[-1] == "目前没有进行中的令。"
    before = h.all_texts()
    await h.advance(timedelta(days=2))
    assert h.all_texts() == before
    assert h.server.duplicates() == []


async def test_order_deadlines_on_the_shared_redis_index_survive_restarts(
    database_url: str, demo_org: OrgConfig, redis: Redis
) -> None:
    """Several workers keep order deadlines in Redis, as they do case deadlines: the chase
    goes on across restarts, each step once, and the index holds only what is still due."""
    prefix = redis.test_prefix  # type: ignore[attr-defined]
    key = f"{prefix}:deadlines:orders"
    async with Harness(demo_org, database_url, REDIS_URL, redis_prefix=prefix) as h:
        await h.say(LI, LI, f"/order 同庆第一网格 1d {TEXT}")
        assert await redis.zcard(key) == 1
        await h.restart()
        await h.advance(timedelta(minutes=30))
        assert h.texts(TONGQING_GRID)[1:] == [reminder("同庆第一网格", "11-25 10:00")]
        await h.stop_app()
        h.clock.advance(timedelta(minutes=30))  # the climb falls due while no worker runs
        await h.start_app()
        assert h.texts(TONGQING) == [climbed("同庆社区", "11-25 11:00")]
        await h.restart()  # nothing due: nothing sent
        assert len(h.texts(TONGQING)) == 1 and len(h.texts(TONGQING_GRID)) == 2
        assert await redis.zcard(key) == 1  # the community's own deadline, once

        # An hour at once: up to the street, and the community's 催办 (due on the way) is
        # not sent late.
        await h.advance(timedelta(hours=1))
        assert h.texts(STREET) == [climbed("海幢街道", "11-25 12:00")]
        await h.press(HUANG, STREET, h.server.bot_messages(STREET)[0].message_id, "o:1:ack")
        assert h.alerts()[-1] == "已收到：令 HZ-L-2026-0001"
        # Acknowledged: what is left to watch is the order's own deadline, 11-26 09:00.
        deadline = datetime(2026, 11, 26, 1, 0, tzinfo=UTC).timestamp()
        assert await redis.zrange(key, 0, -1, withscores=True) == [(b"1", deadline)]
        await h.advance(timedelta(hours=3))
        assert LEADERSHIP not in h.all_texts()
        assert [len(h.texts(chat)) for chat in (TONGQING_GRID, TONGQING, STREET)] == [2, 1, 1]

        # The order's deadline passes while no worker runs: the issuer hears of it once.
        await h.stop_app()
        h.clock.advance(timedelta(days=1))
        await h.start_app()
        await h.restart()
        assert [t.splitlines()[0] for t in h.texts(LI)[1:]] == [
            f"❌ 令 {NUMBER} 已逾期（截止 11-26 09:00），1 个单位未完成："
        ]
        assert await redis.zcard(key) == 0
        assert h.server.duplicates() == []
