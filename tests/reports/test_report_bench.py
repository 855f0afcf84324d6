"""The reports benchmark's quick mode runs end to end (2,000 cases, SQLite), so the bench
code does not rot; the figures themselves are measured by `bench/report_bench.py` into
BENCHMARKS.md. Timings on a shared machine are noise: nothing here checks a target."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.report_bench import BENCHMARKS, SECTION, Measure, Results, Run, render, write_section

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_measures_everything_and_writes_nothing() -> None:
    before = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else None
    proc = subprocess.run(
        [sys.executable, "-m", "bench.report_bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert out.startswith(f"{SECTION}\n") and "--quick" in out
    assert "2,000 cases filed over the year" in out
    for line in (
        "| SQLite | `gridcall report --period year --format json`: time (2,000 cases,",
        "| SQLite | `gridcall report --period year --format html` (charts): time (2,000 cases,",
        "| SQLite | /stats haizhuang month (a street, PNG chart) (",
        "| SQLite | /stats year (the whole org, PNG chart) (2,000 cases, PNG",
        "| SQLite | `GET /open311/v2/requests.json` over HTTP (the last 90 days: the newest "
        "1,000) (",
    ):
        assert line in out, line
    assert "no PostgreSQL run: not in --quick" in out
    after = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else None
    assert after == before


def sample() -> Results:
    measures = (
        Measure("json", "`gridcall report --period year --format json`", 12.0, 700.0, None,
                100_000, "180.0 MB of json"),
        Measure("html", "`gridcall report --period year --format html` (charts)", 31.0,
                1200.0, None, 100_000, "18.0 MB of html"),
        Measure("stats_street", "/stats haizhuang month (a street, PNG chart)", 2.5, 60.0,
                1.0, 5_000, "PNG 25 kB"),
        Measure("stats_org", "/stats year (the whole org, PNG chart)", 9.0, 500.0, 8.0,
                100_000, "PNG 23 kB"),
    )  # fmt: skip
    run = Run("SQLite", 100_000, 540_000, 40.0, 1_400, measures)
    return Results(False, (run,), "PostgreSQL not reachable")


def test_the_section_judges_each_target() -> None:
    section = render(sample())
    lines = section.splitlines()

    def row(start: str) -> str:
        return next(line for line in lines if line.startswith(start))

    assert row("| SQLite | `gridcall report --period year --format json`: time").endswith(
        "| 12.00 s | ≤ 30 s | met |"
    )
    assert row("| SQLite | `gridcall report --period year --format html` (charts): time").endswith(
        "| 31.00 s | ≤ 30 s | **MISSED** |"
    )
    assert row("| SQLite | `gridcall report --period year --format html` (charts): peak").endswith(
        "| 1,200 MB | ≤ 1 GB | **MISSED** |"
    )
    assert row("| SQLite | /stats haizhuang month (a street, PNG chart) (").endswith(
        "| 1.00 s | ≤ 2 s | met |"
    )
    assert "- no PostgreSQL run: PostgreSQL not reachable" in lines


def test_the_section_is_replaced_not_appended(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Triage\n\nfast\n\n## Reports\n\nold\n\n## Outbox\n\nok\n")
    section = render(sample())
    write_section(section, path)
    write_section(section, path)
    text = path.read_text()
    assert text.count(SECTION) == 1 and "\nold\n" not in text
    assert text.startswith("# Benchmarks\n\n## Triage\n\nfast\n\n## Reports\n")
    assert text.endswith("\n## Outbox\n\nok\n")
    write_section(section, tmp_path / "fresh.md")
    assert (tmp_path / "fresh.md").read_text().count(SECTION) == 1
