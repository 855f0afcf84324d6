"""Measure the classifier on a labelled file: ``gridcall classify --eval FILE.jsonl``.

Each line is ``{"text": ..., "label": ...}``; the label is a category code, ``other``,
``chatter`` (not a report), or a list of codes any of which is right. ``accept`` adds more
acceptable labels and ``priority`` (``urgent``/``normal``/``low``), when present, turns on
the priority figures; other keys are ignored, so the corpus split files can be evaluated
as they are.

Every message is classified as an unaddressed group message, the hardest and most common
case: the prediction is its category if it is taken as a report, else ``chatter``. So a
report that is missed as chatter counts against its category's recall as well as against
report-vs-chatter, which is what the resident experiences.

The figures:

* accuracy and macro-F1 over every label, with per-label precision/recall/F1 and the
  confusion matrix (rows: truth, columns: prediction);
* **category macro-F1** over the reports only (the ten categories and ``other``);
* **report-vs-chatter** precision/recall/F1, a report being the positive class;
* **urgent recall** (and precision), and priority accuracy, over reports with a priority;
* calibration of the confidence (expected calibration error over ten bins): a confidence
  of 0.8 should be right about eight times in ten.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from triage.categories import Priority
from triage.classifier import Classifier, default_classifier
from triage.dataset import CHATTER, LABELS, REPORT_LABELS, CorpusError, Example, read_jsonl


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of one label, with how often it was the truth."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Outcome:
    """One example's truth and the classifier's answer."""

    example: Example
    predicted: str
    priority: str
    confidence: float

    @property
    def correct(self) -> bool:
        """Right when the prediction is any acceptable label."""
        return self.predicted in self.example.acceptable

    @property
    def truth(self) -> str:
        """The label the confusion matrix files this under: the one predicted if acceptable."""
        return self.predicted if self.correct else self.example.label


@dataclass(frozen=True)
class EvalReport:
    """Every figure :func:`run_eval` prints."""

    total: int
    accuracy: float
    labels: tuple[str, ...]
    confusion: dict[tuple[str, str], int]
    per_label: dict[str, Scores]
    macro_f1: float
    category_macro_f1: float
    category_accuracy: float
    reports: int
    report: Scores
    urgent: Scores | None
    priority_accuracy: float | None
    calibration_error: float | None


def _scores(pairs: Iterable[tuple[str, str]], label: str) -> Scores:
    tp = fp = fn = 0
    for truth, predicted in pairs:
        if predicted == label and truth == label:
            tp += 1
        elif predicted == label:
            fp += 1
        elif truth == label:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp + fn)


def _macro(pairs: Sequence[tuple[str, str]], labels: Iterable[str]) -> float:
    chosen = [label for label in labels if any(label in pair for pair in pairs)]
    if not chosen:
        return 0.0
    return sum(_scores(pairs, label).f1 for label in chosen) / len(chosen)


def _calibration_error(outcomes: Sequence[Outcome], bins: int = 10) -> float | None:
    """Expected calibration error of the category confidence on predicted reports."""
    scored = [o for o in outcomes if o.example.is_report and o.predicted != CHATTER]
    if not scored:
        return None
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [
            o for o in scored if low <= o.confidence < high or (b == bins - 1 and o.confidence >= 1)
        ]
        if members:
            accuracy = sum(o.correct for o in members) / len(members)
            confidence = sum(o.confidence for o in members) / len(members)
            total += len(members) * abs(accuracy - confidence)
    return total / len(scored)


def evaluate(examples: Sequence[Example], classifier: Classifier | None = None) -> EvalReport:
    """Classify every example and compute the figures; see the module docstring."""
    if not examples:
        raise ValueError("no examples to evaluate")
    engine = classifier if classifier is not None else default_classifier()
    outcomes: list[Outcome] = []
    for example in examples:
        result = engine.classify(example.text)
        predicted = result.category.value if result.is_report else CHATTER
        outcomes.append(Outcome(example, predicted, result.priority.value, result.confidence))

    pairs = [(o.truth, o.predicted) for o in outcomes]
    seen = {label for pair in pairs for label in pair}
    labels = tuple(label for label in LABELS if label in seen) + tuple(sorted(seen - set(LABELS)))
    confusion = Counter(pairs)
    per_label = {label: _scores(pairs, label) for label in labels}

    report_outcomes = [o for o in outcomes if o.example.is_report]
    report_pairs = [(o.truth, o.predicted) for o in report_outcomes]
    report_binary = [
        (
            "report" if o.example.is_report else CHATTER,
            "report" if o.predicted != CHATTER else CHATTER,
        )
        for o in outcomes
    ]

    urgent: Scores | None = None
    priority_accuracy: float | None = None
    prioritised = [o for o in report_outcomes if o.example.priority]
    if prioritised:
        urgent_pairs = [
            (o.example.priority, o.priority if o.predicted != CHATTER else "") for o in prioritised
        ]
        urgent = _scores(urgent_pairs, Priority.URGENT.value)
        priority_accuracy = sum(t == p for t, p in urgent_pairs) / len(urgent_pairs)

    return EvalReport(
        total=len(outcomes),
        accuracy=sum(o.correct for o in outcomes) / len(outcomes),
        labels=labels,
        confusion=dict(confusion),
        per_label=per_label,
        macro_f1=_macro(pairs, labels),
        category_macro_f1=_macro(report_pairs, REPORT_LABELS),
        category_accuracy=(
            sum(o.correct for o in report_outcomes) / len(report_outcomes)
            if report_outcomes
            else 0.0
        ),
        reports=len(report_outcomes),
        report=_scores(report_binary, "report"),
        urgent=urgent,
        priority_accuracy=priority_accuracy,
        calibration_error=_calibration_error(outcomes),
    )


def format_report(report: EvalReport, source: str = "") -> str:
    """The human-readable text printed by ``gridcall classify --eval``."""
    lines: list[str] = []
    title = f"triage evaluation of {source}" if source else "triage evaluation"
    lines.append(f"{title}: {report.total} examples, {report.reports} reports")
    lines.append(f"accuracy            {report.accuracy:.3f}")
    lines.append(f"macro-F1            {report.macro_f1:.3f}")
    lines.append(
        f"category macro-F1   {report.category_macro_f1:.3f}  "
        f"(reports only; accuracy {report.category_accuracy:.3f})"
    )
    r = report.report
    lines.append(
        f"report-vs-chatter   F1 {r.f1:.3f}  precision {r.precision:.3f}  recall {r.recall:.3f}"
    )
    if report.urgent is not None:
        u = report.urgent
        lines.append(
            f"urgent              recall {u.recall:.3f}  precision {u.precision:.3f}  "
            f"(of {u.support})"
        )
    if report.priority_accuracy is not None:
        lines.append(f"priority accuracy   {report.priority_accuracy:.3f}")
    if report.calibration_error is not None:
        lines.append(f"calibration error   {report.calibration_error:.3f}  (ECE, 10 bins)")
    lines.append("")
    width = max(len(label) for label in (*report.labels, "label"))
    lines.append(f"{'label':<{width}}  precision  recall     F1  support")
    for label in report.labels:
        s = report.per_label[label]
        lines.append(
            f"{label:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}"
        )
    lines.append("")
    lines.append("confusion matrix (rows: truth, columns: prediction)")
    short = [label[:5] for label in report.labels]
    lines.append(" " * width + "  " + " ".join(f"{s:>5}" for s in short))
    for truth in report.labels:
        counts = [report.confusion.get((truth, predicted), 0) for predicted in report.labels]
        cells = " ".join(f"{c:>5}" if c else f"{'.':>5}" for c in counts)
        lines.append(f"{truth:<{width}}  {cells}")
    return "\n".join(lines) + "\n"


def run_eval(
    path: str,
    out: TextIO,
    *,
    err: TextIO | None = None,
    classifier: Classifier | None = None,
) -> int:
    """Evaluate the labelled JSONL file at ``path`` and print the figures to ``out``.

    Returns the exit code: 0 when the file was evaluated, 2 when it could not be read or a
    line is malformed (the message, on ``err``, names the file and line).
    """
    errors = err if err is not None else sys.stderr
    try:
        examples = read_jsonl(Path(path), strict=False)
    except CorpusError as exc:
        errors.write(f"error: {exc}\n")
        return 2
    except OSError as exc:
        errors.write(f"error: cannot read {path}: {exc.strerror or exc}\n")
        return 2
    if not examples:
        errors.write(f"error: {path} has no examples\n")
        return 2
    out.write(format_report(evaluate(examples, classifier), source=path))
    return 0
