"""Duplicate detection on the sets written apart from the matcher (see bench/duplicates_bench.py
for the figures and BENCHMARKS.md for the last measurement)."""

from __future__ import annotations

import pytest

from bench.duplicates_bench import DATA, SETS, _in, run

FLOOR = 0.95
"""No set may fall below this. The target is 0.98 (bench/duplicates_bench.py); heldout3, read
by nobody and measured once after the rules were fixed, stands at 0.969 (31/32), and the floor
is not raised to a figure that set has not shown, nor the set tuned to reach it."""

SCENARIOS = sorted({(name, span) for name, span, _ in SETS if (DATA.parent / name).exists()})


@pytest.mark.parametrize(("name", "span"), SCENARIOS)
def test_no_false_merges(name: str, span: str) -> None:
    """A false merge hides a problem inside someone else's case: on every set, written
    apart from the rules, at most one merged pair in twenty is wrong (see FLOOR)."""
    chat = [o for o in run(DATA.parent / name) if _in(o.scenario, span)]
    together = sum(o.together for o in chat)
    right = sum(o.right for o in chat)
    assert together > 0, "some reports of one problem are merged"
    assert right / together >= FLOOR, [(o.scenario, o.together, o.right) for o in chat]


def test_a_burst_stays_apart_and_three_problems_at_3栋_stay_three() -> None:
    outcomes = {o.scenario: o for o in run()}
    burst = outcomes["s14"]
    assert (burst.reports, burst.cases, burst.together) == (200, 200, 0)
    # s01: a dead light, a loose manhole and fumes, all at 3栋, are never one case.
    assert outcomes["s01"].together == outcomes["s01"].right
