"""The `gridcall` command line contracts of DESIGN.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_check_config_accepts_the_example_and_the_demo_org() -> None:
    runner = CliRunner()
    for path in (ROOT / "examples/haizhu.yaml", ROOT / "bot/demo_org.yaml"):
        result = runner.invoke(main, ["check-config", str(path)])
        assert result.exit_code == 0, result.output
        assert ": OK — " in result.output


def test_check_config_names_line_and_field_of_every_error() -> None:
    result = CliRunner().invoke(main, ["check-config", str(ROOT / "examples/broken.yaml")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].endswith("19 error(s) in " + str(ROOT / "examples/broken.yaml"))
    assert any(
        line.endswith(
            ":28: units[0].units[0].units[1].chat: grid 'baoyuzhi-2' has no staff "
            "chat: the grid worker's group must be set so cases can be dispatched"
        )
        for line in lines
    )
    assert any(":58: people[2].units[0]: unit 'nosuch' does not exist" in line for line in lines)


def test_check_config_on_a_missing_file_is_clear(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check-config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "nope.yaml" in result.output


def test_classify_writes_one_json_object_per_input_line() -> None:
    reports = "路灯坏了三天\n大家早上好\n闻到很浓的煤气味\n\n" + "\x00\xff" * 50_000 + "\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "classify"],
        input=reports,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == 5
    assert all(set(a) == {"category", "confidence", "is_report", "priority"} for a in answers)
    assert answers[0] == {
        "category": "municipal",
        "confidence": answers[0]["confidence"],
        "is_report": True,
        "priority": "normal",
    }
    assert answers[1]["is_report"] is False
    assert (answers[2]["category"], answers[2]["priority"]) == ("safety", "urgent")
    assert all(0 <= a["confidence"] <= 1 for a in answers)


def test_import_config_loads_the_org_twice_without_duplicates(tmp_path: Path) -> None:
    env = {"GRIDCALL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"}
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["import-config", str(ROOT / "examples/haizhu.yaml")], env=env)
        assert result.exit_code == 0, result.output
        assert "imported 海珠区: 20 units, 14 people" in result.output


def test_run_without_a_token_says_how_to_get_one() -> None:
    result = CliRunner().invoke(
        main,
        ["run", "--config", str(ROOT / "examples/haizhu.yaml")],
        env={"GRIDCALL_TELEGRAM_TOKEN": ""},
    )
    assert result.exit_code == 1
    assert "GRIDCALL_TELEGRAM_TOKEN is not set" in result.output


def test_run_with_a_malformed_token_is_refused_before_connecting() -> None:
    result = CliRunner().invoke(
        main,
        ["run", "--config", str(ROOT / "examples/haizhu.yaml")],
        env={"GRIDCALL_TELEGRAM_TOKEN": "not a token"},
    )
    assert result.exit_code == 1
    assert "does not look like a bot token" in result.output


def test_a_bad_environment_variable_is_named_with_its_value_and_changes_nothing(
    tmp_path: Path,
) -> None:
    database = tmp_path / "never.db"
    env = {
        "GRIDCALL_TELEGRAM_TOKEN": "123456:TEST-token",
        "GRIDCALL_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "GRIDCALL_LLM_TIMEOUT": "abc",
        "GRIDCALL_OUTBOX_LEASE": "5",
    }
    for command in (["run", "--config", str(ROOT / "examples/haizhu.yaml")], ["migrate"]):
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert lines == [
            "GRIDCALL_LLM_TIMEOUT='abc': Input should be a valid number, "
            "unable to parse string as a number",
            "GRIDCALL_OUTBOX_LEASE='5': Input should be greater than or equal to 10",
        ], result.output
        assert "Traceback" not in result.output
    assert not database.exists()
