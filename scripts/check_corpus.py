"""Check corpus files against the labelling guide (triage/corpus/GUIDE.md).

Writers run this on what they wrote before handing it in, so a malformed line, an unknown
label or a letter outside the length range is caught by the writer, not by training.

    python3 scripts/check_corpus.py triage/corpus/letters/*.jsonl
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter

# The same values as triage.dataset's: copied because writers run this with a bare python3,
# and importing the triage package loads the classifier (numpy).
# tests/triage/test_corpus.py checks that the two agree.
LABELS = {
    "city_management",
    "public_security",
    "safety",
    "environment",
    "municipal",
    "traffic",
    "housing",
    "livelihood",
    "public_health",
    "enterprise",
    "other",
    "chatter",
}
PRIORITIES = {"urgent", "normal", "low"}
FORMS = {"zh", "zh-hant", "yue", "en", "mixed"}
KEYS = {"text", "label", "priority", "form", "accept"}


def check(path: str) -> list[str]:
    problems: list[str] = []
    lengths: list[int] = []
    labels: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    seen: set[str] = set()
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            where = f"{path}:{number}"
            if not line.strip():
                problems.append(f"{where}: empty line")
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{where}: not JSON ({error})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{where}: not an object")
                continue
            extra = set(row) - KEYS
            if extra:
                problems.append(f"{where}: unknown keys {sorted(extra)}")
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{where}: no text")
                continue
            if text in seen:
                problems.append(f"{where}: duplicate text")
            seen.add(text)
            if row.get("label") not in LABELS:
                problems.append(f"{where}: unknown label {row.get('label')!r}")
            if row.get("priority") not in PRIORITIES:
                problems.append(f"{where}: unknown priority {row.get('priority')!r}")
            if row.get("form") not in FORMS:
                problems.append(f"{where}: unknown form {row.get('form')!r}")
            accept = row.get("accept", [])
            if not isinstance(accept, list) or any(a not in LABELS for a in accept):
                problems.append(f"{where}: bad accept {accept!r}")
            elif row.get("label") in accept:
                problems.append(f"{where}: accept repeats the label")
            if len(text) > 4000:
                problems.append(f"{where}: {len(text)} characters, over 4000")
            lengths.append(len(text))
            labels[str(row.get("label"))] += 1
            forms[str(row.get("form"))] += 1
    if lengths:
        print(
            f"{path}: {len(lengths)} rows, median {statistics.median(lengths):.0f} chars, "
            f"min {min(lengths)}, max {max(lengths)}, >700: {sum(n > 700 for n in lengths)}; "
            f"labels {dict(labels)}; forms {dict(forms)}"
        )
    return problems


def main(paths: list[str]) -> int:
    problems = [problem for path in paths for problem in check(path)]
    for problem in problems[:50]:
        print(problem)
    print("OK" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
