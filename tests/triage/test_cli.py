from __future__ import annotations

import io
import json

from triage.classifier import Classifier
from triage.cli import classify_stream


def run(text: str) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    count = classify_stream(io.StringIO(text), out)
    lines = out.getvalue().splitlines()
    return count, [json.loads(line) for line in lines]


def test_one_json_object_per_line() -> None:
    count, rows = run("公共烟管倒塌\n收到\r\nstreet light broken outside block 5")
    assert count == 3
    assert rows == [
        {
            "category": "safety",
            "confidence": rows[0]["confidence"],
            "is_report": True,
            "priority": "urgent",
        },
        {"category": "other", "confidence": 0.0, "is_report": False, "priority": "low"},
        {
            "category": "municipal",
            "confidence": rows[2]["confidence"],
            "is_report": True,
            "priority": "normal",
        },
    ]
    for row in rows:
        assert set(row) == {"category", "confidence", "is_report", "priority"}
        confidence = row["confidence"]
        assert isinstance(confidence, float) and 0.0 <= confidence <= 1.0


def test_blank_lines_keep_their_place() -> None:
    count, rows = run("\n路灯坏了\n\n")
    assert count == 3
    assert [row["is_report"] for row in rows] == [False, True, False]


def test_empty_input() -> None:
    assert run("") == (0, [])


def test_overlong_line_does_not_shift_the_output() -> None:
    count, rows = run("路灯坏了" + "x" * 50_000 + "\n有人打架\n")
    assert count == 2
    assert rows[0]["category"] == "municipal"
    assert rows[1]["priority"] == "urgent"


def test_output_is_not_ascii_escaped_and_uses_given_classifier() -> None:
    out = io.StringIO()
    assert classify_stream(io.StringIO("老鼠好多\n"), out, Classifier(threshold=0.999)) == 1
    assert json.loads(out.getvalue())["category"] == "other"
    assert "\\u" not in out.getvalue()
