"""Benchmark of the deadline scheduler; writes the "Scheduler" section of BENCHMARKS.md.

Run from the repository root (PostgreSQL and Redis as for the tests)::

    .venv/bin/python -m bench.scheduler_bench            # or: bench/run scheduler
    .venv/bin/python -m bench.scheduler_bench --quick    # small sizes, writes nothing

What it measures, against the targets of the "never misses, never doubles" issue, each
side by side with APScheduler 3 (the scheduler behind python-telegram-bot's JobQueue) in the
same run:

* **rebuild** — 100,000 open cases in PostgreSQL: the time a restarted worker takes to
  rebuild its deadline index from the cases table (in-process heap, and the shared Redis
  sorted set), and the resident memory the in-process index adds; versus
  `AsyncIOScheduler.add_job` of 100,000 date jobs (target: ≤ 5 s, and less than half of
  APScheduler's memory);
* **burst** — 1,000 cases whose acknowledge deadline is the same instant: the lateness of
  each escalation's commit (transition, event and outbox rows committed, minus the due
  time), p50 / p99 / max, with one worker (in-process index) and with three worker
  processes sharing PostgreSQL and the Redis index; for reference, the same burst fired one
  transaction per case (`fire_due`), and APScheduler firing 1,000 *empty* jobs due at one
  instant (target: p99 ≤ 150 ms, ahead of APScheduler).

Every measurement runs in a fresh interpreter (`--child …`), so memory figures start from the
same baseline and no run warms another's caches. Workers are started before the burst is
due, warmed by firing one case of their own, and wake on their own clock, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TextIO

from bench.postgres import create_database, drop_database
from bench.sections import replace_section

ROOT: Final = Path(__file__).resolve().parent.parent
BENCHMARKS: Final = ROOT / "BENCHMARKS.md"
COMMAND: Final = ".venv/bin/python -m bench.scheduler_bench"
SECTION: Final = "## Scheduler"
ORG_FILE: Final = ROOT / "bot" / "demo_org.yaml"
GRID: Final = "baoyuzhi-1"

REDIS_URL: Final = os.environ.get(
    "GRIDCALL_BENCH_REDIS_URL",
    os.environ.get("GRIDCALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
)

TARGET_REBUILD_S: Final = 5.0
TARGET_P99_MS: Final = 150.0
SWEEP_GRACE: Final = timedelta(seconds=2)  # as bot/app.py wires a shared index
POOL_WARM: Final = 5  # SQLAlchemy's default pool size


@dataclass(frozen=True)
class Sizes:
    open_cases: int
    burst: int
    workers: int
    lead: float  # seconds between seeding a burst and its deadline: the workers start meanwhile
    baseline: bool  # also fire the burst one transaction per case
    repeat: int  # runs of each burst; the one with the median p99 is reported

    @classmethod
    def full(cls) -> Sizes:
        return cls(open_cases=100_000, burst=1_000, workers=3, lead=12.0, baseline=True, repeat=3)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(open_cases=2_000, burst=100, workers=3, lead=5.0, baseline=False, repeat=1)


def rss_mb() -> float:
    """Resident set size of this process now, in MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the value below which a fraction q of the values lie."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def index_mb(index: Any) -> float:
    """What the in-process index's own objects take (a dict of floats and a heap of
    tuples): the resident set also keeps what the allocator retained from the fetch."""
    due, heap = index._due, index._heap
    size = sys.getsizeof(due) + sys.getsizeof(heap)
    size += sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in due.items())
    size += sum(sys.getsizeof(t) for t in heap)
    return float(size) / 1e6


def lateness_stats(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50": percentile(values_ms, 0.50),
        "p99": percentile(values_ms, 0.99),
        "max": max(values_ms),
    }


# --- the database -----------------------------------------------------------------------


def bench_policy() -> dict[str, Any]:
    """An hour to acknowledge and no reminders: after the burst climbs, nothing else falls
    due while the bench runs."""
    from org.policy import Policy

    hour = timedelta(hours=1)
    policy = Policy(
        ack={"urgent": hour, "normal": hour, "low": hour},
        resolve={"urgent": 30 * hour, "normal": 30 * hour, "low": 30 * hour},
        remind_at=None,
    )
    return policy.to_json()


async def prepare(url: str) -> None:
    from org.file import load_org
    from storage.db import create_engine, migrate, sessionmaker
    from storage.org_import import import_org

    engine = create_engine(url)
    try:
        await migrate(engine)
        async with sessionmaker(engine)() as session, session.begin():
            await import_org(session, load_org(ORG_FILE))
    finally:
        await engine.dispose()


async def seed_cases(url: str, dues: Sequence[datetime], tag: str) -> list[int]:
    """Dispatched cases waiting at the grid, one per due time; returns their ids."""
    from sqlalchemy import select

    from storage.db import create_engine, sessionmaker
    from storage.models import Case

    engine = create_engine(url)
    policy = bench_policy()
    created = datetime.now(UTC) - timedelta(hours=1)
    rows = [
        {
            "number": f"{tag}-{i:06d}",
            "version": 2,
            "status": "dispatched",
            "reporter_id": 7001,
            "reporter_name": "陈阿姨",
            "source_chat_id": -1002001,
            "source_message_id": i + 1,
            "text": f"{i}号楼门口的路灯坏了三天",
            "photos": [],
            "category": "municipal",
            "confidence": 0.9,
            "priority": "normal",
            "grid_id": GRID,
            "level": "grid",
            "current_unit_id": GRID,
            "policy": policy,
            "ack_due_at": due,
            "resolve_due_at": created + timedelta(hours=30),
            "created_at": created,
            "updated_at": created,
            "next_due_at": due,
            "reminded": [],
            "level_since": created,
        }
        for i, due in enumerate(dues)
    ]
    try:
        async with sessionmaker(engine)() as session, session.begin():
            table = Case.__table__
            for start in range(0, len(rows), 5_000):
                await session.execute(table.insert(), rows[start : start + 5_000])  # type: ignore[attr-defined]
        async with sessionmaker(engine)() as session:
            stmt = select(Case.id).where(Case.number.like(f"{tag}-%")).order_by(Case.id)
            return list((await session.execute(stmt)).scalars())
    finally:
        await engine.dispose()


async def burst_outcome(url: str, ids: Sequence[int]) -> dict[str, int]:
    """What the database holds for the burst: escalations, cards, and any double."""
    from sqlalchemy import func, select

    from storage.db import create_engine, sessionmaker
    from storage.models import Case, CaseEvent, Outbox

    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            climbs = (
                await session.execute(
                    select(CaseEvent.case_id, func.count())
                    .where(CaseEvent.kind == "escalated", CaseEvent.case_id.in_(list(ids)))
                    .group_by(CaseEvent.case_id)
                )
            ).all()
            cards = (
                await session.execute(
                    select(
                        func.count(Outbox.id), func.count(func.distinct(Outbox.dedupe_key))
                    ).where(Outbox.case_id.in_(list(ids)))
                )
            ).one()
            moved = (
                await session.execute(
                    select(func.count(Case.id)).where(
                        Case.id.in_(list(ids)), Case.level == "community"
                    )
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return {
        "escalated": len(climbs),
        "escalated_twice": sum(1 for _, n in climbs if n > 1),
        "outbox_rows": int(cards[0]),
        "outbox_keys": int(cards[1]),
        "at_community": int(moved),
    }


async def escalated_count(url: str, ids: Sequence[int]) -> int:
    return (await burst_outcome(url, ids))["escalated"]


# --- children: each measurement in a fresh interpreter ----------------------------------


def run_child(args: Sequence[str], timeout: float = 600) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scheduler_bench", "--child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


async def child_rebuild_memory(url: str) -> dict[str, Any]:
    """A restarted worker's `Scheduler.start()` with the in-process index."""
    from sqlalchemy import text

    from escalation.clock import SystemClock
    from escalation.scheduler import MemoryDeadlineIndex, Scheduler
    from storage import cases
    from storage.db import create_engine, sessionmaker

    engine = create_engine(url)
    sessions = sessionmaker(engine)
    async with sessions() as session:
        await session.execute(text("select 1"))  # connected, dialect initialised

    async def rebuild() -> list[tuple[int, datetime]]:
        async with sessions() as session:
            return await cases.pending_deadlines(session)

    async def unused(*_: Any) -> Any:
        raise AssertionError("nothing fires while rebuilding")

    index = MemoryDeadlineIndex()
    scheduler = Scheduler(index, SystemClock(), unused, unused, rebuild)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    held = await scheduler.start()
    seconds = time.perf_counter() - started
    gc.collect()
    after = rss_mb()
    await engine.dispose()
    return {
        "seconds": seconds,
        "entries": held,
        "rss_mb": after - before,
        "peak_mb": peak_rss_mb() - before,
        "index_mb": index_mb(index),
    }


async def child_rebuild_redis(url: str, redis_url: str, key: str) -> dict[str, Any]:
    """The same rebuild into the shared Redis sorted set (its memory lives in Redis)."""
    from redis.asyncio import Redis
    from sqlalchemy import text

    from escalation.clock import SystemClock
    from escalation.redis_index import RedisDeadlineIndex
    from escalation.scheduler import Scheduler
    from storage import cases
    from storage.db import create_engine, sessionmaker

    engine = create_engine(url)
    sessions = sessionmaker(engine)
    redis = Redis.from_url(redis_url)
    await redis.ping()
    async with sessions() as session:
        await session.execute(text("select 1"))

    async def rebuild() -> list[tuple[int, datetime]]:
        async with sessions() as session:
            return await cases.pending_deadlines(session)

    async def unused(*_: Any) -> Any:
        raise AssertionError("nothing fires while rebuilding")

    scheduler = Scheduler(RedisDeadlineIndex(redis, key), SystemClock(), unused, unused, rebuild)
    started = time.perf_counter()
    held = await scheduler.start()
    seconds = time.perf_counter() - started
    usage = await redis.memory_usage(key)
    await redis.aclose()
    await engine.dispose()
    return {"seconds": seconds, "entries": held, "redis_mb": (usage or 0) / 1e6}


async def child_apscheduler_add(count: int) -> dict[str, Any]:
    """APScheduler 3, running, takes `count` date jobs (python-telegram-bot's JobQueue
    calls `add_job` on a running `AsyncIOScheduler` the same way)."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start()

    async def deadline(case_id: int) -> None:
        return None

    rng = random.Random(1)
    base = datetime.now(UTC) + timedelta(days=1)
    dues = [base + timedelta(seconds=rng.uniform(0, 6 * 86_400)) for _ in range(count)]
    await asyncio.sleep(0)
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    for case_id, due in enumerate(dues):
        scheduler.add_job(deadline, "date", run_date=due, args=[case_id], id=str(case_id))
    seconds = time.perf_counter() - started
    await asyncio.sleep(0)
    gc.collect()
    after = rss_mb()
    scheduler.shutdown(wait=False)
    return {
        "seconds": seconds,
        "entries": count,
        "rss_mb": after - before,
        "peak_mb": peak_rss_mb() - before,
    }


async def child_apscheduler_burst(count: int, lead: float) -> dict[str, Any]:
    """APScheduler 3 firing `count` empty jobs due at the same instant: lateness of each
    job's start (an empty job has nothing to commit)."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start()
    lateness: list[float] = []
    done = asyncio.Event()
    due = datetime.now(UTC) + timedelta(seconds=lead)
    due_ts = due.timestamp()

    async def deadline(case_id: int) -> None:
        lateness.append((time.time() - due_ts) * 1000)
        if len(lateness) == count:
            done.set()

    for case_id in range(count):
        scheduler.add_job(deadline, "date", run_date=due, args=[case_id], misfire_grace_time=None)
    await asyncio.wait_for(done.wait(), timeout=lead + 60)
    scheduler.shutdown(wait=False)
    return lateness_stats(lateness)


async def child_worker(
    url: str, mode: str, redis_url: str, key: str, warm_id: int, out: TextIO
) -> None:
    """A worker as `bot/app.py` wires one: engine, org, notifier, scheduler (batch firing
    unless `mode` is "single"; the shared Redis index when `mode` is "redis"). Each
    committed case is written to `out` as "id commit_time" the moment it commits.

    Modes: "memory" and "redis" are the production wiring; "batch" fires in batches but
    only once the deadline has come (no working ahead); "single" fires one case per
    transaction."""
    from redis.asyncio import Redis
    from sqlalchemy import text

    from escalation.batch import PreparedBatch, fire_batch, prepare_batch
    from escalation.clock import SystemClock
    from escalation.engine import fire_due
    from escalation.redis_index import RedisDeadlineIndex
    from escalation.scheduler import DeadlineIndex, MemoryDeadlineIndex, Scheduler
    from handlers.context import Services
    from handlers.notify import CaseNotifier
    from storage import cases
    from storage.db import create_engine, sessionmaker
    from storage.org_import import load_view
    from triage.classifier import classify

    engine = create_engine(url)
    sessions = sessionmaker(engine)
    async with sessions() as session:
        org = await load_view(session)
    assert org is not None
    clock = SystemClock()
    notifier = CaseNotifier(Services(sessions=sessions, clock=clock, org=org, classify=classify))

    def record(ids: Any) -> None:
        stamp = time.time()
        out.write("".join(f"{case_id} {stamp}\n" for case_id in ids))

    async def fire(case_id: int, now: datetime) -> datetime | None:
        due = await fire_due(sessions, case_id, org, now, notifier)
        record([case_id])
        return due

    async def committed(results: dict[int, datetime | None]) -> None:
        record(results)

    def stamped(on_commit: Any) -> Any:
        async def both(results: dict[int, datetime | None]) -> None:
            await committed(results)
            if on_commit is not None:
                await on_commit(results)

        return both

    async def fire_many(ids: list[int], now: datetime, on_commit: Any) -> Any:
        return await fire_batch(sessions, ids, org, now, notifier, on_commit=stamped(on_commit))

    class Stamped:
        """A prepared batch whose commit is stamped, as `fire_many`'s are."""

        def __init__(self, inner: PreparedBatch) -> None:
            self.inner = inner
            self.ids = inner.ids

        async def commit(self, on_commit: Any = None) -> Any:
            return await self.inner.commit(stamped(on_commit))

    async def prepare(ids: list[int], at: datetime) -> Stamped:
        return Stamped(await prepare_batch(sessions, ids, org, at, notifier))

    async def sweep(now: datetime) -> list[int]:
        async with sessions() as session:
            return await cases.due_case_ids(session, now)

    async def rebuild() -> list[tuple[int, datetime]]:
        async with sessions() as session:
            return await cases.pending_deadlines(session)

    index: DeadlineIndex
    redis = None
    if mode == "redis":
        redis = Redis.from_url(redis_url)
        index = RedisDeadlineIndex(redis, key)
    else:
        index = MemoryDeadlineIndex()
    scheduler = Scheduler(
        index,
        clock,
        fire,
        sweep,
        rebuild,
        fire_batch=None if mode == "single" else fire_many,
        prepare_batch=prepare if mode in ("memory", "redis") else None,
        sweep_grace=SWEEP_GRACE if mode == "redis" else timedelta(0),
    )

    # Warm up as a running worker is: its connection pool filled (intake, sender and
    # scheduler each hold connections), SQL compiled, templates loaded.
    async def hold_connection() -> None:
        async with sessions() as session:
            await session.execute(text("select 1"))
            await asyncio.sleep(0.05)

    await asyncio.gather(*(hold_connection() for _ in range(POOL_WARM)))
    await fire_batch(sessions, [warm_id], org, clock.now(), notifier)
    await fire_due(sessions, warm_id, org, clock.now(), notifier)
    if mode != "redis":
        await scheduler.start()  # a shared index is rebuilt once, by the bench
    print(json.dumps({"ready": time.time()}), flush=True)
    try:
        await scheduler.run()
    finally:
        if redis is not None:
            await redis.aclose()


# --- measurements -----------------------------------------------------------------------


@dataclass
class BurstRun:
    label: str
    stats: dict[str, float]
    outcome: dict[str, int]
    ready_margin: float  # seconds between the last worker being ready and the deadline
    p99_all: list[float] = field(default_factory=list)  # every repeat's p99, when repeated


async def run_burst(
    url: str, label: str, mode: str, workers: int, sizes: Sizes, key: str
) -> BurstRun:
    """Seed a burst due `lead` seconds from now, start the workers, wait for every case
    to climb, and read each case's commit time from the workers' logs."""
    from redis.asyncio import Redis

    from escalation.redis_index import RedisDeadlineIndex

    tag = f"B{uuid.uuid4().hex[:6]}"
    due = datetime.now(UTC) + timedelta(seconds=sizes.lead)
    ids = await seed_cases(url, [due] * sizes.burst, tag)
    warm = await seed_cases(url, [datetime.now(UTC) - timedelta(seconds=1)] * workers, tag + "w")
    if mode == "redis":
        redis = Redis.from_url(REDIS_URL)
        try:
            await RedisDeadlineIndex(redis, key).add_many(dict.fromkeys(ids, due))
        finally:
            await redis.aclose()
    folder = Path(tempfile.mkdtemp(prefix="gridcall-bench-"))
    procs: list[asyncio.subprocess.Process] = []
    outs: list[Path] = []
    try:
        for n in range(workers):
            out = folder / f"worker{n}.log"
            outs.append(out)
            args = ["worker", url, mode, REDIS_URL, key, str(warm[n]), str(out)]
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bench.scheduler_bench",
                    "--child",
                    *args,
                    cwd=ROOT,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        ready = []
        for proc in procs:
            assert proc.stdout is not None
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{label}: a worker died while starting")
            ready.append(json.loads(line)["ready"])
        margin = due.timestamp() - max(ready)
        deadline = time.monotonic() + sizes.lead + 120
        while await escalated_count(url, ids) < len(ids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{label}: the burst did not complete")
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # the last chunk's log line
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await asyncio.wait_for(proc.wait(), timeout=10)
    first_commit: dict[int, float] = {}
    for out in outs:
        for entry in out.read_text().splitlines():
            case_id, stamp = entry.split()
            first_commit.setdefault(int(case_id), float(stamp))
            first_commit[int(case_id)] = min(first_commit[int(case_id)], float(stamp))
    lateness = [(first_commit[i] - due.timestamp()) * 1000 for i in ids]
    outcome = await burst_outcome(url, ids)
    return BurstRun(label, lateness_stats(lateness), outcome, margin)


async def measure(sizes: Sizes) -> dict[str, Any]:
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    await redis.ping()
    prefix = f"gridcall-bench-{uuid.uuid4().hex[:8]}"
    name, url = await create_database()
    results: dict[str, Any] = {"sizes": sizes.__dict__}
    try:
        await prepare(url)
        rng = random.Random(7)
        start = datetime.now(UTC) + timedelta(days=1)
        dues = [
            start + timedelta(seconds=rng.uniform(0, 6 * 86_400)) for _ in range(sizes.open_cases)
        ]
        seeded = time.perf_counter()
        await seed_cases(url, dues, "OPEN")
        print(f"seeded {sizes.open_cases:,} open cases in {time.perf_counter() - seeded:.1f} s")

        n = sizes.open_cases
        results["rebuild_memory"] = run_child(["rebuild-memory", url])
        print("rebuild, in-process index:", results["rebuild_memory"])
        key = f"{prefix}:deadlines:ack"
        results["rebuild_redis"] = run_child(["rebuild-redis", url, REDIS_URL, key])
        print("rebuild, Redis index:     ", results["rebuild_redis"])
        results["apscheduler_add"] = run_child(["apscheduler-add", str(n)])
        print("APScheduler add_job:      ", results["apscheduler_add"])

        scenarios = [
            ("1 worker, batch", "memory", 1),
            (f"{sizes.workers} workers, batch, Redis", "redis", sizes.workers),
        ]
        if sizes.baseline:
            scenarios.append(("1 worker, batch, not working ahead", "batch", 1))
            scenarios.append(("1 worker, one transaction per case", "single", 1))
        chosen: list[BurstRun] = []
        for label, mode, count in scenarios:
            tries = []
            for _ in range(sizes.repeat):
                run = await run_burst(url, label, mode, count, sizes, key)
                print(
                    f"burst, {label}: {run.stats} {run.outcome} ready {run.ready_margin:.1f}s early"
                )
                tries.append(run)
            median = sorted(tries, key=lambda r: r.stats["p99"])[len(tries) // 2]
            median.p99_all = [r.stats["p99"] for r in tries]
            chosen.append(median)
        results["bursts"] = [run.__dict__ for run in chosen]
        aps = [
            run_child(["apscheduler-burst", str(sizes.burst), "2.0"]) for _ in range(sizes.repeat)
        ]
        for stats in aps:
            print("burst, APScheduler (empty jobs):", stats)
        results["apscheduler_burst"] = sorted(aps, key=lambda r: r["p99"])[len(aps) // 2]
        results["apscheduler_burst"]["p99_all"] = [r["p99"] for r in aps]
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await drop_database(name)
    return results


# --- the report -------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "date": dt.date.today().isoformat(),
    }


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌ missed"


def render_section(results: dict[str, Any], host: dict[str, str], command: str) -> str:
    mem, red, aps = results["rebuild_memory"], results["rebuild_redis"], results["apscheduler_add"]
    bursts = results["bursts"]
    aps_burst = results["apscheduler_burst"]
    n = results["sizes"]["open_cases"]
    burst = results["sizes"]["burst"]
    lines = [
        SECTION,
        "",
        f"Measured {host['date']} on {host['nproc']} CPUs ({host['cpu']}), Python "
        f"{host['python']}, PostgreSQL and Redis on the same machine, with:",
        "",
        "```bash",
        command,
        "```",
        "",
        f"**Rebuild** — {n:,} open cases in PostgreSQL; a restarted worker rebuilds its index "
        "from the cases table (`Scheduler.start()`), each in a fresh interpreter; memory is the "
        "growth of the process's resident set once the index is built. Target: ≤ "
        f"{TARGET_REBUILD_S:g} s, and less than half of APScheduler's memory.",
        "",
        f"| | time | memory held | peak during | ≤ {TARGET_REBUILD_S:g} s | < ½ APScheduler |",
        "|---|---:|---:|---:|---|---|",
        f"| in-process index (heap) | {mem['seconds']:.2f} s | {mem['rss_mb']:.1f} MB "
        f"(its objects: {mem.get('index_mb', 0.0):.1f} MB) "
        f"| {mem['peak_mb']:.1f} MB | {verdict(mem['seconds'] <= TARGET_REBUILD_S)} "
        f"| {verdict(mem['rss_mb'] < aps['rss_mb'] / 2)} |",
        f"| Redis index (sorted set) | {red['seconds']:.2f} s | {red['redis_mb']:.1f} MB in "
        f"Redis | — | {verdict(red['seconds'] <= TARGET_REBUILD_S)} | — |",
        f"| APScheduler 3 `add_job` × {aps['entries']:,} | {aps['seconds']:.2f} s "
        f"| {aps['rss_mb']:.1f} MB | {aps['peak_mb']:.1f} MB | reference | |",
        "",
        f"**Burst** — {burst:,} cases whose acknowledge deadline is the same instant. Lateness "
        "= the moment the case's escalation (guarded transition, event and outbox row) has "
        "committed, minus the deadline; the workers were started and warmed before it. "
        f"Target: p99 ≤ {TARGET_P99_MS:g} ms, ahead of APScheduler firing as many empty jobs.",
        "",
        f"| | p50 | p99 | max | p99 of each run | escalated once | p99 ≤ {TARGET_P99_MS:g} ms "
        "| p99 < APScheduler's |",
        "|---|---:|---:|---:|---|---:|---|---|",
    ]

    def each(p99s: list[float]) -> str:
        return " / ".join(f"{p:.0f}" for p in p99s) + " ms" if p99s else "—"

    for run in bursts:
        stats, outcome = run["stats"], run["outcome"]
        once = outcome["escalated"] == burst and outcome["escalated_twice"] == 0
        once = once and outcome["outbox_rows"] == outcome["outbox_keys"]
        target = (
            "reference | "
            if "per case" in run["label"] or "not working ahead" in run["label"]
            else f"{verdict(stats['p99'] <= TARGET_P99_MS)} "
            f"| {verdict(stats['p99'] < aps_burst['p99'])}"
        )
        lines.append(
            f"| {run['label']} | {stats['p50']:.0f} ms | {stats['p99']:.0f} ms "
            f"| {stats['max']:.0f} ms | {each(run['p99_all'])} | {outcome['escalated']:,}/{burst:,}"
            f"{'' if once else ' (doubles!)'} | {target} |"
        )
    repeat = results["sizes"]["repeat"]
    lines += [
        f"| APScheduler 3, {burst:,} empty jobs | {aps_burst['p50']:.0f} ms "
        f"| {aps_burst['p99']:.0f} ms | {aps_burst['max']:.0f} ms "
        f"| {each(aps_burst['p99_all'])} | — | reference | |",
        "",
        f"Each burst ran {repeat} time(s); the run with the median p99 is shown. "
        "How: the scheduler works ahead. Two seconds before a deadline it claims the entries "
        "due then, 200 at a time (a Redis Lua pop when shared, so each worker takes its own "
        "slices), and has the engine decide each case (`escalation.batch.prepare_batch`: the "
        "real `engine.tick` and card rendering, no lock held). At the instant only the commit "
        "is left: per chunk one `SELECT … FOR UPDATE` in id order, one guarded "
        "`UPDATE … FROM unnest(…) WHERE version = <read> RETURNING id`, one insert of events "
        "and one of outbox rows, chunks side by side. A case touched between deciding and "
        "committing fails its guard and is fired afresh. The lateness left is database work "
        "on CPUs the workers share with PostgreSQL. The reference rows show the same burst "
        "when nothing could be prepared (batches decided and committed at the deadline, as "
        "after a restart with everything overdue: the engine's Python, about 0.8 ms a case, "
        "dominates) and fired one transaction per case (`fire_due`).",
        "",
    ]
    slower = [
        r["label"]
        for r in bursts
        if "per case" not in r["label"] and "not working ahead" not in r["label"]
    ]
    slower = [label for label in slower if _p99(bursts, label) >= aps_burst["p99"]]
    if slower:
        lines += [
            f"Missed — ahead of APScheduler: here APScheduler starts {burst:,} empty jobs with "
            f"p99 {aps_burst['p99']:.0f} ms (the issue's ~170 ms was not reproduced on this "
            "machine). An empty job only has to start; each escalation must also commit its "
            "guarded transition, event and outbox row, which no scheduler can do before the "
            "deadline. That commit is the lateness above.",
            "",
        ]
    return "\n".join(lines)


def _p99(bursts: list[dict[str, Any]], label: str) -> float:
    return float(next(r["stats"]["p99"] for r in bursts if r["label"] == label))


def write_section(section: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the Scheduler section of BENCHMARKS.md, keeping other sections."""
    replace_section(path, SECTION, section)


def child_main(args: Sequence[str]) -> None:
    kind, rest = args[0], list(args[1:])
    result: dict[str, Any] | None
    if kind == "rebuild-memory":
        result = asyncio.run(child_rebuild_memory(rest[0]))
    elif kind == "rebuild-redis":
        result = asyncio.run(child_rebuild_redis(rest[0], rest[1], rest[2]))
    elif kind == "apscheduler-add":
        result = asyncio.run(child_apscheduler_add(int(rest[0])))
    elif kind == "apscheduler-burst":
        result = asyncio.run(child_apscheduler_burst(int(rest[0]), float(rest[1])))
    elif kind == "worker":
        url, mode, redis_url, key, warm, out_path = rest
        with open(out_path, "a", buffering=1) as out:  # line-buffered: killed, not stopped
            asyncio.run(child_worker(url, mode, redis_url, key, int(warm), out))
        result = None
    else:
        raise SystemExit(f"unknown child {kind!r}")
    if result is not None:
        print(json.dumps(result), flush=True)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Measure, print the section and (unless --quick or --no-write) write BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes; writes nothing")
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone"
    )
    parser.add_argument("--open-cases", type=int, help="open cases to rebuild from")
    parser.add_argument("--burst", type=int, help="deadlines due at the same instant")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child)
        return {}
    sizes = Sizes.quick() if args.quick else Sizes.full()
    if args.open_cases is not None:
        sizes = replace(sizes, open_cases=args.open_cases)
    if args.burst is not None:
        sizes = replace(sizes, burst=args.burst)
    results = asyncio.run(measure(sizes))
    command = " ".join([COMMAND, *(argv if argv is not None else sys.argv[1:])])
    section = render_section(results, machine(), command)
    print()
    print(section)
    if not (args.quick or args.no_write):
        write_section(section)
        print(f"written to {BENCHMARKS}")
    return results


if __name__ == "__main__":
    main()
