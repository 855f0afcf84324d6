"""Benchmark of duplicate detection (合并); writes the "Duplicates" section of BENCHMARKS.md.

Run from the repository root::

    .venv/bin/python -m bench.duplicates_bench      # or: bench/run duplicates

The evaluation set, ``triage/corpus/duplicates/heldout.jsonl``, was written in its own
sitting by a writer who saw neither the matching code nor the training corpus: 14
scenarios in different settings (old and new estates, a village, a market street, a school,
an industrial park, Hong Kong, Taipei and an expatriate compound), each a residents' group
where several neighbours report several problems over a few hours. Reports of the same
problem id are one case; everything else must stay apart. Scenario s14 is a burst of 200
distinct reports (20 kinds of problem × 10 buildings) in one minute.

Each scenario is replayed in order through the bot's own decision: the report is classified
(:func:`triage.classifier.classify`, addressed), its signature taken, and
:func:`handlers.merge.judge` asked about every open case of the grid, the oldest ``SAME``
winning, exactly as :func:`handlers.merge.find_duplicate` does; a report with no ``SAME``
becomes a case. Then, over every pair of reports of a scenario:

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
from escalation.policy import DEFAULT_POLICY, Policy
from handlers.intake import Report
from handlers.merge import judge
from storage.models import Case, CaseReporter
from triage.classifier import classify
from triage.problems import Verdict, signature

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
        same: int | None = None
        hint: int | None = None
        for index, open_case in enumerate(cases):
            found = judge(open_case.case, open_case.rows, report, sig, triage, policy)
            if found is Verdict.SAME and same is None:
                same = index
            elif found is Verdict.MAYBE:
                hint = index
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


def section(outcomes: list[Outcome], command: str) -> str:
    chat = [o for o in outcomes if o.scenario != "s14"]
    burst = next((o for o in outcomes if o.scenario == "s14"), None)
    together = sum(o.together for o in chat)
    right = sum(o.right for o in chat)
    same = sum(o.same for o in chat)
    precision, recall = _ratio(right, together), _ratio(right, same)
    linked = sum(o.hinted for o in chat)
    today = dt.date.today().isoformat()
    lines = [
        HEADING,
        "",
        f"Measured {today} on {cpu_model()} ({platform.python_implementation()} "
        f"{platform.python_version()}) with `{command}`, on "
        "`triage/corpus/duplicates/heldout.jsonl` (written apart from the matching code; see "
        "the benchmark's docstring). Pairs are pairs of reports within one scenario.",
        "",
        "| figure | value | target | |",
        "|---|---|---|---|",
        f"| precision of “same case” (scenarios s01–s13) | {precision:.3f} ({right}/{together}) "
        f"| ≥ {PRECISION_TARGET} | {verdict(precision >= PRECISION_TARGET)} |",
        f"| recall of “same case” | {recall:.3f} ({right}/{same}) | ≥ {RECALL_TARGET} "
        f"| {verdict(recall >= RECALL_TARGET)} |",
        f"| missed pairs linked as 可能重复 (one tap) | {linked}/{same - right} | — | |",
    ]
    if burst is not None:
        lines.append(
            f"| burst s14: cases from {burst.reports} distinct reports in one minute "
            f"| {burst.cases} | {burst.problems} | {verdict(burst.cases == burst.problems)} |"
        )
    lines += [
        "",
        "| scenario | reports | problems | cases | pairs together | of them right "
        "| pairs of one problem |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {o.scenario} | {o.reports} | {o.problems} | {o.cases} | {o.together} | {o.right} "
        f"| {o.same} |"
        for o in outcomes
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    outcomes = run()
    text = section(outcomes, "bench/run duplicates")
    print(text)
    if not args.no_write:
        replace_section(ROOT / "BENCHMARKS.md", HEADING, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
