"""``run_eval``: the figures, and clear errors for files it cannot use."""

from __future__ import annotations

import io
import json
from pathlib import Path

from triage.dataset import Example
from triage.evaluate import evaluate, format_report, run_eval


def _file(tmp_path: Path, lines: list[str]) -> str:
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _row(text: str, label: object, **extra: object) -> str:
    return json.dumps({"text": text, "label": label, **extra}, ensure_ascii=False)


def test_prints_every_figure(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        [
            _row("路灯坏了三天", "municipal", priority="normal", note="ignored"),
            _row("有人持刀", "public_security", priority="urgent"),
            _row("大家早上好", "chatter"),
            _row("楼道有电动车充电", ["safety", "housing"], priority="normal"),
            _row("请问社区几点开门", "other", priority="low"),
        ],
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_eval(path, out, err=err) == 0
    text = out.getvalue()
    assert err.getvalue() == ""
    for needle in (
        "5 examples, 4 reports",
        "accuracy",
        "macro-F1",
        "category macro-F1",
        "report-vs-chatter",
        "urgent              recall 1.000",
        "calibration error",
        "confusion matrix",
        "municipal",
        "chatter",
    ):
        assert needle in text, needle


def test_without_priorities_there_is_no_urgent_line(tmp_path: Path) -> None:
    path = _file(tmp_path, [_row("路灯坏了", "municipal"), _row("谢谢", "chatter")])
    out = io.StringIO()
    assert run_eval(path, out) == 0
    assert "urgent" not in out.getvalue()
    assert "priority accuracy" not in out.getvalue()


def test_malformed_line_is_exit_2_with_its_number(tmp_path: Path) -> None:
    path = _file(tmp_path, [_row("路灯坏了", "municipal"), "{oops", _row("x", "other")])
    out, err = io.StringIO(), io.StringIO()
    assert run_eval(path, out, err=err) == 2
    assert f"{path}:2:" in err.getvalue()
    assert out.getvalue() == ""


def test_unknown_label_is_exit_2(tmp_path: Path) -> None:
    path = _file(tmp_path, [_row("路灯坏了", "roads")])
    err = io.StringIO()
    assert run_eval(path, io.StringIO(), err=err) == 2
    assert ":1: unknown label 'roads'" in err.getvalue()


def test_missing_and_empty_files_are_exit_2(tmp_path: Path) -> None:
    err = io.StringIO()
    assert run_eval(str(tmp_path / "nope.jsonl"), io.StringIO(), err=err) == 2
    assert "cannot read" in err.getvalue()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    err = io.StringIO()
    assert run_eval(str(empty), io.StringIO(), err=err) == 2
    assert "no examples" in err.getvalue()


def test_acceptable_labels_count_as_right() -> None:
    examples = [Example("楼道有电动车充电", "housing", "normal", accept=("safety",))]
    report = evaluate(examples)
    assert report.accuracy == 1.0
    assert report.confusion == {("safety", "safety"): 1}


def test_a_missed_report_counts_against_its_category() -> None:
    report = evaluate([Example("大家早上好", "municipal", "normal")])
    assert report.confusion == {("municipal", "chatter"): 1}
    assert report.category_macro_f1 == 0.0
    assert report.report.recall == 0.0
    assert "municipal" in format_report(report)
