"""Benchmark of the outbox sender; writes the "Outbox" section of BENCHMARKS.md.

Run from the repository root::

    .venv/bin/python -m bench.outbox_bench            # the full figures (about 7 minutes)
    .venv/bin/python -m bench.outbox_bench --quick    # small numbers, for the test suite

Everything goes through the real aiogram client (`AiogramTransport`) to the sandbox Bot API
server with `enforce_limits=True`, which answers 429 to any message beyond Telegram's
limits (30/s overall, 1/s per private chat, 20/min per group) and counts the rejections.

* **Throughput** — 10,000 case cards spread over 500 group chats, all due at once, on the
  real clock with one sender and a SQLite database. Bundling is off, so this is one
  message per card and measures the pacing alone: the limit-bound minimum is the instant
  the last message may leave under 30/s, ⌊(N−1)/30⌋ s. The same load is then run with
  bundling on, for comparison.
* **Burst** — 1,000 reports arriving at random over 10 minutes into one grid's chat, once
  with bundling and once one message per case, in the same run. Ten simulated minutes (and
  the 50 that one-per-case needs) would be slow on the real clock, so here one simulated
  clock (`FakeClock`) drives both the sender and the sandbox's flood limiter: the sender
  drains, the clock jumps to the next arrival or to when the sender asked to be woken.
  Time-to-notify is, per case, from the card's row being written to the first moment the
  case is visible in the chat (its own message, or the first delivery of a bundle with it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Final

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.sections import cpu_model, replace_section, verdict
from bot.outbox_sender import OutboxSender
from bot.ratelimit import SendLimits
from bot.telegram.transport import AiogramTransport
from escalation.clock import FakeClock, SystemClock
from handlers.notify import card_bundle_line
from sandbox import SandboxServer
from storage import outbox
from storage.db import create_engine, migrate, sessionmaker
from storage.models import Outbox
from storage.outbox import OutgoingMessage, enqueue
from templates.render import Renderer

ROOT: Final = Path(__file__).resolve().parent.parent
BENCHMARKS: Final = ROOT / "BENCHMARKS.md"
COMMAND: Final = ".venv/bin/python -m bench.outbox_bench"
SECTION: Final = "## Outbox"
PER_SECOND: Final = 30
GRID_CHAT: Final = -1001003

REPORTS: Final = (
    "门口的路灯坏了三天，晚上很黑",
    "下水道堵了，污水漫到路面",
    "小区旁边有人乱扔建筑垃圾",
    "楼道里有人给电动车充电，很危险",
    "有辆僵尸车长期占道",
    "电梯坏了，老人下不了楼",
    "楼下烧烤油烟太大",
    "工地晚上施工，噪音扰民",
    "井盖松动了，有人差点摔倒",
    "垃圾房有老鼠出没",
    "积水没过膝盖，车开不过去",
    "大树被风吹倒压住了电线",
)


@dataclass(frozen=True)
class Throughput:
    messages: int
    chats: int
    bundling: bool
    elapsed: float  # s, from start to the last delivery
    minimum: float  # s, the limit-bound minimum
    delivered: int  # cases visible in the sandbox
    sends: int  # sendMessage calls that arrived
    edits: int
    rejections: int


@dataclass(frozen=True)
class Burst:
    bundling: bool
    cases: int
    minutes: float
    p50: float
    p99: float
    worst: float
    sends: int
    edits: int
    rejections: int
    all_visible: bool
    last_notified: float  # simulated s from the first report
    wall: float  # real s the simulation took


@dataclass(frozen=True)
class Results:
    throughput: list[Throughput]
    bursts: list[Burst]
    quick: bool


def card(renderer: Renderer, i: int, chat_id: int, now: datetime) -> OutgoingMessage:
    """A case card as the notifier writes it: the real template, five buttons, and the
    bundle line and button handlers/notify.card_message gives it."""
    number = f"HZ-2026-{i:06d}"
    report = f"{i}号楼{REPORTS[i % len(REPORTS)]}"
    case = SimpleNamespace(
        id=i,
        number=number,
        text=report,
        photos=[],
        lat=None,
        lon=None,
        level="grid",
        status="dispatched",
        ack_due_at=now + timedelta(hours=2),
        resolve_due_at=None,
        duplicate_hint=None,
        category="municipal",
        priority="normal",
    )
    text = renderer.render(
        "case_card",
        case=case,
        summary=report,
        full_length=None,
        extra_reports=[],
        more_reports=0,
        category=renderer.label("category", "municipal"),
        priority=renderer.label("priority", "normal"),
        level=renderer.label("level", "grid"),
        unit_name="宝玉直第一网格",
        place="宝玉直第一网格",
        reporter="陈阿姨",
        reason=None,
        workers=[SimpleNamespace(name="张三", telegram_id=5001)],
        status_line=None,
    )
    actions = ("ack", "resolve", "return", "escalate", "recat")
    buttons = [(renderer.label("button", a), f"c:{i}:{a}") for a in actions]
    return OutgoingMessage(
        key=f"case:{i}:v1:card",
        chat_id=chat_id,
        text=text,
        buttons=[buttons[k : k + 2] for k in range(0, len(buttons), 2)],
        case_id=i,
        bundle_line=card_bundle_line(renderer, case, climbed=False),  # type: ignore[arg-type]
        bundle_button=(f"{renderer.label('button', 'ack')} {number}", f"c:{i}:ack"),
    )


async def _database(directory: str, name: str) -> async_sessionmaker[AsyncSession]:
    engine = create_engine(f"sqlite+aiosqlite:///{Path(directory) / name}.db")
    await migrate(engine)
    return sessionmaker(engine)


def _bot(server: SandboxServer) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.api_url))
    return Bot(server.default_token, session=session)


def _visible(server: SandboxServer, chat_id: int | None = None) -> set[str]:
    """Case numbers the chat(s) show now (bundles as last edited)."""
    found: set[str] = set()
    for message in server.bot_messages(chat_id):
        found.update(w for w in message.plain_text.split() if w.startswith("HZ-2026-"))
    return found


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def limit_bound(count: int, chats: int) -> float:
    """When the last of `count` messages spread evenly over `chats` groups may leave at the
    earliest: 30 a second overall, and one per 3 s within a group."""
    per_chat = -(-count // chats)
    return float(max((count - 1) // PER_SECOND, (per_chat - 1) * 3))


async def throughput(count: int, chats: int, *, bundling: bool, directory: str) -> Throughput:
    """`count` cards over `chats` groups, all due at once, on the real clock."""
    server = SandboxServer(enforce_limits=True)
    await server.start()
    bot = _bot(server)
    sessions = await _database(directory, f"throughput-{count}-{bundling}")
    chat_ids = [-1002000000 - j for j in range(chats)]
    for chat_id in chat_ids:
        server.add_chat(chat_id, f"网格 {chat_id}", "supergroup")
    renderer = Renderer("zh")
    clock = SystemClock()
    try:
        async with sessions() as session, session.begin():
            for i in range(1, count + 1):
                await enqueue(
                    session, card(renderer, i, chat_ids[i % chats], clock.now()), clock.now()
                )
        sender = OutboxSender(
            sessions, AiogramTransport(bot), clock, SendLimits(), bundling=bundling
        )
        start = clock.now()
        task = asyncio.create_task(sender.run())
        try:
            while sender.sent + sender.failed < count:
                await asyncio.sleep(0.1)
                if task.done():
                    task.result()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with sessions() as session:
            last = (await session.execute(select(func.max(Outbox.sent_at)))).scalar_one()
        assert last is not None
        return Throughput(
            messages=count,
            chats=chats,
            bundling=bundling,
            elapsed=(last - start).total_seconds(),
            minimum=limit_bound(count, chats),
            delivered=len(_visible(server)),
            sends=len(server.calls("sendMessage")),
            edits=len(server.calls("editMessageText")),
            rejections=server.flood_rejections,
        )
    finally:
        await bot.session.close()
        await server.stop()


async def burst(count: int, minutes: float, *, bundling: bool, seed: int, directory: str) -> Burst:
    """`count` reports at random over `minutes` into one grid chat, on a simulated clock."""
    wall = time.perf_counter()
    clock = FakeClock(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    server = SandboxServer(enforce_limits=True, now=lambda: clock.now().timestamp())
    await server.start()
    bot = _bot(server)
    server.add_chat(GRID_CHAT, "宝玉直第一网格", "supergroup")
    sessions = await _database(directory, f"burst-{count}-{bundling}")
    renderer = Renderer("zh")
    rng = random.Random(seed)
    start = clock.now()
    arrivals = sorted(start + timedelta(seconds=rng.uniform(0, minutes * 60)) for _ in range(count))
    sender = OutboxSender(
        sessions, AiogramTransport(bot), clock, SendLimits(), bundling=bundling, renderer=renderer
    )
    try:
        index = 0
        wake_at = start
        while True:
            now = clock.now()
            while index < count and arrivals[index] <= now:
                async with sessions() as session, session.begin():
                    while index < count and arrivals[index] <= now:
                        index += 1
                        await enqueue(session, card(renderer, index, GRID_CHAT, now), now)
            wake_at = await sender.drain()
            async with sessions() as session:
                left = await outbox.pending_count(session)
            if index >= count and left == 0:
                break
            nxt = wake_at if index >= count else min(wake_at, arrivals[index])
            if nxt > clock.now():
                clock.set(nxt)
        async with sessions() as session:
            rows = list(
                (await session.execute(select(Outbox).where(Outbox.case_id.is_not(None)))).scalars()
            )
        waits = [(r.sent_at - r.created_at).total_seconds() for r in rows if r.sent_at]
        numbers = {f"HZ-2026-{i:06d}" for i in range(1, count + 1)}
        last = max(r.sent_at for r in rows if r.sent_at)
        return Burst(
            bundling=bundling,
            cases=count,
            minutes=minutes,
            p50=_percentile(waits, 0.50),
            p99=_percentile(waits, 0.99),
            worst=max(waits),
            sends=len(server.calls("sendMessage")),
            edits=len(server.calls("editMessageText")),
            rejections=server.flood_rejections,
            all_visible=len(waits) == count and _visible(server, GRID_CHAT) == numbers,
            last_notified=(last - start).total_seconds(),
            wall=time.perf_counter() - wall,
        )
    finally:
        await bot.session.close()
        await server.stop()


async def run(quick: bool) -> Results:
    n, chats = (90, 45) if quick else (10_000, 500)
    burst_n, burst_minutes = (100, 1.0) if quick else (1_000, 10.0)
    with tempfile.TemporaryDirectory(prefix="outbox-bench-") as directory:
        results = [
            await throughput(n, chats, bundling=False, directory=directory),
            await throughput(n, chats, bundling=True, directory=directory),
        ]
        bursts = [
            await burst(burst_n, burst_minutes, bundling=b, seed=2026, directory=directory)
            for b in (True, False)
        ]
    return Results(results, bursts, quick)


def render(results: Results, today: dt.date | None = None) -> str:
    """The Markdown section, starting with its ``## Outbox`` heading."""
    day = (today or dt.date.today()).isoformat()
    command = COMMAND + (" --quick" if results.quick else "")
    plain, bundled = results.throughput
    over = plain.elapsed / plain.minimum - 1 if plain.minimum else 0.0
    with_b, one_each = results.bursts
    lines = [
        SECTION,
        "",
        f"- date: {day}",
        f"- machine: nproc {os.cpu_count()}, {cpu_model()}, "
        f"Python {platform.python_version()} ({platform.machine()})",
        f"- command: `{command}` (or `bench/run outbox`)",
        f"- load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine "
        "slows the real-clock run)",
        "- path: `OutboxSender` → real aiogram client (`AiogramTransport`) → sandbox Bot API "
        "server with `enforce_limits=True` (429 beyond 30 msg/s overall, 1/s per private "
        "chat, 20/min per group); one sender, SQLite; the sender paces groups at one "
        "message per 3 s.",
        "",
        f"### Throughput: {plain.messages:,} cards to {plain.chats} group chats, real clock",
        "",
        "All rows are due at once. Bundling off: one message per card, so this measures "
        f"pacing alone. Limit-bound minimum: the last of {plain.messages:,} messages cannot "
        f"leave before {plain.minimum:.0f} s (⌊(N−1)/30⌋ at 30/s overall, unless a chat's "
        "own 3 s spacing binds first).",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
        f"| delivered | {plain.delivered:,} / {plain.messages:,} | all "
        f"| {verdict(plain.delivered == plain.messages)} |",
        f"| rejected for flooding (429) | {plain.rejections} | 0 "
        f"| {verdict(plain.rejections == 0)} |",
        f"| time to the last delivery | {plain.elapsed:.1f} s "
        f"({over:+.1%} over {plain.minimum:.0f} s) | within 10% "
        f"| {verdict(over <= 0.10)} |",
        f"| rate | {plain.messages / plain.elapsed:.1f} msg/s | ≤ 30 | |",
        "",
        f"Same load with bundling on (cards held back by pacing go out as bundles): "
        f"{bundled.delivered:,} / {bundled.messages:,} cases visible after "
        f"{bundled.elapsed:.1f} s, with {bundled.sends:,} messages and {bundled.edits:,} "
        f"edits, {bundled.rejections} rejected.",
        "",
        f"### Burst: {with_b.cases:,} reports in {with_b.minutes:g} min into one grid chat, "
        "simulated clock",
        "",
        "Arrivals uniform at random over the period (seed 2026). One `FakeClock` drives the "
        "sender and the sandbox's flood limiter, so the simulated hour runs in seconds; "
        "HTTP to the sandbox is real. Time-to-notify: from the card's row being written to "
        "the case first being visible in the chat.",
        "",
        "| | bundles (default) | one message per case |",
        "|---|---|---|",
        f"| time-to-notify p50 | {with_b.p50:.1f} s | {one_each.p50:.1f} s |",
        f"| time-to-notify p99 | {with_b.p99:.1f} s | {one_each.p99:.1f} s |",
        f"| time-to-notify max | {with_b.worst:.1f} s | {one_each.worst:.1f} s |",
        f"| last case visible, after the first report | {with_b.last_notified:.0f} s "
        f"| {one_each.last_notified:.0f} s |",
        f"| messages sent | {with_b.sends:,} | {one_each.sends:,} |",
        f"| edits | {with_b.edits:,} | {one_each.edits:,} |",
        f"| rejected for flooding (429) | {with_b.rejections} | {one_each.rejections} |",
        f"| every case visible in the chat | {'yes' if with_b.all_visible else 'NO'} "
        f"| {'yes' if one_each.all_visible else 'NO'} |",
        f"| real time the simulation took | {with_b.wall:.1f} s | {one_each.wall:.1f} s |",
        "",
        f"Target for bundles: p99 ≤ 60 s and zero 429s — "
        f"{verdict(with_b.p99 <= 60 and with_b.rejections == 0 and with_b.all_visible)}.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the Outbox section of BENCHMARKS.md, keeping other sections."""
    replace_section(path, SECTION, section)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the section and (unless --quick or --no-write) write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="small numbers (seconds)")
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    section = render(asyncio.run(run(args.quick)))
    print(section)
    if not (args.no_write or args.quick):
        write_section(section)
        print(f"written to {BENCHMARKS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
