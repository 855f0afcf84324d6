"""Benchmark of the triage classifier; writes the "Triage" section of BENCHMARKS.md.

Run from the repository root::

    .venv/bin/python -m bench.triage_bench      # or: bench/run triage

What it measures, against the targets of the trained-classifier issue:

* **throughput** — every report text of the corpus classified in a loop for a few
  seconds, pinned to one CPU with BLAS threads off: reports per second on one core
  (target ≥ 2,000/s);
* **latency** — each report classified on its own and timed: p50, p99 and max
  (target p99 ≤ 5 ms); plus the worst case of a 100,000-character paste;
* **memory** — in a fresh interpreter, the resident set size after importing triage,
  loading the model and classifying one message, and the peak (target ≤ 200 MB);
  also what loading the model added and how long it took.

These are measured here, not in the tests, because timings on a shared CI machine are
noise; the tests check correctness and the targets of accuracy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
BENCHMARKS: Final = ROOT / "BENCHMARKS.md"
COMMAND: Final = ".venv/bin/python -m bench.triage_bench"
SECTION: Final = "## Triage"

# triage (and with it numpy) is imported only inside functions, after this: one core
# means one BLAS thread too.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

TARGET_RATE: Final = 2000.0
TARGET_P99_MS: Final = 5.0
TARGET_RSS_MB: Final = 200.0


@dataclass(frozen=True)
class Memory:
    """Resident memory of a fresh process holding the loaded classifier, in MB."""

    baseline_mb: float
    loaded_mb: float
    peak_mb: float
    load_seconds: float


@dataclass(frozen=True)
class Results:
    """Everything the benchmark measured."""

    reports: int
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    huge_ms: float
    memory: Memory
    model_bytes: int
    cpu: int | None


def _rss_mb(field: str = "VmRSS") -> float:
    """A memory figure of this process from /proc (Linux), in MB; 0 where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _memory_probe() -> None:
    """Run in a child interpreter: measure loading the classifier from nothing."""
    baseline = _rss_mb()
    started = time.perf_counter()
    from triage.classifier import classify

    classify("路灯坏了三天")
    load_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "baseline_mb": baseline,
                "loaded_mb": _rss_mb(),
                "peak_mb": _rss_mb("VmHWM"),
                "load_seconds": load_seconds,
            }
        )
    )


def _measure_memory() -> Memory:
    done = subprocess.run(
        [sys.executable, "-m", "bench.triage_bench", "--memory-probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Memory(**data)


def _pin_one_cpu() -> int | None:
    """Keep the process on one CPU so that "per core" means one core; None if unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {allowed[-1]})
    return allowed[-1]


def _report_texts() -> list[str]:
    from triage.dataset import CORPUS_DIR, read_jsonl

    texts: list[str] = []
    for name in ("train.jsonl", "test.jsonl"):
        path = CORPUS_DIR / name
        if path.exists():
            texts.extend(e.text for e in read_jsonl(path) if e.is_report)
    if not texts:
        raise SystemExit("no corpus reports to benchmark with: run `gridcall triage split`")
    return texts


def _percentile(sorted_values: Sequence[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def run(seconds: float = 3.0) -> Results:
    """Measure everything; ``seconds`` is the minimum duration of the throughput loop."""
    memory = _measure_memory()
    cpu = _pin_one_cpu()
    from triage.classifier import MODEL_PATH, Classifier

    classifier = Classifier()
    texts = _report_texts()
    for text in texts[:50]:  # warm up: model loaded, caches filled
        classifier.classify(text)

    done = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for text in texts:
            classifier.classify(text)
        done += len(texts)
        elapsed = time.perf_counter() - started
    rate = done / elapsed

    timings: list[float] = []
    for _ in range(3):
        for text in texts:
            t0 = time.perf_counter_ns()
            classifier.classify(text)
            timings.append((time.perf_counter_ns() - t0) / 1e6)
    timings.sort()

    huge = ("楼下路灯坏了，" * 20_000)[:100_000]
    t0 = time.perf_counter_ns()
    classifier.classify(huge)
    huge_ms = (time.perf_counter_ns() - t0) / 1e6

    return Results(
        reports=len(texts),
        rate=rate,
        p50_ms=_percentile(timings, 0.50),
        p99_ms=_percentile(timings, 0.99),
        max_ms=timings[-1],
        huge_ms=huge_ms,
        memory=memory,
        model_bytes=MODEL_PATH.stat().st_size,
        cpu=cpu,
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def render(results: Results, today: dt.date | None = None) -> str:
    """The Markdown section, starting with its ``## Triage`` heading."""
    day = (today or dt.date.today()).isoformat()
    m = results.memory
    pinned = f"pinned to CPU {results.cpu}" if results.cpu is not None else "not pinned"
    lines = [
        SECTION,
        "",
        f"- date: {day}",
        f"- machine: nproc {os.cpu_count()}, {_cpu_model()}, "
        f"Python {platform.python_version()} ({platform.machine()})",
        f"- command: `{COMMAND}` (or `bench/run triage`)",
        f"- workload: the {results.reports} report texts of the corpus (train + test), "
        f"one process {pinned}, BLAS threads 1",
        f"- model: `triage/model/triage.json`, {results.model_bytes / 1e6:.2f} MB",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
        f"| batch throughput, one core | {results.rate:,.0f} reports/s | ≥ 2,000/s "
        f"| {_verdict(results.rate >= TARGET_RATE)} |",
        f"| latency, one report, p50 | {results.p50_ms:.3f} ms | | |",
        f"| latency, one report, p99 | {results.p99_ms:.3f} ms | ≤ 5 ms "
        f"| {_verdict(results.p99_ms <= TARGET_P99_MS)} |",
        f"| latency, one report, max | {results.max_ms:.3f} ms | | |",
        f"| latency, 100,000-character message | {results.huge_ms:.3f} ms | | |",
        f"| resident memory, classifier loaded | {m.loaded_mb:.1f} MB (peak {m.peak_mb:.1f}) "
        f"| ≤ 200 MB | {_verdict(max(m.loaded_mb, m.peak_mb) <= TARGET_RSS_MB)} |",
        f"| memory added by import + load | {m.loaded_mb - m.baseline_mb:.1f} MB | | |",
        f"| cold start: import, load, first answer | {m.load_seconds * 1000:.0f} ms | | |",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the Triage section of BENCHMARKS.md, keeping other sections."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
            len(lines),
        )
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the section and write it into BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=3.0, help="throughput loop duration")
    parser.add_argument(
        "--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone"
    )
    args = parser.parse_args(argv)
    if args.memory_probe:
        _memory_probe()
        return 0
    section = render(run(seconds=args.seconds))
    print(section)
    if not args.no_write:
        write_section(section)
        print(f"written to {BENCHMARKS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
