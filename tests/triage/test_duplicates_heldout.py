"""Duplicate detection on the set written apart from the matcher (see bench/duplicates_bench.py
for the figures and BENCHMARKS.md for the last measurement)."""

from __future__ import annotations

from bench.duplicates_bench import PRECISION_TARGET, run


def test_no_false_merges_and_a_burst_stays_apart() -> None:
    outcomes = {o.scenario: o for o in run()}
    chat = [o for name, o in outcomes.items() if name != "s14"]
    together = sum(o.together for o in chat)
    right = sum(o.right for o in chat)
    assert together > 0, "some reports of one problem are merged"
    assert right / together >= PRECISION_TARGET, [(o.scenario, o.together, o.right) for o in chat]
    burst = outcomes["s14"]
    assert (burst.reports, burst.cases, burst.together) == (200, 200, 0)
    # s01: a dead light, a loose manhole and fumes, all at 3栋, are never one case.
    assert outcomes["s01"].together == outcomes["s01"].right
