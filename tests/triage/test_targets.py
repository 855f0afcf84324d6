"""The accuracy targets of the trained classifier, on the fixed held-out split.

Speed and memory targets are measured by ``bench/triage_bench.py`` instead: timings on a
shared test machine would make this suite flaky without saying anything true.
"""

from __future__ import annotations

import pytest

from triage.dataset import CORPUS_DIR, heldout_files, read_jsonl
from triage.evaluate import EvalReport, evaluate

CATEGORY_MACRO_F1 = 0.88
"""0.90 when the corpus was 1,450 short reports; with 2,900 long, place-first letters in the
split (2026-12) the same split is much harder: the lexicon-led model reached 0.86, the tf-idf
and jieba model 0.90 (2026-12-04)."""
REPORT_F1 = 0.95
URGENT_RECALL = 0.95


@pytest.fixture(scope="module")
def report() -> EvalReport:
    return evaluate(read_jsonl(CORPUS_DIR / "test.jsonl"))


def test_category_macro_f1(report: EvalReport) -> None:
    assert report.category_macro_f1 >= CATEGORY_MACRO_F1, report.per_label


def test_report_vs_chatter_f1(report: EvalReport) -> None:
    assert report.report.f1 >= REPORT_F1, report.report


def test_urgent_recall(report: EvalReport) -> None:
    assert report.urgent is not None
    assert report.urgent.support >= 20
    assert report.urgent.recall >= URGENT_RECALL, report.urgent


def test_confidence_is_roughly_calibrated(report: EvalReport) -> None:
    assert report.calibration_error is not None
    assert report.calibration_error <= 0.12


# --- letters nobody trained on ------------------------------------------------------------
# heldout/ was written in separate sittings (other provinces, registers, redacted places) and
# is never trained on; see corpus/SOURCES.md. These floors are what the shipped model
# reaches there, so that a change that loses ground on residents' real shapes of writing
# fails here; the goals (0.92 accuracy, no report lost as chatter) are in BENCHMARKS.md.
HELDOUT_CATEGORY_ACCURACY = 0.92
"""The goal itself; the shipped model reaches 0.933 (0.862 before tf-idf and jieba)."""
HELDOUT_REPORT_RECALL = 0.99
"""Reports kept as reports: 657 of 660 (8 were lost before)."""
HELDOUT_URGENT_RECALL = 0.95
"""The shipped model reaches 0.966 (0.862 before)."""


@pytest.fixture(scope="module")
def heldout() -> EvalReport:
    return evaluate([e for path in heldout_files() for e in read_jsonl(path)])


def test_heldout_categories(heldout: EvalReport) -> None:
    assert heldout.reports >= 600
    assert heldout.category_accuracy >= HELDOUT_CATEGORY_ACCURACY, heldout.per_label


def test_heldout_reports_are_not_lost_as_chatter(heldout: EvalReport) -> None:
    assert heldout.report.recall >= HELDOUT_REPORT_RECALL, heldout.report


def test_heldout_urgent_recall(heldout: EvalReport) -> None:
    assert heldout.urgent is not None and heldout.urgent.support >= 40
    assert heldout.urgent.recall >= HELDOUT_URGENT_RECALL, heldout.urgent
