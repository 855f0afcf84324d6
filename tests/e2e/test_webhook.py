"""Webhook mode end to end: the sandbox POSTs updates to the app's `/webhook/telegram` like
Telegram does, and tests also POST directly, as a load balancer in front of several workers
would. An update is acknowledged only after it is committed, a failure is answered 500 and
redelivered, and a redelivered update changes nothing — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.cli import main
from org.file import OrgConfig
from storage.models import Case
from tests.e2e.harness import WEBHOOK_SECRET, Harness

ROOT = Path(__file__).resolve().parents[2]
RESIDENTS_CHAT, GRID, COMMUNITY = -1002001, -1001003, -1001002
CHEN, LIN, ZHANG = 7001, 7002, 5001
REPORT = "@gridcall_bot 小区门口的路灯坏了三天，晚上很黑"
OTHER_REPORT = "@gridcall_bot 楼下垃圾堆了一个星期没人清"


@pytest.fixture
async def webhook_harness(database_url: str, org_config: OrgConfig) -> AsyncIterator[Harness]:
    async with Harness(org_config, database_url, webhook=True) as h:
        yield h


@pytest.fixture
async def sqlite_webhook_harness(sqlite_url: str, org_config: OrgConfig) -> AsyncIterator[Harness]:
    async with Harness(org_config, sqlite_url, webhook=True) as h:
        yield h


async def case_count(h: Harness) -> int:
    assert h.app is not None
    async with h.app.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Case))).scalar_one())


def ack_button(h: Harness) -> tuple[int, str]:
    card = h.server.bot_messages(GRID)[0]
    data = {label: data for row in card.buttons for label, data in row}
    return card.message_id, data["接单"]


def captured(h: Harness, act: Callable[[], object]) -> dict[str, Any]:
    """The update a person's action produces, taken from the sandbox instead of delivered:
    the test hands it to the workers itself."""
    act()
    [update] = h.server.drain_updates()
    return update


async def test_report_and_acknowledge_through_the_webhook(webhook_harness: Harness) -> None:
    h = webhook_harness
    assert h.app is not None and h.app.poller is None
    info = await h.app.bot.get_webhook_info()
    assert info.url == h.webhook_url and info.pending_update_count == 0

    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    [receipt] = h.texts(RESIDENTS_CHAT)
    assert "HZ-2026-000001" in receipt and "市政设施" in receipt
    [card] = h.server.bot_messages(GRID)
    assert "路灯坏了三天" in card.plain_text and "张三" in card.plain_text

    message_id, data = ack_button(h)
    await h.press(ZHANG, GRID, message_id, data)
    assert h.alerts() == ["已接单：HZ-2026-000001"]  # the callback is still answered
    assert "张三" in h.texts(RESIDENTS_CHAT)[-1] and "接单" in h.texts(RESIDENTS_CHAT)[-1]
    assert "✅ 张三" in h.server.bot_messages(GRID)[0].plain_text

    await h.advance(timedelta(hours=2))  # acknowledged: nothing climbs
    assert h.texts(COMMUNITY) == []
    assert [status for _, status in h.server.webhook_deliveries] == [200, 200]
    assert h.server.calls("getUpdates") == []  # no polling in webhook mode
    assert h.server.duplicates() == []


async def test_a_missing_or_wrong_secret_is_refused(webhook_harness: Harness) -> None:
    h = webhook_harness
    assert h.app is not None and h.app.webhook is not None
    update = captured(h, lambda: h.server.user_sends(CHEN, RESIDENTS_CHAT, REPORT))
    for secret in (None, "", "wrong-secret-wrong-secret", WEBHOOK_SECRET.upper()):
        status, answer = await h.post_update(update, secret=secret)
        assert (status, answer["ok"]) == (401, False)
        assert WEBHOOK_SECRET not in str(answer)
    await h.settle()
    assert h.server.bot_messages() == []
    assert await case_count(h) == 0
    assert h.app.webhook.rejected == 4

    assert await h.post_update(update) == (200, {"ok": True})  # Telegram's own delivery
    await h.settle()
    assert len(h.texts(RESIDENTS_CHAT)) == 1


async def test_bad_bodies_are_refused_and_a_malformed_update_is_skipped(
    webhook_harness: Harness,
) -> None:
    h = webhook_harness
    assert h.app is not None and h.app.webhook is not None
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"', b'{"message": {}}'):
        status, _ = await h.post_update(body)
        assert status == 400, body
    status, answer = await h.post_update({"update_id": "7", "message": {}})
    assert status == 400 and "update_id" in answer["description"]
    status, _ = await h.post_update(b" " * (1024 * 1024 + 1))
    assert status == 413

    # A body with an update id that aiogram cannot read is acknowledged — or Telegram would
    # redeliver it forever — and the update after it is handled.
    bad_id = h.server.enqueue_raw_update({"message": {"text": "no chat, no date"}})
    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    assert h.server.webhook_deliveries == [(bad_id, 200), (bad_id + 1, 200)]
    assert [u["update_id"] for u in h.app.webhook.skipped] == [bad_id]
    assert len(h.texts(RESIDENTS_CHAT)) == 1
    assert await case_count(h) == 1


async def test_healthz_names_the_bot(sqlite_webhook_harness: Harness) -> None:
    h = sqlite_webhook_harness
    assert h.app is not None
    url = f"http://127.0.0.1:{h.app.webhook_port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert await response.json() == {"ok": True, "bot": "gridcall_bot"}


async def test_a_redelivered_update_is_handled_once(webhook_harness: Harness) -> None:
    h = webhook_harness
    # Telegram does not hear the first 200 (a broken connection) and delivers again.
    h.server.lose_next_webhook_ack()
    await h.say(CHEN, RESIDENTS_CHAT, REPORT)
    [(first, ok1), (again, ok2)] = h.server.webhook_deliveries
    assert first == again and ok1 == ok2 == 200
    assert await case_count(h) == 1
    assert len(h.texts(RESIDENTS_CHAT)) == 1 and len(h.texts(GRID)) == 1

    # The same button press POSTed twice: one change, one answer.
    message_id, data = ack_button(h)
    press = captured(h, lambda: h.server.user_presses(ZHANG, GRID, message_id, data))
    assert await h.post_update(press) == (200, {"ok": True})
    assert await h.post_update(press) == (200, {"ok": True})
    await h.settle()
    assert h.alerts() == ["已接单：HZ-2026-000001"]
    assert len(h.server.calls("answerCallbackQuery")) == 1
    assert len(h.texts(RESIDENTS_CHAT)) == 2
    assert h.server.duplicates() == []


class FailsOnce:
    """A session factory whose first use fails as if the database were down."""

    def __init__(self, real: Callable[[], Any]) -> None:
        self.real = real
        self.failed = asyncio.Event()

    def __call__(self) -> Any:
        if not self.failed.is_set():
            self.failed.set()
            raise OperationalError("BEGIN", {}, ConnectionRefusedError("database is down"))
        return self.real()


async def test_database_down_answers_500_and_the_redelivery_files_one_case(
    webhook_harness: Harness,
) -> None:
    h = webhook_harness
    assert h.app is not None and h.app.webhook is not None
    # The core opens its transactions through `services.sessions` (the app's factory).
    down = FailsOnce(h.app.services.sessions)
    h.app.services.sessions = down  # type: ignore[assignment]

    await h.say(CHEN, RESIDENTS_CHAT, REPORT)  # settles once the sandbox's retry succeeded
    assert down.failed.is_set()
    [(update_id, failed), (again, ok)] = h.server.webhook_deliveries
    assert (update_id, failed, ok) == (again, 500, 200)
    assert h.app.webhook.failed == 1
    assert await case_count(h) == 1
    assert len(h.texts(RESIDENTS_CHAT)) == 1 and len(h.texts(GRID)) == 1
    assert h.server.webhook_dropped == []


async def test_two_workers_behind_one_address_handle_each_update_once(
    webhook_harness: Harness,
) -> None:
    h = webhook_harness
    assert h.app is not None
    first, second = h.app, await h.add_worker()
    # From here the test is Telegram's load balancer: it spreads updates over both workers,
    # and also delivers each one again to the other worker, at the same time.
    report = captured(h, lambda: h.server.user_sends(CHEN, RESIDENTS_CHAT, REPORT))
    other = captured(h, lambda: h.server.user_sends(LIN, RESIDENTS_CHAT, OTHER_REPORT))
    answers = await asyncio.gather(
        h.post_update(report, to=first),
        h.post_update(other, to=second),
        h.post_update(report, to=second),
        h.post_update(other, to=first),
    )
    assert [status for status, _ in answers] == [200] * 4
    await h.settle()
    assert await case_count(h) == 2
    assert len(h.texts(RESIDENTS_CHAT)) == 2 and len(h.texts(GRID)) == 2

    card = h.server.bot_messages(GRID)[0]
    data = {label: data for row in card.buttons for label, data in row}["接单"]
    press = captured(h, lambda: h.server.user_presses(ZHANG, GRID, card.message_id, data))
    assert await h.post_update(press, to=second) == (200, {"ok": True})
    assert await h.post_update(press, to=first) == (200, {"ok": True})
    await h.settle()
    assert len(h.alerts()) == 1 and (h.alerts()[0] or "").startswith("已接单：")
    assert len(h.texts(RESIDENTS_CHAT)) == 3
    assert h.server.duplicates() == []


def test_webhook_mode_without_a_secret_is_refused() -> None:
    env = {"GRIDCALL_TELEGRAM_TOKEN": "123456:ABC-def", "GRIDCALL_WEBHOOK_SECRET": ""}
    args = ["run", "--config", str(ROOT / "examples/haizhu.yaml"), "--mode", "webhook"]
    result = CliRunner().invoke(main, [*args, "--listen", "127.0.0.1:8443"], env=env)
    assert result.exit_code == 1
    assert "GRIDCALL_WEBHOOK_SECRET is not set" in result.output

    short = CliRunner().invoke(main, args, env={**env, "GRIDCALL_WEBHOOK_SECRET": "tiny-secret"})
    assert short.exit_code == 1
    assert "must be 16–256 characters long (it has 11)" in short.output
    assert "tiny-secret" not in short.output  # a secret is never repeated

    bad = CliRunner().invoke(
        main, args, env={**env, "GRIDCALL_WEBHOOK_SECRET": "a secret with spaces!!"}
    )
    assert bad.exit_code == 1 and "only A-Z a-z 0-9 _ -" in bad.output


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ("8443", "is not HOST:PORT"),
        ("0.0.0.0:", "is not HOST:PORT"),
        ("0.0.0.0:http", "is not a number from 1 to 65535"),
        ("0.0.0.0:70000", "is not a number from 1 to 65535"),
        ("::1:8443", "IPv6 host in brackets"),
    ],
)
def test_a_bad_listen_address_is_named(listen: str, message: str) -> None:
    env = {"GRIDCALL_TELEGRAM_TOKEN": "123456:ABC-def", "GRIDCALL_WEBHOOK_SECRET": "x" * 32}
    args = ["run", "--config", str(ROOT / "examples/haizhu.yaml"), "--mode", "webhook"]
    result = CliRunner().invoke(main, [*args, "--listen", listen], env=env)
    assert result.exit_code == 2
    assert "--listen" in result.output and message in result.output


def test_run_help_documents_webhook_mode() -> None:
    result = CliRunner().invoke(main, ["run", "--help"])
    assert result.exit_code == 0
    assert "--mode [polling|webhook]" in result.output and "--listen HOST:PORT" in result.output
    assert "GRIDCALL_WEBHOOK_SECRET" in result.output
    polling_with_listen = CliRunner().invoke(
        main,
        ["run", "--config", str(ROOT / "examples/haizhu.yaml"), "--listen", "0.0.0.0:8443"],
        env={"GRIDCALL_TELEGRAM_TOKEN": "123456:ABC-def"},
    )
    assert polling_with_listen.exit_code == 2
    assert "--listen is used only with --mode webhook" in polling_with_listen.output


async def test_metrics_are_served_next_to_the_webhook(
    sqlite_url: str, org_config: OrgConfig
) -> None:
    """Operators scrape /metrics: the counters say what the parts saw."""
    async with Harness(org_config, sqlite_url, webhook=True) as h:
        await h.say(7001, -1002001, "@gridcall_bot 路灯坏了三天")
        assert h.app is not None and h.app.webhook_port is not None
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{h.app.webhook_port}/metrics"
            async with client.get(url) as response:
                assert response.status == 200
                body = await response.text()
        lines = dict(line.rsplit(" ", 1) for line in body.splitlines() if not line.startswith("#"))
        assert lines["gridcall_webhook_handled_total"] == "1"
        assert lines["gridcall_outbox_sent_total"] == "2"  # the receipt and the card
        assert lines["gridcall_deadline_index_fallbacks_total"] == "0"
