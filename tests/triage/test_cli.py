from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

from triage.classifier import Classifier
from triage.cli import classify_stream, triage_group


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
    assert classify_stream(io.StringIO("老鼠好多\n"), out, Classifier(threshold=1.01)) == 1
    assert json.loads(out.getvalue())["category"] == "other"
    assert "\\u" not in out.getvalue()


# --- gridcall triage … -------------------------------------------------------------------


def _tiny_corpus(root: Path) -> Path:
    rows = [
        ("路灯坏了", "municipal", "normal"),
        ("路灯不亮了", "municipal", "normal"),
        ("street light broken", "municipal", "normal"),
        ("有人打架", "public_security", "urgent"),
        ("有人吵架", "public_security", "normal"),
        ("请问社区几点开门", "other", "low"),
        ("大家早上好", "chatter", "low"),
        ("谢谢", "chatter", "low"),
    ]
    # Each line three times with a different ending, so that pieces reach the model's
    # minimum document frequency.
    rows = [(t + end, label, p) for t, label, p in rows for end in ("", "！", "。。")]
    src = root / "src"
    src.mkdir(parents=True)
    text = "".join(
        json.dumps({"text": t, "label": label, "priority": p, "form": "zh"}, ensure_ascii=False)
        + "\n"
        for t, label, p in rows
    )
    (src / "tiny.jsonl").write_text(text, encoding="utf-8")
    return root


def test_triage_train_with_split_writes_split_and_model(tmp_path: Path) -> None:
    corpus = _tiny_corpus(tmp_path / "corpus")
    out = tmp_path / "m.json"
    args = ["train", "--corpus", str(corpus), "--out", str(out), "--split"]
    result = CliRunner().invoke(triage_group, args)
    assert result.exit_code == 0, result.output
    assert (corpus / "train.jsonl").exists() and (corpus / "test.jsonl").exists()
    assert out.exists() and "features" in result.output
    first = out.read_bytes()
    assert CliRunner().invoke(triage_group, [*args[:-1], "--no-split"]).exit_code == 0
    assert out.read_bytes() == first

    # A line as `gridcall triage export-corrections` writes it: the staff said safety.
    fixes = tmp_path / "corrections.jsonl"
    fixes.write_text(
        json.dumps(
            {
                "text": "招牌松了，风一吹就晃",
                "label": "safety",
                "previous": "city_management",
                "case": "HZ-2026-000001",
                "by": "张三",
                "at": "2026-12-04T10:00:00+08:00",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    folded = CliRunner().invoke(
        triage_group, [*args[:-1], "--no-split", "--corrections", str(fixes)]
    )
    assert folded.exit_code == 0, folded.output
    assert "(1 from corrections)" in folded.output
    assert out.read_bytes() != first


def test_triage_train_reports_a_bad_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "src").mkdir(parents=True)
    (corpus / "src" / "bad.jsonl").write_text('{"text": "x", "label": "nope"}\n')
    result = CliRunner().invoke(
        triage_group, ["train", "--corpus", str(corpus), "--out", str(tmp_path / "m"), "--split"]
    )
    assert result.exit_code == 1
    assert "bad.jsonl:1: unknown label 'nope'" in result.output


def test_triage_train_without_a_split_says_which_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        triage_group, ["train", "--corpus", str(tmp_path), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 1
    assert "train.jsonl" in result.output


def test_triage_eval_command(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"text": "路灯坏了", "label": "municipal"}\n', encoding="utf-8")
    result = CliRunner().invoke(triage_group, ["eval", str(path)])
    assert result.exit_code == 0
    assert "category macro-F1" in result.output
    path.write_text("{broken\n", encoding="utf-8")
    result = CliRunner().invoke(triage_group, ["eval", str(path)])
    assert result.exit_code == 2


def test_triage_group_is_named_for_the_main_cli() -> None:
    assert triage_group.name == "triage"
    assert set(triage_group.commands) >= {"train", "split", "eval"}
