"""Training: rebuild the shipped model from the corpus, the same bytes every time.

``gridcall triage train`` (or :func:`train`) reads ``corpus/train.jsonl`` and writes
``model/triage.json``. The test suite trains into a temporary directory and compares the
result with the shipped file byte for byte, so the model in the repository is provably the
one the corpus and this code produce. That rules out anything whose result depends on
chance or on the machine:

* full-batch optimisation for a fixed number of steps, no shuffling, no random start;
* sparse products written as ``np.add.reduceat`` over a fixed order, a plain sequential
  loop, instead of BLAS matrix products whose summation order depends on threads and CPU;
* weights rounded to four decimals when written (see :mod:`triage.linear`), which also
  absorbs last-bit differences between CPUs' ``exp``;
* features, classes and file keys in sorted order; folds and augmentation chosen by hashes
  of the text.

The model is a multinomial logistic regression per head with L2 regularisation, optimised
with Adam. Classes are weighted inversely to their frequency so that a small category
counts as much as a big one (the target is macro-F1), and urgent examples are weighted up
in the priority head because a missed emergency costs more than a false alarm. Some
reports also train wrapped in a greeting or thanks (:func:`augment`), and each head gets a
temperature fitted on out-of-fold predictions (:func:`_calibrate`) so that its
probabilities can be shown as confidences.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from triage.classifier import MODEL_PATH
from triage.dataset import CORPUS_DIR, LABELS, PRIORITIES, Example, read_jsonl
from triage.features import extract
from triage.linear import FloatArray, LinearModel
from triage.rules import Rules


@dataclass(frozen=True)
class Settings:
    """Every choice that shapes the model; stored in the model file's ``meta``."""

    min_df: int = 2
    """An n-gram must occur in this many training examples to become a feature. With 1,450
    short reports 1 was best (the rare word often decides); with long letters in the corpus,
    n-grams seen once are mostly names of streets and estates: 2 keeps 106,000 features of
    366,000, an 8 MB model instead of 26 MB that loads in a third of the time, and held the
    same accuracy on the internal test split (0.868 against 0.867)."""
    iterations: int = 100
    learning_rate: float = 0.2
    l2: float = 1e-5
    priority_l2: float = 1e-4
    """L2 of the priority head; urgency must generalise from few examples, so it may
    want more smoothing than the category head."""
    priority_ngrams: bool = True
    """Whether the priority head sees n-grams, or only lexicon, concept and cue features."""
    balance: bool = True
    """Weight classes inversely to their frequency (macro-F1 treats them alike)."""
    urgent_weight: float = 2.0
    """Extra weight of urgent examples in the priority head (after class balancing)."""
    augment: int = 3
    """One report in this many also trains in a copy wrapped in a greeting or thanks (see
    :func:`augment`); 0 turns it off."""
    calibration_folds: int = 3
    """Folds for fitting the temperatures (see :func:`_calibrate`); 1 turns it off."""
    accept_share: float = 0.2
    """Target probability spread over an example's other acceptable labels: an example
    that could honestly be two things should not teach the model to be certain."""


SETTINGS: Final = Settings()

TEMPERATURES: Final = tuple(round(0.25 + 0.05 * i, 2) for i in range(76))
"""The grid searched for the temperatures: 0.25 to 4.0, fixed so that the result is too."""
"""The settings of the shipped model."""

IntArray = npt.NDArray[np.int64]

_RULE_PREFIXES: Final = ("L:", "Q:", "M:", "K:")
"""Feature kinds that come from the lexicons and the message's shape, not from n-grams."""


@dataclass(frozen=True)
class TrainReport:
    """What training did, for the CLI to print and for tests to check."""

    examples: int
    features: int
    iterations: int
    train_accuracy: float
    seconds: float
    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class _Matrix:
    """A sparse matrix in row order (for X·W) with its column-order twin (for Xᵀ·R)."""

    rows: IntArray
    cols: IntArray
    vals: FloatArray
    row_starts: IntArray
    t_rows: IntArray
    t_vals: FloatArray
    col_starts: IntArray
    shape: tuple[int, int]

    def times(self, weights: FloatArray) -> FloatArray:
        """X·W, summing each row's terms in column order."""
        terms = np.take(weights, self.cols, axis=0)
        terms *= self.vals[:, None]
        result: FloatArray = np.add.reduceat(terms, self.row_starts, axis=0)
        return result

    def transpose_times(self, residual: FloatArray) -> FloatArray:
        """Xᵀ·R, summing each column's terms in row order."""
        terms = np.take(residual, self.t_rows, axis=0)
        terms *= self.t_vals[:, None]
        result: FloatArray = np.add.reduceat(terms, self.col_starts, axis=0)
        return result


def _vocabulary(rows: Sequence[dict[str, float]], origins: Sequence[int], min_df: int) -> list[str]:
    """Features seen in at least ``min_df`` original examples (a copy is no new evidence)."""
    documents: dict[int, set[str]] = {}
    for row, origin in zip(rows, origins, strict=True):
        documents.setdefault(origin, set()).update(row.keys())
    counts: Counter[str] = Counter()
    for names in documents.values():
        counts.update(names)
    return sorted(
        name
        for name, count in counts.items()
        # rule and meta features are few and meaningful, so even a rare one is kept
        if count >= min_df or name[:2] in _RULE_PREFIXES
    )


def _matrix(rows: Sequence[dict[str, float]], vocabulary: Sequence[str]) -> _Matrix:
    index = {name: i for i, name in enumerate(vocabulary)}
    row_ids: list[int] = []
    col_ids: list[int] = []
    values: list[float] = []
    starts: list[int] = []
    for r, row in enumerate(rows):
        starts.append(len(col_ids))
        entries = sorted((index[name], value) for name, value in row.items() if name in index)
        if not entries:
            raise ValueError(f"training example {r} has no known feature")
        for col, value in entries:
            row_ids.append(r)
            col_ids.append(col)
            values.append(value)
    rows_a = np.array(row_ids, dtype=np.int64)
    cols_a = np.array(col_ids, dtype=np.int64)
    perm = np.argsort(cols_a, kind="stable")
    col_starts = np.searchsorted(cols_a[perm], np.arange(len(vocabulary)))
    vals_a = np.array(values, dtype=np.float64)
    return _Matrix(
        rows=rows_a,
        cols=cols_a,
        vals=vals_a,
        row_starts=np.array(starts, dtype=np.int64),
        t_rows=rows_a[perm],
        t_vals=vals_a[perm],
        col_starts=col_starts.astype(np.int64),
        shape=(len(rows), len(vocabulary)),
    )


def _targets(
    examples: Sequence[Example], settings: Settings
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Label and priority target distributions and their per-example weights."""
    n = len(examples)
    label_index = {label: i for i, label in enumerate(LABELS)}
    priority_index = {priority: i for i, priority in enumerate(PRIORITIES)}
    y_label = np.zeros((n, len(LABELS)))
    y_priority = np.zeros((n, len(PRIORITIES)))
    for i, example in enumerate(examples):
        others = [a for a in example.accept if a != example.label]
        main_share = 1.0 - settings.accept_share if others else 1.0
        y_label[i, label_index[example.label]] = main_share
        for other in others:
            y_label[i, label_index[other]] += settings.accept_share / len(others)
        if example.priority and example.is_report:
            y_priority[i, priority_index[example.priority]] = 1.0
    label_counts = Counter(example.label for example in examples)
    w_label = np.array(
        [
            n / (len(label_counts) * label_counts[example.label]) if settings.balance else 1.0
            for example in examples
        ]
    )
    prioritised = [bool(example.priority and example.is_report) for example in examples]
    priority_counts = Counter(
        example.priority for example, has in zip(examples, prioritised, strict=True) if has
    )
    filed = sum(priority_counts.values())
    w_priority = np.array(
        [
            (
                (
                    filed / (len(priority_counts) * priority_counts[example.priority])
                    if settings.balance
                    else 1.0
                )
                * (settings.urgent_weight if example.priority == "urgent" else 1.0)
            )
            if has
            else 0.0
            for example, has in zip(examples, prioritised, strict=True)
        ]
    )
    return y_label, y_priority, w_label, w_priority


_PLEASANTRIES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "zh": (
        ("大家好，", ""),
        ("你好，", ""),
        ("早上好，", ""),
        ("", "，谢谢"),
        ("", "，辛苦了"),
        ("麻烦一下，", ""),
        ("", "，谢谢网格员"),
        ("哈哈，", ""),
    ),
    "yue": (
        ("早晨，", ""),
        ("大家好，", ""),
        ("", "，唔该晒"),
        ("", "，唔该"),
        ("", "，多谢"),
        ("哈哈，", ""),
    ),
    "en": (
        ("Hi all, ", ""),
        ("Hello, ", ""),
        ("Good morning, ", ""),
        ("", " Thanks!"),
        ("", " Thank you"),
        ("", ", cheers"),
        ("lol ", ""),
    ),
}
"""Wrappings of a report that leave it a report: residents greet and thank in the same
message as they report, and a corpus of bare reports would teach the model that any
greeting means chatter."""


def augment(examples: Sequence[Example], every: int) -> tuple[list[Example], list[int]]:
    """``examples`` plus wrapped copies of one report in ``every`` (chosen by hash).

    Returns the examples and, for each, the index of the example it was made from (itself
    for an original), so that a copy is never separated from its original: they count as
    one document for the vocabulary and fall in the same calibration fold. The copies get
    the same label, priority and acceptable labels; which reports are copied and how they
    are wrapped depends only on their text, so the result is fixed.
    """
    out = list(examples)
    origins = list(range(len(examples)))
    if every <= 0:
        return out, origins
    for index, example in enumerate(examples):
        if not example.is_report:
            continue
        digest = hashlib.sha256(b"gridcall-triage-augment\x00" + example.text.encode()).digest()
        if digest[0] % every:
            continue
        kind = "en" if example.form == "en" else "yue" if example.form == "yue" else "zh"
        choices = _PLEASANTRIES[kind]
        prefix, suffix = choices[digest[1] % len(choices)]
        text = prefix + example.text.strip() + suffix
        out.append(Example(text, example.label, example.priority, example.form, example.accept))
        origins.append(index)
    return out, origins


def _softmax_rows(z: FloatArray) -> FloatArray:
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    result: FloatArray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def _optimise(
    rows: Sequence[dict[str, float]],
    examples: Sequence[Example],
    origins: Sequence[int],
    settings: Settings,
) -> tuple[list[str], FloatArray, FloatArray]:
    """Vocabulary, weights and bias of both heads, by full-batch Adam for fixed steps."""
    vocabulary = _vocabulary(rows, origins, settings.min_df)
    x = _matrix(rows, vocabulary)
    y_label, y_priority, w_label, w_priority = _targets(examples, settings)
    r_label = w_label[:, None] / w_label.sum()
    r_priority = w_priority[:, None] / max(w_priority.sum(), 1e-12)
    split = len(LABELS)
    outputs = split + len(PRIORITIES)

    weights = np.zeros((len(vocabulary), outputs))
    l2 = np.full(outputs, settings.l2)
    l2[split:] = settings.priority_l2
    mask: FloatArray | None = None
    if not settings.priority_ngrams:
        mask = np.ones_like(weights)
        general = np.array([name[:2] in _RULE_PREFIXES for name in vocabulary])
        mask[~general, split:] = 0.0
    bias = np.zeros(outputs)
    m_w, v_w = np.zeros_like(weights), np.zeros_like(weights)
    m_b, v_b = np.zeros_like(bias), np.zeros_like(bias)
    beta1, beta2 = _BETA1, _BETA2
    for step in range(1, settings.iterations + 1):
        z = x.times(weights) + bias
        residual = np.empty_like(z)
        residual[:, :split] = (_softmax_rows(z[:, :split]) - y_label) * r_label
        residual[:, split:] = (_softmax_rows(z[:, split:]) - y_priority) * r_priority
        g_w = x.transpose_times(residual)
        g_w += l2 * weights
        if mask is not None:
            g_w *= mask
        g_b = residual.sum(axis=0)
        c1, c2 = 1 - beta1**step, 1 - beta2**step
        _adam(weights, g_w, m_w, v_w, settings.learning_rate, c1, c2)
        _adam(bias, g_b, m_b, v_b, settings.learning_rate, c1, c2)
    return vocabulary, weights, bias


_BETA1: Final = 0.9
_BETA2: Final = 0.999
_EPS: Final = 1e-8


def _adam(
    param: FloatArray,
    grad: FloatArray,
    m: FloatArray,
    v: FloatArray,
    rate: float,
    c1: float,
    c2: float,
) -> None:
    """One Adam step in place (``grad`` is used as scratch space)."""
    m *= _BETA1
    m += (1 - _BETA1) * grad
    grad *= grad
    v *= _BETA2
    v += (1 - _BETA2) * grad
    np.divide(v, c2, out=grad)
    np.sqrt(grad, out=grad)
    grad += _EPS
    np.divide(m, grad, out=grad)
    grad *= rate / c1
    param -= grad


def _fold(text: str, folds: int) -> int:
    digest = hashlib.sha256(b"gridcall-triage-calibration\x00" + text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % folds


def _best_temperature(logits: FloatArray, right: FloatArray, keep: FloatArray) -> float:
    """The temperature on a fixed grid that best predicts being right.

    ``right`` marks, per example, every output that counts as a right answer (all of an
    example's acceptable labels), so the loss is the log of the probability of being
    right, which is what a shown confidence promises.
    """
    best, best_loss = 1.0, float("inf")
    rows = keep > 0
    z, y = logits[rows], right[rows]
    if not len(z):
        return 1.0
    for temperature in TEMPERATURES:
        p = _softmax_rows(z / temperature)
        loss = float(-np.log(np.maximum((p * y).sum(axis=1), 1e-12)).mean())
        if loss < best_loss - 1e-12:
            best, best_loss = temperature, loss
    return best


def _calibrate(
    rows: Sequence[dict[str, float]],
    examples: Sequence[Example],
    origins: Sequence[int],
    settings: Settings,
) -> tuple[float, float]:
    """Temperatures of the two heads, fitted on out-of-fold predictions.

    A model scores its own training examples too confidently, so the temperature is chosen
    on predictions for examples it did not see: the training set is cut into folds by a
    hash of the text (a copy goes with its original), each fold is predicted by a model
    trained on the others, and one temperature per head minimises the log loss of those
    predictions on the original examples.
    """
    folds = settings.calibration_folds
    split = len(LABELS)
    logits = np.zeros((len(examples), split + len(PRIORITIES)))
    assignment = [_fold(examples[origin].text, folds) for origin in origins]
    for fold in range(folds):
        inside = [i for i, f in enumerate(assignment) if f != fold]
        outside = [i for i, f in enumerate(assignment) if f == fold and origins[i] == i]
        if not inside or not outside:
            continue
        vocabulary, weights, bias = _optimise(
            [rows[i] for i in inside],
            [examples[i] for i in inside],
            [origins[i] for i in inside],
            settings,
        )
        model = LinearModel(
            labels=LABELS,
            priorities=PRIORITIES,
            features=vocabulary,
            weights=weights,
            bias=bias,
        )
        for i in outside:
            logits[i] = model.logits(rows[i])
    label_index = {label: i for i, label in enumerate(LABELS)}
    right = np.zeros((len(examples), split))
    for i, example in enumerate(examples):
        for label in example.acceptable:
            right[i, label_index[label]] = 1.0
    _, y_priority, _, _ = _targets(examples, settings)
    original = np.array([1.0 if origin == i else 0.0 for i, origin in enumerate(origins)])
    reports = np.array([1.0 if e.priority and e.is_report else 0.0 for e in examples])
    return (
        _best_temperature(logits[:, :split], right, original),
        _best_temperature(logits[:, split:], y_priority, original * reports),
    )


def fit(
    examples: Sequence[Example], rules: Rules | None = None, settings: Settings = SETTINGS
) -> LinearModel:
    """Train both heads on ``examples``; the same examples always give the same model."""
    if not examples:
        raise ValueError("no training examples")
    engine = rules if rules is not None else Rules()
    training, origins = augment(examples, settings.augment)
    rows = [extract(example.text, engine)[2] for example in training]
    temperatures = (1.0, 1.0)
    if settings.calibration_folds > 1:
        temperatures = _calibrate(rows, training, origins, settings)
    vocabulary, weights, bias = _optimise(rows, training, origins, settings)
    corpus_hash = hashlib.sha256()
    for example in examples:
        corpus_hash.update(example.text.encode("utf-8") + b"\x00" + example.label.encode())
    model = LinearModel(
        labels=LABELS,
        priorities=PRIORITIES,
        features=vocabulary,
        weights=weights,
        bias=bias,
        temperatures=temperatures,
        meta={
            **asdict(settings),
            "examples": len(examples),
            "train_sha256": corpus_hash.hexdigest(),
        },
    )
    # What ships is the rounded model: re-read it so that the caller holds exactly that.
    return LinearModel.from_bytes(model.to_bytes())


def train(corpus_dir: Path = CORPUS_DIR, out_path: Path = MODEL_PATH) -> TrainReport:
    """Train on ``corpus_dir/train.jsonl`` and write the model to ``out_path``."""
    started = time.perf_counter()
    examples = read_jsonl(corpus_dir / "train.jsonl")
    rules = Rules()
    model = fit(examples, rules)
    model.save(out_path)
    data = out_path.read_bytes()
    right = 0
    for example in examples:
        probs = model.predict(extract(example.text, rules)[2]).labels
        right += LABELS[int(np.argmax(probs))] in example.acceptable
    return TrainReport(
        examples=len(examples),
        features=len(model.features),
        iterations=SETTINGS.iterations,
        train_accuracy=right / len(examples),
        seconds=time.perf_counter() - started,
        path=out_path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
