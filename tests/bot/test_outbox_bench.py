"""The outbox benchmark's quick mode runs end to end, so the bench code does not rot; the
figures themselves are measured by `bench/outbox_bench.py` into BENCHMARKS.md."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.outbox_bench import render, run, write_section


def test_quick_bench_delivers_everything_within_the_limits(tmp_path: Path) -> None:
    results = asyncio.run(run(quick=True))
    for measured in results.throughput:
        assert measured.delivered == measured.messages
        assert measured.rejections == 0
    assert results.throughput[1].sends <= results.throughput[0].sends
    bundled, one_each = results.bursts
    assert bundled.all_visible and one_each.all_visible
    assert bundled.rejections == one_each.rejections == 0
    assert bundled.p99 <= 60 < one_each.p99
    assert bundled.sends < one_each.sends == one_each.cases

    section = render(results)
    assert section.startswith("## Outbox\n") and "--quick" in section
    target = tmp_path / "BENCHMARKS.md"
    target.write_text("# Benchmarks\n\n## Triage\n\ntriage figures\n", encoding="utf-8")
    write_section(section, target)
    write_section(section, target)  # replacing, not appending twice
    text = target.read_text(encoding="utf-8")
    assert "## Triage\n\ntriage figures" in text and text.count("## Outbox") == 1
