"""The labelled corpus: reading and checking it, and the fixed train/test split.

Examples are written by hand in ``triage/corpus/src/*.jsonl`` and
``triage/corpus/letters/*.jsonl`` (``corpus/GUIDE.md`` says how, ``corpus/SOURCES.md`` by
whom), one JSON object a line::

    {"text": "...", "label": "municipal", "priority": "normal", "form": "zh",
     "accept": ["housing"]}

``label`` is a category code, ``other`` (a report nobody's category fits) or ``chatter``
(not a report at all); ``accept`` optionally lists other labels a reasonable person could
pick, which evaluation counts as right. Every line is checked and an error names the file
and line, because a corpus that is wrong in silence trains a model that is wrong in
silence.

The split is decided by a hash of the text, not by position or by a random draw: adding,
removing or reordering other examples never moves an example from test to train, so the
held-out set stays held out while the corpus grows, and :func:`write_split` always writes
the same two files from the same sources.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from triage.categories import Category, Priority

CORPUS_DIR: Final = Path(__file__).resolve().parent / "corpus"
"""The corpus shipped with the code: ``src/`` and ``letters/`` by hand, ``train.jsonl`` and
``test.jsonl`` split from them, ``heldout/`` for evaluation only."""

CHATTER: Final = "chatter"
REPORT_LABELS: Final = tuple(category.value for category in Category)
"""The ten category codes and ``other``: everything that is filed as a case."""
LABELS: Final = (*REPORT_LABELS, CHATTER)
PRIORITIES: Final = tuple(priority.value for priority in Priority)
FORMS: Final = ("zh", "zh-hant", "yue", "en", "mixed")
"""How a message is written: simplified Chinese, traditional Chinese, Cantonese (as written
in Guangzhou), English, or a mixture. The corpus must cover each, in both splits."""

TEST_PERCENT: Final = 20
"""Share of examples held out for testing, decided per text by :func:`is_test`."""

_SPLIT_SALT: Final = b"gridcall-triage-split/1\x00"


class CorpusError(ValueError):
    """A corpus line that cannot be used; the message names the file and line."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


@dataclass(frozen=True)
class Example:
    """One labelled message. ``priority`` and ``form`` may be empty outside the corpus.

    Chatter carries a priority in the corpus files (``low``) but it means nothing: chatter
    is never filed, so training and evaluation look at priorities of reports only.
    """

    text: str
    label: str
    priority: str = ""
    form: str = ""
    accept: tuple[str, ...] = field(default=())

    @property
    def is_report(self) -> bool:
        """Chatter is the only label that is not filed as a case."""
        return self.label != CHATTER

    @property
    def acceptable(self) -> frozenset[str]:
        """Every label that counts as a right answer."""
        return frozenset((self.label, *self.accept))

    def to_json(self) -> dict[str, Any]:
        """The line as written to the split files: only the fields that were given."""
        data: dict[str, Any] = {"text": self.text, "label": self.label}
        if self.priority:
            data["priority"] = self.priority
        if self.form:
            data["form"] = self.form
        if self.accept:
            data["accept"] = list(self.accept)
        return data


def parse_example(raw: Any, where: str, *, strict: bool = True) -> Example:
    """Check one decoded line. ``strict`` (the corpus) also demands priority and form.

    Evaluation files are looser: ``label`` may be a list of acceptable labels, and
    priority and form may be missing.
    """
    if not isinstance(raw, dict):
        raise CorpusError(where, "expected a JSON object")
    text = raw.get("text")
    if not isinstance(text, str):
        raise CorpusError(where, '"text" must be a string')
    label_field = raw.get("label")
    labels: list[str]
    if isinstance(label_field, str):
        labels = [label_field]
    elif (
        not strict
        and isinstance(label_field, list)
        and label_field
        and all(isinstance(item, str) for item in label_field)
    ):
        labels = list(label_field)
    else:
        expected = "a label" if strict else "a label or a non-empty list of labels"
        raise CorpusError(where, f'"label" must be {expected}, got {label_field!r}')
    accept_field = raw.get("accept", [])
    if accept_field is None:
        accept_field = []
    if not isinstance(accept_field, list) or not all(isinstance(a, str) for a in accept_field):
        raise CorpusError(where, '"accept" must be a list of labels')
    for label in (*labels, *accept_field):
        if label not in LABELS:
            raise CorpusError(where, f"unknown label {label!r} (expected one of {LABELS})")
    primary = labels[0]
    accept = tuple(dict.fromkeys(a for a in (*labels[1:], *accept_field) if a != primary))
    priority = raw.get("priority")
    if priority is None or (priority == "" and not strict):
        priority = ""
    if priority and priority not in PRIORITIES:
        raise CorpusError(where, f"unknown priority {priority!r} (expected one of {PRIORITIES})")
    if not isinstance(priority, str):
        raise CorpusError(where, '"priority" must be a string')
    form = raw.get("form", "")
    if not isinstance(form, str):
        raise CorpusError(where, '"form" must be a string')
    if strict:
        if not text.strip():
            raise CorpusError(where, '"text" is empty')
        if primary != CHATTER and not priority:
            raise CorpusError(where, 'a report needs a "priority"')
        if form not in FORMS:
            raise CorpusError(where, f"unknown form {form!r} (expected one of {FORMS})")
    return Example(text=text, label=primary, priority=priority, form=form, accept=accept)


def iter_jsonl(path: Path, *, strict: bool = True) -> Iterator[Example]:
    """Examples of one JSONL file in order; blank lines are skipped."""
    with path.open("rb") as handle:
        for number, data in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                line = data.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError as exc:
                raise CorpusError(where, f"not UTF-8 text ({exc.reason})") from exc
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except ValueError as exc:
                raise CorpusError(where, f"not valid JSON ({exc})") from exc
            yield parse_example(raw, where, strict=strict)


def read_jsonl(path: Path, *, strict: bool = True) -> list[Example]:
    """All examples of one JSONL file; see :func:`iter_jsonl`."""
    return list(iter_jsonl(path, strict=strict))


SOURCE_DIRS: Final = ("src", "letters")
"""Where the training material is: the first short reports and the letters (see
``corpus/SOURCES.md``). ``heldout/`` and ``duplicates/`` are evaluation only and never read
here, so that what measures the model cannot leak into it."""


def source_files(corpus_dir: Path = CORPUS_DIR) -> list[Path]:
    """The hand-written files, folder by folder in name order, so every run reads them alike."""
    return [path for name in SOURCE_DIRS for path in sorted((corpus_dir / name).glob("*.jsonl"))]


def heldout_files(corpus_dir: Path = CORPUS_DIR) -> list[Path]:
    """The evaluation sets written apart from everything the model is trained on."""
    return sorted((corpus_dir / "heldout").glob("*.jsonl"))


def text_key(text: str) -> str:
    """What makes two texts "the same": case, width and spacing do not count."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


def is_test(text: str) -> bool:
    """Whether ``text`` belongs to the held-out split: a stable hash, no state."""
    digest = hashlib.sha256(_SPLIT_SALT + text_key(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 100 < TEST_PERCENT


@dataclass(frozen=True)
class Split:
    """The outcome of :func:`split_examples`, with what was dropped and why."""

    train: list[Example]
    test: list[Example]
    duplicates: list[tuple[Example, Example]]
    """(dropped, kept) pairs: later lines whose text repeats an earlier one."""


def split_examples(examples: Iterable[Example]) -> Split:
    """Deduplicate by :func:`text_key` (first wins) and split by :func:`is_test`."""
    kept: dict[str, Example] = {}
    duplicates: list[tuple[Example, Example]] = []
    train: list[Example] = []
    test: list[Example] = []
    for example in examples:
        key = text_key(example.text)
        if key in kept:
            duplicates.append((example, kept[key]))
            continue
        kept[key] = example
        (test if is_test(example.text) else train).append(example)
    return Split(train, test, duplicates)


def load_sources(corpus_dir: Path = CORPUS_DIR) -> list[Example]:
    """Every example of the source files (:func:`source_files`), file by file."""
    examples: list[Example] = []
    for path in source_files(corpus_dir):
        examples.extend(iter_jsonl(path))
    return examples


def dump_jsonl(examples: Iterable[Example]) -> bytes:
    """The canonical bytes of a split file: sorted keys, UTF-8, one example a line."""
    lines = (
        json.dumps(example.to_json(), ensure_ascii=False, sort_keys=True) + "\n"
        for example in examples
    )
    return "".join(lines).encode("utf-8")


def write_split(corpus_dir: Path = CORPUS_DIR) -> Split:
    """Regenerate ``train.jsonl`` and ``test.jsonl`` from ``src/``; same sources, same bytes."""
    if not source_files(corpus_dir):
        raise CorpusError(str(corpus_dir / "src"), "no *.jsonl files to split")
    split = split_examples(load_sources(corpus_dir))
    (corpus_dir / "train.jsonl").write_bytes(dump_jsonl(split.train))
    (corpus_dir / "test.jsonl").write_bytes(dump_jsonl(split.test))
    return split
