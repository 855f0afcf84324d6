"""Benchmark of the indicators and reports; writes the "Reports" section of BENCHMARKS.md.

Run from the repository root (PostgreSQL as for the tests, when it is reachable)::

    .venv/bin/python -m bench.report_bench              # or: bench/run report
    .venv/bin/python -m bench.report_bench --quick      # 2,000 cases, SQLite, writes nothing
    .venv/bin/python -m bench.report_bench --no-write   # full run, print only

The history: the org of `examples/haizhu.yaml` (four grids in two streets, ten departments)
and 100,000 cases filed over the year before a fixed "now", across its grids and the
categories, each with the event log the bot would have written (filed, dispatched, some
returned, some missing the acknowledge deadline and climbing with a system `escalated
ack_overdue` event, acknowledged, some missing the resolve deadline, resolved, closed by the
reporter with good/ok or by the system for silence, some reopened by an unhappy reporter
and worked again, and the recent ones — plus a few stuck ones — still open). It is seeded
(the same history every run) and written with SQLAlchemy Core bulk inserts (`executemany`)
into a freshly migrated database: SQLite in a temporary directory, and PostgreSQL in a
throwaway database when the admin DSN of the tests is reachable.

What it measures, each in a fresh interpreter (`--child …`) so that memory figures start
from the same baseline and no measurement warms another's caches:

* `gridcall report --period year --format json` — the function the CLI calls:
  `write(await load_report(session, org, period, now, scope), "json")`;
* the same with `--format html` (inline SVG charts);
* what `/stats` computes (`handlers.stats.compute_answer`, with the PNG chart) for a street
  over `month`, asked by that street's staff, and for the whole org over `year`, asked by a
  leader — the first call in the process, and a second (warm) call.

Each gives the wall time and the growth of the peak resident set (VmHWM, reset before the
call) over the resident set before it. Targets: a yearly report of 100,000 cases in ≤ 30 s
and ≤ 1 GB; /stats for a month of a street in ≤ 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from bench.postgres import ADMIN_DSN, create_database, drop_database
from bench.sections import cpu_model, replace_section, verdict

ROOT: Final = Path(__file__).resolve().parent.parent
BENCHMARKS: Final = ROOT / "BENCHMARKS.md"
COMMAND: Final = ".venv/bin/python -m bench.report_bench"
SECTION: Final = "## Reports"
ORG_FILE: Final = ROOT / "examples" / "haizhu.yaml"

NOW: Final = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SEED: Final = 2026
CHUNK: Final = 5_000
STREET: Final = "haizhuang"
STREET_STAFF: Final = 5008  # 黄街道, street_staff of haizhuang
LEADER: Final = 5009  # 李书记

TARGET_REPORT_S: Final = 30.0
TARGET_REPORT_MB: Final = 1000.0
TARGET_STATS_S: Final = 2.0


@dataclass(frozen=True)
class Measure:
    """One measured call, as the child reports it."""

    key: str
    label: str
    seconds: float
    peak_mb: float
    warm_seconds: float | None
    cases: int
    output: str  # what came out: bytes of the report, or the chart's size

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measure:
        return cls(**data)


@dataclass(frozen=True)
class Run:
    """Everything measured against one database."""

    backend: str
    cases: int
    events: int
    build_seconds: float
    open_cases: int
    measures: tuple[Measure, ...]


@dataclass(frozen=True)
class Results:
    quick: bool
    runs: tuple[Run, ...]
    postgres_note: str | None  # why there is no PostgreSQL run, when there is none


# --- memory ----------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def reset_peak() -> bool:
    """Reset the kernel's peak resident set (VmHWM) of this process, where Linux allows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e3  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


# --- the history -----------------------------------------------------------------------


@dataclass(frozen=True)
class OrgShape:
    """What the generator needs of the org: grids, their ladders, staff, the policy."""

    prefix: str
    grids: tuple[str, ...]
    parents: dict[str, str]
    departments: dict[str, str]  # category -> department unit id
    leadership: str | None
    staff: dict[str, tuple[tuple[int, str], ...]]  # unit id -> (telegram id, name)
    policy: dict[str, Any]
    category_priority: dict[str, str]
    levels: dict[str, str]  # unit id -> level, for the case row's `level` column


def org_shape() -> OrgShape:
    from org.file import load_org
    from storage.org_import import LEADERSHIP_ID, policy_of
    from triage.categories import CATEGORY_INFO

    org = load_org(ORG_FILE)
    units = org.all_units()
    parents = {u.id: u.parent_id for u in units if u.parent_id}
    grids = tuple(u.id for u in units if u.level == "grid")
    departments: dict[str, str] = {}
    for dep in org.departments:
        for category in dep.categories:
            departments[str(category)] = dep.id
    staff: dict[str, list[tuple[int, str]]] = {}
    for person in org.people:
        for unit_id in person.units:
            staff.setdefault(unit_id, []).append((person.telegram, person.name))
    leaders = tuple((p.telegram, p.name) for p in org.people if "leader" in p.roles)
    leadership = LEADERSHIP_ID if org.leadership is not None else None
    levels: dict[str, str] = {u.id: str(u.level) for u in units}
    levels |= {d.id: "department" for d in org.departments}
    if leadership is not None:
        levels[leadership] = "leadership"
    if leadership is not None:
        staff[leadership] = list(leaders)
    return OrgShape(
        prefix=org.case_prefix,
        grids=grids,
        parents=parents,
        departments=departments,
        leadership=leadership,
        staff={k: tuple(v) for k, v in staff.items()},
        policy=policy_of(org).to_json(),
        category_priority={str(c): str(i.priority) for c, i in CATEGORY_INFO.items()},
        levels=levels,
    )


CATEGORY_WEIGHTS: Final = {
    "city_management": 22,
    "municipal": 16,
    "environment": 12,
    "traffic": 10,
    "housing": 9,
    "public_security": 7,
    "livelihood": 7,
    "safety": 5,
    "public_health": 4,
    "enterprise": 3,
    "other": 5,
}
TEXTS: Final = (
    "{n}号楼门口的路灯坏了三天了",
    "小区东门垃圾堆了一个星期没人清理",
    "{n}号楼楼道里堆满杂物, 消防通道被堵",
    "路口红绿灯不亮, 早高峰很危险",
    "楼下餐馆油烟很大, 晚上噪音扰民",
    "人行道井盖松动, 有老人差点摔倒",
)
REASONS: Final = ("不归我们管", "属于隔壁网格", "需要部门处理")


@dataclass
class _State:
    """Where a case stands while its events are written."""

    status: str = "new"
    level: int = 0  # index into the case's ladder


@dataclass
class _Case:
    """One generated case: its row and its events, written as the bot would have."""

    row: dict[str, Any]
    events: list[dict[str, Any]]


def _ladder(shape: OrgShape, grid: str, category: str) -> list[str]:
    ladder = [grid]
    while ladder[-1] in shape.parents:
        ladder.append(shape.parents[ladder[-1]])
    if category in shape.departments:
        ladder.append(shape.departments[category])
    if shape.leadership is not None:
        ladder.append(shape.leadership)
    return ladder


def generate(count: int, shape: OrgShape, seed: int = SEED) -> list[_Case]:
    """`count` cases filed over the year before NOW, in filing order (see the docstring)."""
    rng = random.Random(seed)
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    grid_weights = [4, 3, 3, 5][: len(shape.grids)] + [3] * max(0, len(shape.grids) - 4)
    start = NOW - timedelta(days=365) + timedelta(hours=1)
    span = (NOW - start).total_seconds() - 3600
    cases: list[_Case] = []
    for i in range(count):
        filed = start + timedelta(seconds=span * (i + rng.random()) / count)
        grid = rng.choices(shape.grids, grid_weights)[0]
        category = rng.choices(categories, weights)[0]
        roll = rng.random()
        priority = "urgent" if roll < 0.04 else "low" if roll < 0.12 else "normal"
        if priority == "normal":
            priority = shape.category_priority.get(category, "normal")
        cases.append(_one_case(rng, shape, i + 1, filed, grid, category, priority))
    return cases


def _one_case(
    rng: random.Random,
    shape: OrgShape,
    case_id: int,
    filed: datetime,
    grid: str,
    category: str,
    priority: str,
) -> _Case:
    ack_s = float(shape.policy["ack"][priority])
    resolve_s = float(shape.policy["resolve"][priority])
    ladder = _ladder(shape, grid, category)
    reporter = 700_000 + rng.randrange(3_000)
    reporter_name = f"居民{reporter % 1000:03d}"
    events: list[dict[str, Any]] = []
    state = _State()

    def add(at: datetime, kind: str, **extra: Any) -> None:
        events.append(
            {
                "case_id": case_id,
                "at": at,
                "kind": kind,
                "actor_id": extra.get("actor_id"),
                "actor_name": extra.get("actor_name", "system"),
                "from_status": extra.get("from_status"),
                "to_status": extra.get("to_status"),
                "from_level": extra.get("from_level"),
                "to_level": extra.get("to_level"),
                "unit_id": extra.get("unit_id"),
                "note": extra.get("note"),
            }
        )

    def unit() -> str:
        return ladder[min(state.level, len(ladder) - 1)]

    def worker() -> tuple[int, str]:
        people = shape.staff.get(unit()) or ((5014, "管理员"),)
        return people[rng.randrange(len(people))]

    def climb(at: datetime, note: str, actor: tuple[int, str] | None = None) -> None:
        if state.level >= len(ladder) - 1:
            add(at, "ladder_exhausted", unit_id=unit(), note=note)
            return
        state.level += 1
        add(
            at,
            "escalated",
            actor_id=actor[0] if actor else None,
            actor_name=actor[1] if actor else "system",
            from_status=state.status,
            to_status="dispatched",
            unit_id=unit(),
            note=note,
        )
        state.status = "dispatched"

    text = TEXTS[case_id % len(TEXTS)].format(n=case_id % 40 + 1)
    add(
        filed,
        "filed",
        actor_id=reporter,
        actor_name=reporter_name,
        to_status="new",
        unit_id=grid,
        note=f"{category} 0.9",
    )
    add(filed, "dispatched", from_status="new", to_status="dispatched", unit_id=grid)
    state.status = "dispatched"
    resolve_due = filed + timedelta(seconds=resolve_s)
    stuck = rng.random() < 0.01  # left open however old: the overdue list
    t = filed
    level_since = filed
    ack_due: datetime | None = filed + timedelta(seconds=ack_s)

    def finish(status: str) -> _Case:
        last = max(e["at"] for e in events)
        open_ = status in ("dispatched", "acknowledged")
        row = {
            "id": case_id,
            "number": f"{shape.prefix}-{filed.year}-{case_id:06d}",
            "version": len(events),
            "status": status,
            "reporter_id": reporter,
            "reporter_name": reporter_name,
            "source_chat_id": -1002001,
            "source_message_id": case_id,
            "text": text,
            "photos": [],
            "lon": 113.27 + rng.random() * 0.03,
            "lat": 23.10 + rng.random() * 0.02,
            "category": category,
            "confidence": 0.9,
            "priority": priority,
            "grid_id": grid,
            "level": shape.levels.get(unit(), "grid"),
            "current_unit_id": unit(),
            "policy": shape.policy,
            "ack_due_at": ack_due if status == "dispatched" else None,
            "resolve_due_at": resolve_due,
            "acknowledged_at": next((e["at"] for e in events if e["kind"] == "acknowledged"), None),
            "acknowledged_by": None,
            "resolved_at": next((e["at"] for e in events if e["kind"] == "resolved"), None),
            "closed_at": last if status == "closed" else None,
            "rating": next(
                (e["note"] for e in events if e["kind"] == "closed" and e["actor_id"]), None
            ),
            "resolution_note": None,
            "created_at": filed,
            "updated_at": last,
            "reporter_count": 1,
            "next_due_at": (min(d for d in (ack_due, resolve_due) if d) if open_ else None),
            "reminded": [],
            "level_since": level_since,
            "return_count": sum(1 for e in events if e["kind"] == "returned"),
        }
        return _Case(row, [e for e in events if e["at"] <= NOW])

    # 回退: the grid says it is not theirs; the community takes it.
    if rng.random() < 0.04:
        t = filed + timedelta(minutes=rng.uniform(5, 40))
        if t >= NOW:
            return finish("dispatched")
        who = worker()
        reason = rng.choice(REASONS)
        add(t, "returned", actor_id=who[0], actor_name=who[1], unit_id=grid, note=reason)
        climb(t, reason, who)
        level_since = t
        ack_due = t + timedelta(seconds=ack_s)

    for work in (1, 2):  # the second pass is the rework after 不满意
        # 签收: most in time; some miss the deadline and climb (system, ack_overdue).
        while rng.random() < (0.14 if work == 1 else 0.05):
            assert ack_due is not None
            if ack_due >= NOW:
                return finish("dispatched")
            climb(ack_due, "ack_overdue")
            level_since = ack_due
            ack_due = level_since + timedelta(seconds=ack_s)
            if rng.random() < 0.7:
                break
        assert ack_due is not None
        acked = level_since + (ack_due - level_since) * min(0.98, rng.betavariate(1.3, 4))
        if acked >= NOW or (stuck and rng.random() < 0.5):
            return finish("dispatched")
        who = worker()
        add(
            acked,
            "acknowledged",
            actor_id=who[0],
            actor_name=who[1],
            from_status="dispatched",
            to_status="acknowledged",
            unit_id=unit(),
        )
        state.status = "acknowledged"
        ack_due = None
        # 办结: a few miss the resolve deadline first (system, resolve_overdue).
        resolved = acked + timedelta(seconds=resolve_s * rng.betavariate(1.5, 3.5))
        if rng.random() < 0.07:
            late = max(resolve_due, acked + timedelta(minutes=1))
            if late >= NOW:
                return finish("acknowledged")
            climb(late, "resolve_overdue")
            state.status = "acknowledged"
            level_since = late
            resolved = late + timedelta(seconds=resolve_s * rng.uniform(0.05, 0.5))
        if resolved >= NOW or stuck:
            return finish("acknowledged")
        who = worker()
        add(
            resolved,
            "resolved",
            actor_id=who[0],
            actor_name=who[1],
            from_status="acknowledged",
            to_status="resolved",
            unit_id=unit(),
        )
        state.status = "resolved"
        # 回访: the reporter judges, or stays silent and the system closes.
        answer = resolved + timedelta(hours=rng.uniform(0.5, 30))
        if work == 1 and rng.random() < 0.06:  # 不满意: reworked one level up
            if answer >= NOW:
                return finish("resolved")
            state.level = min(state.level + 1, len(ladder) - 1)
            add(
                answer,
                "reopened",
                actor_id=reporter,
                actor_name=reporter_name,
                from_status="resolved",
                to_status="dispatched",
                unit_id=unit(),
                note="bad",
            )
            state.status = "dispatched"
            level_since = answer
            ack_due = answer + timedelta(seconds=ack_s)
            continue
        if rng.random() < 0.7:
            if answer >= NOW:
                return finish("resolved")
            note = "good" if rng.random() < 0.72 else "ok"
            add(
                answer,
                "closed",
                actor_id=reporter,
                actor_name=reporter_name,
                from_status="resolved",
                to_status="closed",
                note=note,
            )
        else:
            silent = resolved + timedelta(days=3)
            if silent >= NOW:
                return finish("resolved")
            add(silent, "closed", from_status="resolved", to_status="closed", note="no_feedback")
        return finish("closed")
    return finish("closed")  # pragma: no cover - the loop always returns


async def build_history(url: str, count: int) -> tuple[int, int, int, float]:
    """Migrate, import the org and bulk-insert `count` cases: (cases, events, open, s)."""
    from sqlalchemy import insert

    from org.file import load_org
    from storage.db import create_engine, migrate, sessionmaker
    from storage.models import Case, CaseEvent
    from storage.org_import import import_org

    started = time.perf_counter()
    cases = generate(count, org_shape())
    engine = create_engine(url)
    try:
        await migrate(engine)
        async with sessionmaker(engine)() as session, session.begin():
            await import_org(session, load_org(ORG_FILE))
        rows = [c.row for c in cases]
        events = [e for c in cases for e in c.events]
        async with engine.begin() as conn:
            for i in range(0, len(rows), CHUNK):
                await conn.execute(insert(Case.__table__), rows[i : i + CHUNK])  # type: ignore[arg-type]
            for i in range(0, len(events), CHUNK):
                await conn.execute(insert(CaseEvent.__table__), events[i : i + CHUNK])  # type: ignore[arg-type]
        if url.startswith("postgresql"):
            async with engine.begin() as conn:
                from sqlalchemy import text

                await conn.execute(
                    text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :n)"), {"n": count}
                )
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    still_open = sum(1 for c in cases if c.row["status"] in ("dispatched", "acknowledged"))
    return len(rows), len(events), still_open, time.perf_counter() - started


# --- PostgreSQL --------------------------------------------------------------------------


async def create_postgres() -> tuple[str, str] | str:
    """(name, url) of a new throwaway database, or why there is none."""
    import asyncpg  # type: ignore[import-untyped]

    try:
        return await create_database()
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL not reachable at {ADMIN_DSN} ({exc})"


# --- children: each measurement in a fresh interpreter ----------------------------------

MEASURES: Final = {
    "json": "`gridcall report --period year --format json`",
    "html": "`gridcall report --period year --format html` (charts)",
    "stats_street": f"/stats {STREET} month (a street, PNG chart)",
    "stats_org": "/stats year (the whole org, PNG chart)",
    "open311": "`GET /open311/v2/requests.json` over HTTP (the last 90 days: the newest 1,000)",
}


async def child(key: str, url: str) -> dict[str, Any]:
    """Measure one call against the database at `url` (run in a fresh interpreter)."""
    from sqlalchemy import text

    from storage.db import create_engine, sessionmaker
    from storage.org_import import load_view

    engine = create_engine(url)
    sessions = sessionmaker(engine)
    async with sessions() as session:
        await session.execute(text("select 1"))  # connected, dialect initialised
        org = await load_view(session)
    assert org is not None

    if key in ("json", "html"):
        from reports.periods import parse_period
        from reports.report import load_report, resolve_scope, write_chunks

        target = Path(tempfile.mkdtemp(prefix="gridcall-report-")) / f"report.{key}"

        async def call() -> tuple[int, str]:
            async with sessions() as session:
                period = parse_period("year", NOW, org.timezone)
                report = await load_report(session, org, period, NOW, resolve_scope(org, None))
                with target.open("w", encoding="utf-8") as fh:  # as `--out FILE` does
                    for chunk in write_chunks(report, key):
                        fh.write(chunk)
            size = target.stat().st_size
            target.unlink()
            target.parent.rmdir()
            return report.org.cases, f"{size / 1e6:.1f} MB of {key}"

    elif key == "open311":
        import aiohttp

        from bot.open311_api import Open311Api

        api = Open311Api(sessions, ["bench-key-0123456789abcdef"], lambda: NOW)
        port = await api.start("127.0.0.1", 0)
        url = f"http://127.0.0.1:{port}/open311/v2/requests.json"

        async def call() -> tuple[int, str]:
            async with (
                aiohttp.ClientSession() as http,
                http.get(url, params={"api_key": "bench-key-0123456789abcdef"}) as response,
            ):
                body = await response.read()
            assert response.status == 200, body[:300]
            return len(json.loads(body)), f"{len(body) / 1e3:.0f} kB of JSON"

    else:
        from handlers.events import InboundEvent
        from handlers.stats import compute_answer
        from templates.render import Renderer

        user, args = (
            (STREET_STAFF, f"{STREET} month") if key == "stats_street" else (LEADER, "year")
        )
        person = org.person(user)
        event = InboundEvent(
            platform="telegram",
            chat_id=user,
            chat_type="private",
            user_id=user,
            user_name=person.name if person else "?",
            message_id=1,
            text=f"/stats {args}",
            command="stats",
            command_args=args,
        )
        renderer = Renderer("zh" if org.language.startswith("zh") else "en", org.timezone)

        async def call() -> tuple[int, str]:
            async with sessions() as session:
                answer = await compute_answer(session, org, renderer, event, NOW)
            assert answer.template == "stats", answer
            size = len(answer.photo or b"")
            return int(answer.context["cases"]), f"PNG {size / 1e3:.0f} kB"

    gc.collect()
    before = rss_mb()
    reset_peak()
    started = time.perf_counter()
    cases, output = await call()
    seconds = time.perf_counter() - started
    grown = peak_mb() - before
    warm: float | None = None
    if key.startswith("stats") or key == "open311":
        started = time.perf_counter()
        await call()
        warm = time.perf_counter() - started
    if key == "open311":
        await api.stop()
    await engine.dispose()
    return {
        "key": key,
        "label": MEASURES[key],
        "seconds": seconds,
        "peak_mb": grown,
        "warm_seconds": warm,
        "cases": cases,
        "output": output,
    }


def run_child(key: str, url: str) -> Measure:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.report_bench", "--child", key, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {key} failed:\n{proc.stderr[-3000:]}")
    return Measure.from_json(json.loads(proc.stdout.strip().splitlines()[-1]))


def measure_all(backend: str, url: str, count: int) -> Run:
    built = asyncio.run(build_history(url, count))
    print(
        f"[{backend}] {built[0]:,} cases, {built[1]:,} events written in {built[3]:.1f} s",
        file=sys.stderr,
    )
    measures = []
    for key in MEASURES:
        measured = run_child(key, url)
        print(
            f"[{backend}] {key}: {measured.seconds:.2f} s, +{measured.peak_mb:.0f} MB peak",
            file=sys.stderr,
        )
        measures.append(measured)
    return Run(backend, built[0], built[1], built[3], built[2], tuple(measures))


def run(quick: bool) -> Results:
    count = 2_000 if quick else 100_000
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="gridcall-report-bench-") as tmp:
        runs.append(measure_all("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", count))
    if quick:
        return Results(True, tuple(runs), "not in --quick")
    created = asyncio.run(create_postgres())
    if isinstance(created, str):
        return Results(False, tuple(runs), created)
    name, url = created
    try:
        runs.append(measure_all("PostgreSQL", url, count))
    finally:
        asyncio.run(drop_database(name))
    return Results(False, tuple(runs), None)


# --- the section -------------------------------------------------------------------------


def _mb(value: float) -> str:
    return f"{value:,.0f} MB" if value >= 10 else f"{value:.1f} MB"


def render(results: Results, today: dt.date | None = None) -> str:
    """The Markdown section, starting with its ``## Reports`` heading."""
    day = (today or dt.date.today()).isoformat()
    command = COMMAND + (" --quick" if results.quick else "")
    first = results.runs[0]
    lines = [
        SECTION,
        "",
        f"- date: {day}",
        f"- machine: nproc {os.cpu_count()}, {cpu_model()}, "
        f"Python {platform.python_version()} ({platform.machine()}); the database on the "
        "same machine",
        f"- command: `{command}` (or `bench/run report`)",
        f"- load average at the end: {os.getloadavg()[0]:.2f}",
        f"- workload: the org of `examples/haizhu.yaml` (4 grids, 3 communities, 2 streets, "
        f"10 departments); {first.cases:,} cases filed over the year before "
        f"{NOW.isoformat()} across its grids and categories, {first.events:,} events "
        "(filed, dispatched, 4% returned, ~14% missing the acknowledge deadline and "
        "climbing with a system `escalated ack_overdue`, acknowledged, 7% missing the "
        "resolve deadline, resolved, closed good/ok by the reporter or for silence by the "
        f"system, 6% reopened and reworked; {first.open_cases:,} still open, recent ones and "
        f"1% stuck), seed {SEED}, written with Core bulk inserts into a freshly migrated "
        "database. Each call runs in a fresh interpreter; memory is the growth of the peak "
        "resident set (VmHWM, reset before the call) over the resident set before it.",
    ]
    if results.postgres_note:
        lines.append(f"- no PostgreSQL run: {results.postgres_note}")
    lines += [
        "",
        "| database | measure | result | target | |",
        "|---|---|---|---|---|",
    ]
    for r in results.runs:
        lines.append(
            f"| {r.backend} | writing the history (generate + bulk insert) "
            f"| {r.build_seconds:.1f} s | | |"
        )
        for m in r.measures:
            if m.key in ("json", "html"):
                ok_time = m.seconds <= TARGET_REPORT_S
                ok_mem = m.peak_mb <= TARGET_REPORT_MB
                lines.append(
                    f"| {r.backend} | {m.label}: time ({m.cases:,} cases, {m.output}) "
                    f"| {m.seconds:.2f} s | ≤ {TARGET_REPORT_S:g} s | {verdict(ok_time)} |"
                )
                lines.append(
                    f"| {r.backend} | {m.label}: peak memory growth | {_mb(m.peak_mb)} "
                    f"| ≤ 1 GB | {verdict(ok_mem)} |"
                )
            elif m.key == "open311":
                warm_s = m.warm_seconds if m.warm_seconds is not None else m.seconds
                lines.append(
                    f"| {r.backend} | {m.label} ({m.cases:,} requests, {m.output}) "
                    f"| {warm_s:.2f} s (first: {m.seconds:.2f} s) | | |"
                )
            else:
                warm_s = m.warm_seconds if m.warm_seconds is not None else m.seconds
                judged = (
                    f" ≤ {TARGET_STATS_S:g} s | {verdict(warm_s <= TARGET_STATS_S)} "
                    if m.key == "stats_street"
                    else " | "
                )
                lines.append(
                    f"| {r.backend} | {m.label} ({m.cases:,} cases, {m.output}) "
                    f"| {warm_s:.2f} s |{judged}|"
                )
                lines.append(
                    f"| {r.backend} | {m.label}: first call after start (+ matplotlib, font) "
                    f"| {m.seconds:.2f} s | | |"
                )
                lines.append(
                    f"| {r.backend} | {m.label}: peak memory growth | {_mb(m.peak_mb)} | | |"
                )
    lines += [
        "",
        "/stats is judged on a call in a running bot (the second call of the process); the "
        "first call after the bot starts also imports matplotlib and loads the CJK font for "
        "the chart, which the bot pays once. Reports are one-shot commands: their figures "
        "are the first call, writing the file as `--out FILE` does. The bot works a /stats "
        "answer out after the command has committed, in a job beside the updates (one such "
        "job at a time; the arithmetic and the chart in a thread), so even the yearly "
        "whole-org question holds up nobody else's messages: it only makes its asker wait.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the Reports section of BENCHMARKS.md, keeping other sections."""
    replace_section(path, SECTION, section)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the section and (unless --quick or --no-write) write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--quick", action="store_true", help="2,000 cases, SQLite only")
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone"
    )
    parser.add_argument("--child", nargs=2, metavar=("MEASURE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(child(args.child[0], args.child[1]))))
        return 0
    section = render(run(args.quick))
    print(section)
    if not (args.no_write or args.quick):
        write_section(section)
        print(f"written to {BENCHMARKS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
