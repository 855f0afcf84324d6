"""Bad input gets a clear, specific answer and changes nothing; no message is lost or doubled."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage.models import Case
from tests.e2e.harness import Harness

RESIDENTS_CHAT, GRID, COMMUNITY = -1002001, -1001003, -1001002
CHEN, ZHANG = 7001, 5001
STRANGE_GROUP = -1009999


async def case_count(h: Harness) -> int:
    assert h.app is not None
    async with h.app.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Case))).scalar_one())


async def test_a_letter_as_long_as_telegram_allows_is_filed_whole(sqlite_harness: Harness) -> None:
    """Telegram caps a message at 4096 characters, and a resident's long letter up to that
    cap is a report like any other: filed, its start on the card, every word one tap away.
    The core's own over-the-limit answer (10,000 characters) is in tests/handlers."""
    h = sqlite_harness
    opening = "宝玉直小区3栋门口的路灯坏了三天，晚上一片漆黑，老人孩子出门都不安全。"
    middle = "".join(f"第{n}天晚上还是没有修好，我们打电话问过物业。" for n in range(1, 170))
    letter = opening + middle + "恳请尽快派人维修。"
    assert 3900 < len("@gridcall_bot " + letter) <= 4096
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot " + letter)
    assert await case_count(h) == 1
    [card] = h.server.bot_messages(GRID)
    assert opening in card.plain_text
    assert "恳请尽快派人维修" not in card.plain_text  # the card shows the start ...
    assert f"（全文 {len(letter)} 字，点「全文」查看）" in card.plain_text
    await h.press(ZHANG, GRID, card.message_id, "c:1:full")
    whole = "".join(h.texts(GRID)[1:])  # ... and 全文 every word, over as many messages as needed
    assert letter in whole.replace("\n", "")
    assert all(len(text) <= 4096 for text in h.texts(GRID))
    assert len(h.texts(RESIDENTS_CHAT)) == 1  # the resident's receipt


async def test_html_in_a_report_is_shown_as_typed(harness: Harness) -> None:
    h = harness
    report = "@gridcall_bot 路灯坏了 <b>三天</b> & 没人管 </a> <script>x</script>"
    await h.say(CHEN, RESIDENTS_CHAT, report)
    [card] = h.server.bot_messages(GRID)
    assert "路灯坏了 <b>三天</b> & 没人管 </a> <script>x</script>" in card.plain_text
    assert "&lt;b&gt;三天&lt;/b&gt; &amp; 没人管 &lt;/a&gt;" in card.text
    assert len(h.texts(RESIDENTS_CHAT)) == 1


async def test_forged_buttons_change_nothing(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了三天")
    card = h.server.bot_messages(GRID)[0]
    for data in ("c:999:ack", "c:1:delete", "c:1:ack:extra", "p:baoyuzhi-1", "x" * 64, ""):
        await h.press(ZHANG, GRID, card.message_id, data)
    assert h.alerts() == ["这个按钮无效或已过期。"] * 6
    # A resident who found the card's data cannot act on it from their own chat either.
    receipt = h.server.bot_messages(RESIDENTS_CHAT)[0]
    await h.press(CHEN, RESIDENTS_CHAT, receipt.message_id, "c:1:ack")
    assert h.alerts()[-1] == "只有 HZ-2026-000001 所属单位的工作人员可以操作。"
    assert len(h.server.bot_messages()) == 2
    assert card.edits == []
    await h.advance(timedelta(hours=2))
    assert len(h.texts(COMMUNITY)) == 1  # still unacknowledged: it climbed


async def test_an_unknown_chat_is_told_it_is_not_bound(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    h.server.add_chat(STRANGE_GROUP, "别的群", "supergroup", members=[CHEN])
    await h.say(CHEN, STRANGE_GROUP, "大家好")
    await h.say(CHEN, STRANGE_GROUP, "@gridcall_bot 路灯坏了三天")
    assert h.texts(STRANGE_GROUP) == [
        "本群尚未绑定网格（群 ID -1009999），请联系管理员在组织配置中添加。"
    ]
    assert await case_count(h) == 0


async def test_a_malformed_update_is_skipped_and_the_next_one_handled(
    sqlite_harness: Harness,
) -> None:
    h = sqlite_harness
    h.server.enqueue_raw_update({"update_id": 10_000, "message": {"text": "no chat, no date"}})
    h.server.enqueue_raw_update({"update_id": 10_001, "callback_query": "not an object"})
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了三天")
    assert h.app is not None
    assert len(h.app.poller.skipped) == 2
    assert len(h.texts(RESIDENTS_CHAT)) == 1 and len(h.texts(GRID)) == 1


async def test_flood_limit_429_is_honoured_on_the_clock(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    h.server.fail_next("sendMessage", status=429, retry_after=7)
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了三天")
    # The first message (the grid's card) hit the limit: that chat waits 7 s of clock
    # time; the resident's receipt went.
    assert h.texts(GRID) == [] and len(h.texts(RESIDENTS_CHAT)) == 1
    await h.advance(timedelta(seconds=6))
    assert h.texts(GRID) == []
    await h.advance(timedelta(seconds=1))
    assert len(h.texts(GRID)) == 1
    assert len(h.server.calls("sendMessage")) == 3  # one refused, two delivered
    assert h.server.duplicates() == []


async def test_server_errors_are_retried_with_backoff(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    h.server.fail_next("sendMessage", status=500, count=3)
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了三天")
    assert h.server.bot_messages() == []
    await h.advance(timedelta(seconds=1))
    await h.advance(timedelta(seconds=2))
    await h.advance(timedelta(seconds=4))
    assert len(h.texts(RESIDENTS_CHAT)) == 1 and len(h.texts(GRID)) == 1
    assert h.server.duplicates() == []


async def test_a_chat_that_removed_the_bot_is_given_up_without_blocking_others(
    sqlite_harness: Harness,
) -> None:
    h = sqlite_harness
    h.server.kick_bot(GRID)
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了三天")
    assert len(h.texts(RESIDENTS_CHAT)) == 1
    assert h.texts(GRID) == []
    assert h.app is not None and h.app.sender.failed == 1
    await h.advance(timedelta(hours=2))
    assert len(h.texts(COMMUNITY)) == 1  # the climb goes on


async def test_database_down_leaves_the_update_unconfirmed_until_it_is_back(
    sqlite_harness: Harness,
) -> None:
    """Polling never skips an update because the database is down, however long it is down."""
    from sqlalchemy.exc import OperationalError

    h = sqlite_harness
    assert h.app is not None
    h.app.poller.retry_base = 0.0
    real = h.app.services.sessions
    failures = 8  # more than a poison update is given

    def flaky() -> object:
        nonlocal failures
        if failures:
            failures -= 1
            raise OperationalError("connect", {}, ConnectionRefusedError("database is down"))
        return real()

    h.app.services.sessions = flaky  # type: ignore[assignment]
    await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了三天")
    assert failures == 0 and h.app.poller.skipped == []
    assert await case_count(h) == 1
    assert len(h.texts(RESIDENTS_CHAT)) == 1 and h.server.duplicates() == []
