"""Benchmark of duplicate detection (合并); writes the "Duplicates" section of BENCHMARKS.md.

Run from the repository root::

    .venv/bin/python -m bench.duplicates_bench      # or: bench/run duplicates

The sets in ``triage/corpus/duplicates/`` were each written in their own sitting by a writer
who saw neither the matching code nor the other sets (``SOURCES.md`` says how far the rules'
author has read each; :data:`SETS` says it again beside every figure). Each scenario is a
residents' group — old and new estates, villages, a market street, a school, an industrial
park, Hong Kong, Taipei, Taichung — where several neighbours report several problems over a
few hours. Reports of the same problem id are one case; everything else must stay apart.
Scenario s14 of ``heldout.jsonl`` is a burst of 200 distinct reports (20 kinds of problem ×
10 buildings) in one minute.

Each scenario is replayed in order through the bot's own decision: the report is classified
(:func:`triage.classifier.classify`, addressed), its signature taken, and
:func:`handlers.merge.judge` asked about every open case of the grid, the oldest ``SAME``
winning, or the only ``LIKELY`` (:func:`handlers.merge.pick`, as in
:func:`handlers.merge.find_duplicate`); any other report becomes a case. Then, over every
pair of reports of a scenario:

* **precision** of "same case" = pairs the bot put together that are one problem / pairs the
  bot put together (target ≥ 0.98: a false merge hides a problem);
* **recall** = pairs of one problem the bot put together / pairs of one problem (target
  ≥ 0.85: a missed merge costs a worker one tap on the 可能重复 link);
* **cases** of the burst (target: all 200 stay apart) and how many of the missed merges were
  at least linked as 可能重复 for the worker.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Final

from bench.sections import cpu_model, replace_section, verdict
from handlers.intake import Report
from handlers.merge import judge, pick
from org.policy import DEFAULT_POLICY, Policy
from storage.models import Case, CaseReporter
from triage.classifier import classify
from triage.problems import signature

ROOT: Final = Path(__file__).resolve().parent.parent
DATA: Final = ROOT / "triage" / "corpus" / "duplicates" / "heldout.jsonl"
HEADING: Final = "## Duplicates"
PRECISION_TARGET: Final = 0.98
RECALL_TARGET: Final = 0.85


@dataclass
class OpenCase:
    """A case of the replay: the ORM objects ``judge`` reads, never stored."""

    case: Case
    rows: list[CaseReporter] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    scenario: str
    reports: int
    problems: int
    cases: int
    together: int  # pairs the bot put in one case
    right: int  # of those, pairs of one problem
    same: int  # pairs of one problem
    hinted: int  # pairs of one problem kept apart but linked as 可能重复


def replay(lines: list[dict[str, Any]], policy: Policy) -> Outcome:
    """One scenario through the bot's decision, in the order residents wrote."""
    cases: list[OpenCase] = []
    placed: list[tuple[str, int, int | None]] = []  # (problem, case index, hinted case)
    for number, line in enumerate(sorted(lines, key=lambda x: x["minute"])):
        text = line["text"]
        triage = classify(text, addressed=True)
        sig = signature(text)
        resident = int("".join(c for c in line["resident"] if c.isdigit()) or number)
        report = Report(reporter_id=resident, reporter_name="", chat_id=-1, message_id=number,
                        text=text)  # fmt: skip
        same, hint = pick(
            [
                (index, judge(open_case.case, open_case.rows, report, sig, triage, policy))
                for index, open_case in enumerate(cases)
            ]
        )
        row = CaseReporter(reporter_id=resident, text=text, signature=sig.to_json())
        if same is None:
            case = Case(priority=str(triage.priority), reporter_count=1)
            cases.append(OpenCase(case, [row], [line["problem"]]))
            placed.append((line["problem"], len(cases) - 1, hint))
        else:
            target = cases[same]
            target.rows.append(row)
            target.problems.append(line["problem"])
            count = len({r.reporter_id for r in target.rows})
            if count >= policy.duplicates.raise_priority_at:
                target.case.priority = "urgent"
            placed.append((line["problem"], same, None))
    together = right = same_pairs = hinted = 0
    for (p1, c1, h1), (p2, c2, h2) in combinations(placed, 2):
        if c1 == c2:
            together += 1
            right += p1 == p2
        if p1 == p2:
            same_pairs += 1
            hinted += c1 != c2 and (h1 == c2 or h2 == c1)
    return Outcome(
        scenario=lines[0]["scenario"],
        reports=len(lines),
        problems=len({line["problem"] for line in lines}),
        cases=len(cases),
        together=together,
        right=right,
        same=same_pairs,
        hinted=hinted,
    )


def run(path: Path = DATA) -> list[Outcome]:
    scenarios: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                scenarios[row["scenario"]].append(row)
    policy = DEFAULT_POLICY
    return [replay(lines, policy) for _, lines in sorted(scenarios.items())]


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


SETS: Final = (
    ("heldout.jsonl", "s01–s07", "tuning: every missed pair read"),
    ("heldout.jsonl", "s08–s13", "never read"),
    ("heldout2.jsonl", "h01–h08", "never read"),
    ("heldout3.jsonl", "t01–t07", "never read; written after the rules were fixed"),
    ("dev.jsonl", "d01–d10", "tuning: read while writing the rules"),
)
"""Each evaluation set, the scenarios counted, and how far the rules' author saw it."""


def _in(scenario: str, span: str) -> bool:
    first, _, last = span.partition("–")
    return first <= scenario <= last


def _row(name: str, span: str, role: str, outcomes: list[Outcome]) -> str:
    chosen = [o for o in outcomes if _in(o.scenario, span)]
    together = sum(o.together for o in chosen)
    right = sum(o.right for o in chosen)
    same = sum(o.same for o in chosen)
    linked = sum(o.hinted for o in chosen)
    precision, recall = _ratio(right, together), _ratio(right, same)
    return (
        f"| `{name}` {span} | {role} | {sum(o.reports for o in chosen)} "
        f"| {precision:.3f} ({right}/{together}) {verdict(precision >= PRECISION_TARGET)} "
        f"| {recall:.3f} ({right}/{same}) {verdict(recall >= RECALL_TARGET)} "
        f"| {linked}/{same - right} |"
    )


def section(results: dict[str, list[Outcome]], command: str) -> str:
    today = dt.date.today().isoformat()
    lines = [
        HEADING,
        "",
        f"Measured {today} on {cpu_model()} ({platform.python_implementation()} "
        f"{platform.python_version()}) with `{command}`, on the sets in "
        "`triage/corpus/duplicates/`, each written by a writer who saw neither the matching "
        "code nor the other sets (see the benchmark's docstring and `SOURCES.md`). Pairs are "
        f"pairs of reports within one scenario. Targets: precision ≥ {PRECISION_TARGET}, "
        f"recall ≥ {RECALL_TARGET}.",
        "",
        "| set | seen by the rules' author | reports | precision of “same case” "
        "| recall | missed pairs linked as 可能重复 |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_row(name, span, role, results[name]) for name, span, role in SETS if name in results]
    burst = next((o for o in results.get("heldout.jsonl", []) if o.scenario == "s14"), None)
    if burst is not None:
        lines += [
            "",
            f"Burst (`heldout.jsonl` s14): {burst.reports} distinct reports (20 kinds of "
            f"problem × 10 buildings) in one minute → **{burst.cases} cases** "
            f"({verdict(burst.cases == burst.problems)}: all {burst.problems} stay apart).",
        ]
    lines += [
        "",
        "| scenario | reports | problems | cases | pairs together | of them right "
        "| pairs of one problem |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {o.scenario} | {o.reports} | {o.problems} | {o.cases} | {o.together} | {o.right} "
        f"| {o.same} |"
        for name in results
        for o in results[name]
        if o.scenario != "s14"
    ]
    return "\n".join(lines) + "\n"


def run_all() -> dict[str, list[Outcome]]:
    """Every set in the duplicates folder that exists, by file name."""
    names = dict.fromkeys(name for name, _, _ in SETS)
    return {name: run(DATA.parent / name) for name in names if (DATA.parent / name).exists()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    parser.add_argument("--data", type=Path, help="another set: print its figures only")
    args = parser.parse_args(argv)
    if args.data:
        outcomes = run(args.data)
        print(section({args.data.name: outcomes}, f"bench/run duplicates --data {args.data}"))
        return 0
    text = section(run_all(), "bench/run duplicates")
    print(text)
    if not args.no_write:
        replace_section(ROOT / "BENCHMARKS.md", HEADING, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
