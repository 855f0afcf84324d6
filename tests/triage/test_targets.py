"""The accuracy targets of the trained classifier, on the fixed held-out split.

Speed and memory targets are measured by ``bench/triage_bench.py`` instead: timings on a
shared test machine would make this suite flaky without saying anything true.
"""

from __future__ import annotations

import pytest

from triage.dataset import CORPUS_DIR, read_jsonl
from triage.evaluate import EvalReport, evaluate

CATEGORY_MACRO_F1 = 0.90
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
