"""The labelled corpus and its fixed split: valid, complete, and exactly reproducible."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from triage.dataset import (
    CHATTER,
    CORPUS_DIR,
    FORMS,
    LABELS,
    PRIORITIES,
    REPORT_LABELS,
    CorpusError,
    Example,
    dump_jsonl,
    heldout_files,
    is_test,
    load_sources,
    parse_example,
    read_jsonl,
    source_files,
    split_examples,
    text_key,
    write_split,
)

TRAIN = CORPUS_DIR / "train.jsonl"
TEST = CORPUS_DIR / "test.jsonl"


@pytest.fixture(scope="module")
def train() -> list[Example]:
    return read_jsonl(TRAIN)


@pytest.fixture(scope="module")
def test() -> list[Example]:
    return read_jsonl(TEST)


# --- the corpus in the repository ------------------------------------------------------


def test_sources_exist_and_parse() -> None:
    files = source_files()
    assert len(files) >= 13
    assert len(load_sources()) >= 1500


def test_split_files_are_what_the_split_writes() -> None:
    split = split_examples(load_sources())
    stale = "the split is stale: run `gridcall triage train --split` and commit the result"
    assert TRAIN.read_bytes() == dump_jsonl(split.train), stale
    assert TEST.read_bytes() == dump_jsonl(split.test), stale


def test_every_line_is_valid(train: list[Example], test: list[Example]) -> None:
    for path in (TRAIN, TEST):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            raw = json.loads(line)
            assert set(raw) <= {"text", "label", "priority", "form", "accept"}, number
            example = parse_example(raw, f"{path.name}:{number}")
            assert example.text.strip()
            assert example.label in LABELS
            assert example.priority in PRIORITIES
            assert example.form in FORMS
            assert set(example.accept) <= set(LABELS) - {example.label}


def test_no_duplicate_texts(train: list[Example], test: list[Example]) -> None:
    keys = Counter(text_key(example.text) for example in (*train, *test))
    assert [key for key, count in keys.items() if count > 1] == []


@pytest.mark.parametrize("split_name", ["train", "test"])
def test_every_label_and_form_in_each_split(
    split_name: str, train: list[Example], test: list[Example]
) -> None:
    examples = train if split_name == "train" else test
    labels = Counter(example.label for example in examples)
    assert set(labels) == set(LABELS), set(LABELS) - set(labels)
    forms = Counter(example.form for example in examples)
    assert set(forms) == set(FORMS), set(FORMS) - set(forms)
    priorities = {example.priority for example in examples if example.is_report}
    assert priorities == set(PRIORITIES)


def test_held_out_share_is_about_a_fifth(train: list[Example], test: list[Example]) -> None:
    share = len(test) / (len(train) + len(test))
    assert 0.15 <= share <= 0.25
    assert all(is_test(example.text) for example in test)
    assert not any(is_test(example.text) for example in train)


def test_labels_cover_the_contract() -> None:
    assert set(REPORT_LABELS) | {CHATTER} == set(LABELS)
    assert "other" in REPORT_LABELS and CHATTER not in REPORT_LABELS


# --- reading and splitting ---------------------------------------------------------------


def _write(path: Path, rows: list[object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )


def test_write_split_is_stable_and_drops_duplicates(tmp_path: Path) -> None:
    rows = [
        {"text": f"路灯坏了{i}", "label": "municipal", "priority": "normal", "form": "zh"}
        for i in range(40)
    ]
    rows.append({"text": "路灯坏了1", "label": "traffic", "priority": "normal", "form": "zh"})
    _write(tmp_path / "src" / "a.jsonl", rows[:20])
    _write(tmp_path / "src" / "b.jsonl", rows[20:])
    first = write_split(tmp_path)
    before = (tmp_path / "train.jsonl").read_bytes(), (tmp_path / "test.jsonl").read_bytes()
    second = write_split(tmp_path)
    after = (tmp_path / "train.jsonl").read_bytes(), (tmp_path / "test.jsonl").read_bytes()
    assert before == after
    assert len(first.train) + len(first.test) == 40
    assert [(d.label, k.label) for d, k in second.duplicates] == [("traffic", "municipal")]


def test_adding_examples_never_moves_old_ones() -> None:
    old = [Example(f"text {i}", "other", "low", "en") for i in range(50)]
    new = [Example(f"new {i}", "other", "low", "en") for i in range(50)]
    before = split_examples(old)
    after = split_examples(new + old)
    assert {e.text for e in before.test} <= {e.text for e in after.test}
    assert {e.text for e in before.train} <= {e.text for e in after.train}


def test_write_split_needs_sources(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"no \*\.jsonl"):
        write_split(tmp_path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"label": "other", "priority": "low", "form": "en"}', '"text" must be a string'),
        ('{"text": "x", "label": "roads", "priority": "low", "form": "en"}', "unknown label"),
        ('{"text": "x", "label": "other", "priority": "soon", "form": "en"}', "unknown priority"),
        ('{"text": "x", "label": "other", "priority": "low", "form": "fr"}', "unknown form"),
        ('{"text": "x", "label": "other", "form": "en"}', 'needs a "priority"'),
        ('{"text": " ", "label": "other", "priority": "low", "form": "en"}', "is empty"),
        ('{"text": "x", "label": ["other"], "priority": "low", "form": "en"}', '"label" must'),
        (
            '{"text": "x", "label": "other", "priority": "low", "form": "en", "accept": "safety"}',
            '"accept" must',
        ),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = '{"text": "ok", "label": "other", "priority": "low", "form": "en"}'
    path.write_text(good + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=message) as caught:
        read_jsonl(path)
    assert str(caught.value).startswith(f"{path}:3:")


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "ok", "label": "other"}\n{"text": "\xff"}\n')
    with pytest.raises(CorpusError, match=":2: not UTF-8"):
        read_jsonl(path, strict=False)


def test_loose_files_accept_label_lists_and_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text(
        "\ufeff" + '{"text": "x", "label": ["safety", "municipal"], "extra": 1}\n',
        encoding="utf-8",
    )
    (example,) = read_jsonl(path, strict=False)
    assert example.label == "safety"
    assert example.acceptable == {"safety", "municipal"}
    assert example.priority == "" and example.form == ""


def test_the_held_out_sets_never_reach_training(train: list[Example], test: list[Example]) -> None:
    """heldout/ measures the model; a text of it in the split would measure the model on
    what it learned."""
    files = heldout_files()
    assert [path.name for path in files] == ["A.jsonl", "B.jsonl", "C.jsonl"]
    assert not set(files) & set(source_files())
    trained = {text_key(example.text) for example in (*train, *test)}
    held = [example for path in files for example in read_jsonl(path)]
    assert len(held) >= 700
    assert {example.label for example in held} == set(LABELS)
    # A chat line as short as 收到 or 👍👍👍 is in every group; a sentence is not.
    leaked = [e.text[:40] for e in held if len(e.text) > 12 and text_key(e.text) in trained]
    assert leaked == []


def test_the_writers_checker_knows_the_same_labels() -> None:
    """scripts/check_corpus.py keeps its own copy (it runs without the virtual environment)."""
    import runpy

    checker = runpy.run_path(str(Path(__file__).parents[2] / "scripts" / "check_corpus.py"))
    assert checker["LABELS"] == set(LABELS)
    assert checker["PRIORITIES"] == set(PRIORITIES)
    assert checker["FORMS"] == set(FORMS)
