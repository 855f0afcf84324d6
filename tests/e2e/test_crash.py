"""Crash anywhere: real worker processes, killed with SIGKILL at random moments.

Three `gridcall run` processes share one PostgreSQL database and one Redis deadline index,
against the sandbox Telegram server run by the test: one polls for updates (only one may
long-poll), two run in webhook mode with no address registered — deadlines and outbox only.
Residents send a stream of reports while a seeded random schedule SIGKILLs workers — in the
middle of taking a report, of firing a burst of deadlines, of sending — and restarts them.
Deadlines are seconds long, so every case climbs the whole ladder while this goes on.

Afterwards: every report is exactly one case; every case climbed each rung once and ran out
of ladder once (every deadline fired, none twice); and no chat got any message twice.

What this cannot show: a worker killed after Telegram accepted a message and before the
outbox recorded it sent leaves the row claimed until its lease runs out, and then it is
sent again — Telegram has no way to ask "did that arrive?". The window is the moment between
the API's answer and that commit, but a kill is aimed at a busy worker, so it does happen
(seed 534280620 hit it on a slow machine where the run outlasted the default 60 s lease).
The workers here hold their lease longer than the test (`GRIDCALL_OUTBOX_LEASE`), so such a
message is late, not doubled; `tests/bot/test_outbox_sender.py` shows a row whose sender
died being sent again once the lease runs out.

Reproduce a run with ``GRIDCALL_CRASH_SEED=<seed>`` (each run prints its seed on failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.demo import build_world
from org.file import OrgConfig, load_org
from org.levels import LEVELS
from sandbox import SandboxServer
from storage.db import create_engine, migrate, sessionmaker
from storage.models import Case, CaseEvent, Outbox
from storage.org_import import import_org
from tests.conftest import FIXTURES, REDIS_URL

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-token"
RESIDENTS = {7001: "陈阿姨", 7002: "林先生", 7003: "Alice"}
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
REPORTS = 12
KILLS = 5
READY_LINE = "deadline index rebuilt"
# Seconds: a bound, not a timing claim. The test takes ~40 s on a quiet machine; on a
# loaded CI runner each worker start alone has taken 10 s.
DEADLINE = 300.0
LEASE = DEADLINE + 300.0  # no claimed row is re-sent while the test runs (see above)


def crash_org(path: Path) -> Path:
    """The test org with deadlines of seconds, no reminders, and merging made strict (a
    stream of similar reports stays that many cases)."""
    data = yaml.safe_load((FIXTURES / "org.yaml").read_text(encoding="utf-8"))
    data["policy"] = {
        "ack": {"urgent": "2s", "normal": "2s", "low": "3s"},
        "resolve": {"urgent": "1h", "normal": "1h", "low": "1h"},
        "ladder": list(LEVELS),
        "remind_at": "off",
        "duplicates": {"similarity": 1.0},
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Worker:
    """One `gridcall run` process, restartable; each start logs to its own file."""

    name: str
    args: list[str]
    env: dict[str, str]
    logs: Path
    starts: int = 0
    proc: asyncio.subprocess.Process | None = None
    log: Path | None = None

    async def start(self) -> None:
        self.starts += 1
        self.log = self.logs / f"{self.name}-{self.starts}.log"
        with self.log.open("wb") as sink:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                *self.args,
                cwd=ROOT,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )

    def ready(self) -> bool:
        return self.log is not None and READY_LINE in self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if not self.running():
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout=10)
        except TimeoutError:
            await self.kill()


@dataclass
class Chaos:
    seed: int
    started: float = field(default_factory=time.monotonic)
    events: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.events.append(f"{time.monotonic() - self.started:6.2f}s {what}")

    def why(self, workers: list[Worker]) -> str:
        tails = []
        for worker in workers:
            for log in sorted(worker.logs.glob(f"{worker.name}-*.log")):
                lines = log.read_text(errors="replace").splitlines()
                errors = [ln for ln in lines if "ERROR" in ln or "Traceback" in ln][-5:]
                if errors:
                    tails.append(f"--- {log.name}\n" + "\n".join(errors))
        return (
            f"seed {self.seed} (rerun with GRIDCALL_CRASH_SEED={self.seed})\n"
            + "\n".join(self.events)
            + ("\n" + "\n".join(tails) if tails else "")
        )


async def until(
    condition: Callable[[], Coroutine[Any, Any, bool]], within: float, what: str, chaos: Chaos
) -> None:
    """Wait for a condition, checking it every 0.2 s; fail naming it and the seed."""
    limit = time.monotonic() + within
    while not await condition():
        if time.monotonic() > limit:
            raise AssertionError(f"timed out waiting for {what}; {chaos.why([])}")
        await asyncio.sleep(0.2)


async def started(worker: Worker, chaos: Chaos) -> None:
    await worker.start()
    chaos.note(f"start {worker.name}")

    async def up() -> bool:
        if not worker.running():
            raise AssertionError(f"{worker.name} exited at start; {chaos.why([worker])}")
        return worker.ready()

    await until(up, 40, f"{worker.name} to start", chaos)


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    sandbox = SandboxServer()
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


async def test_workers_killed_anywhere_lose_nothing_and_double_nothing(
    postgres_url: str, redis: Redis, server: SandboxServer, tmp_path: Path
) -> None:
    seed = int(os.environ.get("GRIDCALL_CRASH_SEED") or secrets.randbelow(2**31))
    rng = random.Random(seed)
    chaos = Chaos(seed)
    org_file = crash_org(tmp_path / "org.yaml")
    org: OrgConfig = load_org(org_file)
    resident_chats = [c for unit in org.all_units() for c in unit.resident_chats]
    build_world(server, org, [(uid, name, resident_chats) for uid, name in RESIDENTS.items()])

    # The schema and the org exist before any worker: workers starting side by side would
    # otherwise race to import the org.
    engine = create_engine(postgres_url)
    await migrate(engine)
    sessions = sessionmaker(engine)
    async with sessions() as session, session.begin():
        await import_org(session, org)

    env = {
        **os.environ,
        "GRIDCALL_TELEGRAM_TOKEN": TOKEN,
        "GRIDCALL_TELEGRAM_API_URL": server.api_url,
        "GRIDCALL_DATABASE_URL": postgres_url,
        "GRIDCALL_REDIS_URL": REDIS_URL,
        "GRIDCALL_REDIS_PREFIX": redis.test_prefix,  # type: ignore[attr-defined]
        "GRIDCALL_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "GRIDCALL_LOG_LEVEL": "INFO",
        "GRIDCALL_OUTBOX_LEASE": str(LEASE),
    }
    env.pop("GRIDCALL_WEBHOOK_URL", None)
    base = ["--config", str(org_file)]
    workers = [Worker("poller", [*base, "--mode", "polling"], env, tmp_path)]
    for n in (1, 2):
        listen = ["--mode", "webhook", "--listen", f"127.0.0.1:{free_port()}"]
        workers.append(Worker(f"worker{n}", [*base, *listen], env, tmp_path))

    sent: list[tuple[int, int]] = []  # (chat, message id) of every report

    async def residents_report() -> None:
        for n in range(1, REPORTS + 1):
            await asyncio.sleep(rng.uniform(0.3, 2.0))
            user = rng.choice(list(RESIDENTS))
            chat = rng.choice(resident_chats)
            text = PROBLEMS[(n - 1) % len(PROBLEMS)].format(n=n)
            message = server.user_sends(user, chat, f"@gridcall_bot {text}")
            sent.append((chat, int(message["message_id"])))
            chaos.note(f"report {n} in {chat}")

    # One worker starts at a time (each start re-imports the org); kills happen any time.
    starting = asyncio.Lock()

    async def start(worker: Worker) -> None:
        async with starting:
            await started(worker, chaos)

    async def kill_and_restart() -> None:
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            running = [w for w in workers if w.running() and w.ready()]
            if not running:
                continue
            worker = rng.choice(running)
            await worker.kill()
            chaos.note(f"SIGKILL {worker.name}")
            await asyncio.sleep(rng.uniform(0.0, 1.0))
            await start(worker)

    try:
        await start(workers[0])
        stream = asyncio.create_task(residents_report())
        killing = asyncio.create_task(kill_and_restart())
        for worker in workers[1:]:
            await start(worker)
        await asyncio.gather(stream, killing)
        chaos.note("chaos over")

        async def every_report_filed() -> bool:
            return len(await cases_of(sessions, sent)) == len(sent)

        async def every_ladder_climbed() -> bool:
            async with sessions() as session:
                done = await session.scalar(
                    select(func.count(func.distinct(CaseEvent.case_id))).where(
                        CaseEvent.kind == "ladder_exhausted"
                    )
                )
            return done == len(sent)

        async def outbox_drained() -> bool:
            async with sessions() as session:
                waiting = await session.scalar(
                    select(func.count(Outbox.id)).where(Outbox.status == "pending")
                )
            return waiting == 0

        remaining = DEADLINE - (time.monotonic() - chaos.started)
        await until(every_report_filed, remaining, "every report to be filed", chaos)
        await until(every_ladder_climbed, remaining, "every case to climb the ladder", chaos)
        await until(outbox_drained, remaining, "the outbox to drain", chaos)
        why = chaos.why(workers)

        # Every report is exactly one case.
        filed = await cases_of(sessions, sent)
        assert sorted(filed) == sorted(set(sent)), why
        assert all(len(ids) == 1 for ids in filed.values()), why

        # Every case climbed each rung once, in order, and ran out of ladder once.
        timelines = await climbs(sessions)
        assert len(timelines) == len(sent), why
        for case_id, (levels, exhausted) in timelines.items():
            order = [LEVELS.index(level) for level in levels]
            assert order == sorted(set(order)), f"case {case_id} climbed {levels}; {why}"
            assert levels and levels[-1] == "leadership", f"case {case_id}: {levels}; {why}"
            assert exhausted == 1, f"case {case_id} ran out of ladder {exhausted} times; {why}"

        # No chat got any message twice (a second receipt, a second card…), and every
        # receipt answers a report that was sent.
        assert server.duplicates() == [], why
        answered = {
            (m.chat_id, m.reply_to_message_id)
            for m in server.bot_messages()
            if m.chat_id in resident_chats and m.reply_to_message_id is not None
        }
        assert answered <= set(sent), why
        print(why)  # the run's timeline, for `pytest -s`
    finally:
        for worker in workers:
            await worker.stop()
        await engine.dispose()


async def cases_of(
    sessions: async_sessionmaker[AsyncSession], sent: list[tuple[int, int]]
) -> dict[tuple[int, int], list[int]]:
    """The cases filed for each report, by (chat, message id) of the report."""
    async with sessions() as session:
        rows = (
            await session.execute(select(Case.id, Case.source_chat_id, Case.source_message_id))
        ).all()
    out: dict[tuple[int, int], list[int]] = {}
    for case_id, chat, message_id in rows:
        if message_id is not None and (chat, message_id) in sent:
            out.setdefault((chat, message_id), []).append(case_id)
    return out


async def climbs(sessions: async_sessionmaker[AsyncSession]) -> dict[int, tuple[list[str], int]]:
    """Each case's rungs reached by escalation, in order, and its count of ladder ends."""
    async with sessions() as session:
        stmt = select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.to_level).order_by(CaseEvent.id)
        events = (await session.execute(stmt)).all()
    out: dict[int, tuple[list[str], int]] = {}
    for case_id, kind, to_level in events:
        levels, exhausted = out.get(case_id, ([], 0))
        if kind == "escalated" and to_level is not None:
            levels.append(to_level)
        if kind == "ladder_exhausted":
            exhausted += 1
        out[case_id] = (levels, exhausted)
    return out
