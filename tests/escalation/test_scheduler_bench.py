"""The scheduler benchmark still runs (`--quick`: small sizes, nothing written).

Timings on a shared CI machine are noise, so nothing here checks a target; what is checked
is that every part of the benchmark runs end to end — the rebuilds, APScheduler beside
them, the bursts with one worker and with three worker processes — and that every burst
escalated each case exactly once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.scheduler_bench import BENCHMARKS, SECTION, render_section, write_section

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_measures_everything_and_writes_nothing() -> None:
    before = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else None
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scheduler_bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for line in ("rebuild, in-process index", "rebuild, Redis index", "APScheduler add_job"):
        assert line in out
    assert "burst, 1 worker, batch" in out and "burst, 3 workers, batch, Redis" in out
    assert "burst, APScheduler (empty jobs)" in out
    assert SECTION in out and "100/100 |" in out and "doubles" not in out
    after = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else None
    assert after == before


def test_the_section_replaces_only_its_own(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Triage\n\nfast\n\n## Scheduler\n\nold\n\n## Outbox\n\nok\n")
    write_section(f"{SECTION}\n\nnew\n", path)
    assert path.read_text() == (
        "# Benchmarks\n\n## Triage\n\nfast\n\n## Scheduler\n\nnew\n\n## Outbox\n\nok\n"
    )
    write_section(f"{SECTION}\n\nnewer\n", tmp_path / "fresh.md")
    assert "## Scheduler\n\nnewer" in (tmp_path / "fresh.md").read_text()


def test_the_section_says_when_a_target_is_missed() -> None:
    burst = {"stats": {"p50": 90.0, "p99": 210.0, "max": 230.0}, "p99_all": [210.0]}
    outcome = {"escalated": 10, "escalated_twice": 0, "outbox_rows": 10, "outbox_keys": 10}
    results = {
        "sizes": {"open_cases": 100, "burst": 10, "repeat": 1},
        "rebuild_memory": {"seconds": 6.0, "rss_mb": 30.0, "peak_mb": 40.0},
        "rebuild_redis": {"seconds": 1.0, "redis_mb": 5.0},
        "apscheduler_add": {"seconds": 9.0, "rss_mb": 100.0, "peak_mb": 120.0, "entries": 100},
        "bursts": [{"label": "1 worker, batch", "outcome": outcome, **burst}],
        "apscheduler_burst": {"p50": 10.0, "p99": 20.0, "max": 30.0, "p99_all": [20.0]},
    }
    host = {"date": "2026-11-25", "nproc": "2", "cpu": "x", "python": "3.11"}
    section = render_section(results, host, "cmd")
    heap = next(line for line in section.splitlines() if line.startswith("| in-process"))
    assert heap.endswith("| ❌ missed | ✅ |")  # too slow, small enough
    worker = next(line for line in section.splitlines() if line.startswith("| 1 worker"))
    assert worker.endswith("| ❌ missed | ❌ missed |")
