"""Training: rebuild the shipped model from the corpus, the same bytes every time.

``gridcall triage train`` (or :func:`train`) reads ``corpus/train.jsonl`` and writes
``model/triage.json``. It is built on the field's usual tools: jieba cuts the words
(:mod:`triage.features`), scikit-learn's ``TfidfVectorizer`` weighs the pieces and its
``LogisticRegression`` fits one multinomial head for the label and one for the priority.
scikit-learn is needed only here (``pip install 'gridcall[train]'``): the model is written
as plain weights and idf that :mod:`triage.linear` applies with numpy alone.

Choices, and why:

* classes are weighted inversely to their frequency, so that a small category counts as
  much as a big one (the target is macro-F1); urgent examples weigh more in the priority
  head, because a missed emergency costs more than a false alarm;
* an example that could honestly be two things (``accept``) also trains, with a small
  weight, as its other labels, which is what a soft target does: the model should not be
  taught to be certain about it;
* some reports also train wrapped in a greeting or thanks (:func:`augment`), because a
  corpus of bare reports would teach the model that any greeting means chatter;
* each head gets a temperature fitted on out-of-fold predictions (:func:`_calibrate`), so
  that its probabilities can be shown as confidences.

The test suite trains into a temporary directory and compares the result with the shipped
file byte for byte, so the model in the repository is provably the one the corpus and this
code produce: L-BFGS starts from zero and takes no random step, the vocabulary is sorted,
folds and augmentation are chosen by hashes of the text, and weights are rounded to four
decimals when written (:mod:`triage.linear`), which absorbs last-bit differences between
CPUs.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from triage.classifier import MODEL_PATH
from triage.dataset import CORPUS_DIR, LABELS, PRIORITIES, Example, read_jsonl, text_key
from triage.features import KINDS, Segmenter, full_segmenter, lexicon_weight, pieces, prepare
from triage.linear import FloatArray, LinearModel
from triage.normalize import analyze
from triage.rules import LEXICON_PREFIX

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix


class TrainingUnavailable(RuntimeError):
    """scikit-learn is not installed; says how to get it."""


@dataclass(frozen=True)
class Settings:
    """Every choice that shapes the model; stored in the model file's ``meta``."""

    min_df: int = 3
    """A piece must occur in this many training examples to become a feature. Pieces seen
    once or twice are mostly names of streets and estates: 3 keeps 110,000 features of
    1.1 million, a model that loads in 0.4 s instead of 0.7 s (at 2), with the same accuracy
    on the internal test split (0.897 against 0.891)."""
    c: float = 10.0
    """Inverse L2 strength of the label head. Chosen by 5-fold cross-validation on the
    training split (accuracy 0.878 at 3, 0.880 at 10, 0.879 at 30: flat, so the middle)."""
    priority_c: float = 10.0
    """The same for the priority head."""
    iterations: int = 2000
    """L-BFGS steps at most; the fits converge well before (tolerance ``tol``)."""
    tol: float = 1e-5
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
    """Weight given to an example's other acceptable labels, spread over them."""


SETTINGS: Final = Settings()
"""The settings of the shipped model."""

TEMPERATURES: Final = tuple(round(0.25 + 0.05 * i, 2) for i in range(76))
"""The grid searched for the temperatures: 0.25 to 4.0, fixed so that the result is too."""

ABSENT_BIAS: Final = -30.0
"""Bias of an output no training example has: its probability is as good as zero."""


@dataclass(frozen=True)
class TrainReport:
    """What training did, for the CLI to print and for tests to check."""

    examples: int
    corrections: int
    features: int
    iterations: int
    train_accuracy: float
    seconds: float
    path: Path
    size: int
    sha256: str


def _sklearn() -> Any:
    """The parts of scikit-learn training uses, or a clear error saying how to get them."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise TrainingUnavailable(
            "training the triage model needs scikit-learn: pip install 'gridcall[train]'"
        ) from exc
    return TfidfVectorizer, LogisticRegression


def _as_is(document: list[str]) -> list[str]:
    """The analyzer of the vectorizers: documents are already cut into pieces."""
    return document


def _design(
    documents: Sequence[list[str]],
    lexicon: Sequence[float],
    originals: Sequence[int],
    min_df: int,
) -> tuple[list[str], FloatArray, csr_matrix]:
    """Feature names, their idf and the tf-idf matrix of ``documents``.

    The vocabulary and idf come from the original examples only (a wrapped copy is no new
    evidence of a piece); every document, copy or not, is then weighed with them, and its
    lexicon kind multiplied by its ``lexicon`` weight, as :meth:`LinearModel.vector` does.
    """
    from scipy.sparse import diags, hstack

    vectorizer_class, _ = _sklearn()
    names: list[str] = []
    idf: list[FloatArray] = []
    blocks = []
    for kind in KINDS:
        kept = [[piece for piece in doc if piece.startswith(kind)] for doc in documents]
        vectorizer = vectorizer_class(
            analyzer=_as_is, min_df=min_df, sublinear_tf=True, norm="l2", dtype=np.float64
        )
        try:
            vectorizer.fit([kept[i] for i in originals])
        except ValueError:  # no piece of this kind is frequent enough (tiny corpora)
            continue
        names += list(vectorizer.get_feature_names_out())
        idf.append(vectorizer.idf_)
        block = vectorizer.transform(kept)
        if kind == LEXICON_PREFIX:
            block = diags(np.asarray(lexicon, dtype=np.float64)) @ block
        blocks.append(block)
    if not blocks:
        raise ValueError("no piece occurs often enough to train on; lower min_df")
    return names, np.concatenate(idf), hstack(blocks).tocsr()


def _head(
    x: csr_matrix,
    rows: Sequence[int],
    targets: Sequence[str],
    weights: Sequence[float],
    classes: Sequence[str],
    c: float,
    settings: Settings,
) -> tuple[FloatArray, FloatArray]:
    """One softmax head fitted on ``rows`` of ``x``: weights (features × classes) and bias."""
    _, regression = _sklearn()
    coef = np.zeros((x.shape[1], len(classes)))
    bias = np.full(len(classes), ABSENT_BIAS)
    present = sorted(set(targets))
    if len(present) < 2:
        for label in present:
            bias[classes.index(label)] = 0.0
        return coef, bias
    model = regression(C=c, max_iter=settings.iterations, tol=settings.tol)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fit that did not converge must not ship silently
        model.fit(x[list(rows)], list(targets), sample_weight=np.asarray(weights))
    found = list(model.classes_)
    if len(found) == 2:  # binary: one row, p(second) = σ(w·x + b) = softmax([0, w·x + b])
        bias[classes.index(found[0])] = 0.0
        coef[:, classes.index(found[1])] = model.coef_[0]
        bias[classes.index(found[1])] = model.intercept_[0]
        return coef, bias
    for j, label in enumerate(found):
        coef[:, classes.index(label)] = model.coef_[j]
        bias[classes.index(label)] = model.intercept_[j]
    return coef, bias


def _label_rows(
    examples: Sequence[Example], settings: Settings
) -> tuple[list[int], list[str], list[float]]:
    """Rows, targets and weights of the label head: each example once, its other acceptable
    labels again with a share of its weight."""
    counts = Counter(example.label for example in examples)
    rows: list[int] = []
    targets: list[str] = []
    weights: list[float] = []
    for i, example in enumerate(examples):
        weight = len(examples) / (len(counts) * counts[example.label]) if settings.balance else 1.0
        others = sorted(a for a in example.accept if a != example.label)
        share = settings.accept_share if others else 0.0
        rows.append(i)
        targets.append(example.label)
        weights.append(weight * (1.0 - share))
        for other in others:
            rows.append(i)
            targets.append(other)
            weights.append(weight * share / len(others))
    return rows, targets, weights


def _priority_rows(
    examples: Sequence[Example], settings: Settings
) -> tuple[list[int], list[str], list[float]]:
    """Rows, targets and weights of the priority head: reports with a priority."""
    rows = [i for i, e in enumerate(examples) if e.priority and e.is_report]
    counts = Counter(examples[i].priority for i in rows)
    targets = [examples[i].priority for i in rows]
    weights = [
        (len(rows) / (len(counts) * counts[t]) if settings.balance else 1.0)
        * (settings.urgent_weight if t == "urgent" else 1.0)
        for t in targets
    ]
    return rows, targets, weights


def dictionary(texts: Sequence[str]) -> dict[str, int]:
    """The words of jieba's dictionary that ``texts`` use, with jieba's frequencies.

    It ships inside the model (see :class:`triage.features.Segmenter`): a word the corpus
    never used cannot be a feature, so leaving it out of the dictionary costs nothing the
    model knows, and loads ten times faster.
    """
    full = full_segmenter()
    words: dict[str, int] = {}
    for text in texts:
        for word in full.words(prepare(text)):
            freq = full.known(word)
            if freq:
                words[word] = freq
    return words


@dataclass(frozen=True)
class _Training:
    """The examples a model is fitted on, with what :func:`pieces` made of each.

    ``examples`` holds the originals and their wrapped copies (:func:`augment`);
    ``origins[i]`` is the index of the example that ``examples[i]`` was made from (itself for
    an original); ``documents`` and ``lexicon`` are each example's pieces and lexicon weight.
    """

    examples: list[Example]
    origins: list[int]
    documents: list[list[str]]
    lexicon: list[float]

    def subset(self, rows: Sequence[int]) -> _Training:
        """The examples at ``rows``, which must hold every copy's original."""
        position = {original: new for new, original in enumerate(rows)}
        return _Training(
            [self.examples[i] for i in rows],
            [position[self.origins[i]] for i in rows],
            [self.documents[i] for i in rows],
            [self.lexicon[i] for i in rows],
        )


def _fit_model(
    training: _Training,
    settings: Settings,
    temperatures: tuple[float, float] = (1.0, 1.0),
    meta: dict[str, Any] | None = None,
    words: dict[str, int] | None = None,
) -> LinearModel:
    """Both heads on ``training`` (originals and copies), as one :class:`LinearModel`."""
    examples = training.examples
    originals = [i for i, origin in enumerate(training.origins) if origin == i]
    names, idf, x = _design(training.documents, training.lexicon, originals, settings.min_df)
    label_w, label_b = _head(x, *_label_rows(examples, settings), LABELS, settings.c, settings)
    priority_w, priority_b = _head(
        x, *_priority_rows(examples, settings), PRIORITIES, settings.priority_c, settings
    )
    return LinearModel(
        labels=LABELS,
        priorities=PRIORITIES,
        features=names,
        idf=idf,
        weights=np.hstack([label_w, priority_w]),
        bias=np.concatenate([label_b, priority_b]),
        temperatures=temperatures,
        meta=meta,
        words=words,
    )


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


def _calibrate(training: _Training, settings: Settings) -> tuple[float, float]:
    """Temperatures of the two heads, fitted on out-of-fold predictions.

    A model scores its own training examples too confidently, so the temperature is chosen
    on predictions for examples it did not see: the training set is cut into folds by a
    hash of the text (a copy goes with its original), each fold is predicted by a model
    trained on the others, and one temperature per head minimises the log loss of those
    predictions on the original examples.
    """
    examples, origins = training.examples, training.origins
    folds = settings.calibration_folds
    split = len(LABELS)
    logits = np.zeros((len(examples), split + len(PRIORITIES)))
    assignment = [_fold(examples[origin].text, folds) for origin in origins]
    for fold in range(folds):
        inside = [i for i, f in enumerate(assignment) if f != fold]
        outside = [i for i, f in enumerate(assignment) if f == fold and origins[i] == i]
        if not inside or not outside:
            continue
        model = _fit_model(training.subset(inside), settings)
        for i in outside:
            logits[i] = model.logits(training.documents[i], training.lexicon[i])
    label_index = {label: i for i, label in enumerate(LABELS)}
    right = np.zeros((len(examples), split))
    for i, example in enumerate(examples):
        for label in example.acceptable:
            right[i, label_index[label]] = 1.0
    y_priority = np.zeros((len(examples), len(PRIORITIES)))
    for i, example in enumerate(examples):
        if example.priority and example.is_report:
            y_priority[i, PRIORITIES.index(example.priority)] = 1.0
    original = np.array([1.0 if origin == i else 0.0 for i, origin in enumerate(origins)])
    reports = np.array([1.0 if e.priority and e.is_report else 0.0 for e in examples])
    return (
        _best_temperature(logits[:, :split], right, original),
        _best_temperature(logits[:, split:], y_priority, original * reports),
    )


def fit(examples: Sequence[Example], settings: Settings = SETTINGS) -> LinearModel:
    """Train both heads on ``examples``; the same examples always give the same model."""
    if not examples:
        raise ValueError("no training examples")
    augmented, origins = augment(examples, settings.augment)
    texts = [analyze(example.text).text for example in augmented]
    words = dictionary(texts)
    segmenter = Segmenter(words)
    training = _Training(
        augmented,
        origins,
        [pieces(text, segmenter) for text in texts],
        [lexicon_weight(text) for text in texts],
    )
    temperatures = (1.0, 1.0)
    if settings.calibration_folds > 1:
        temperatures = _calibrate(training, settings)
    corpus_hash = hashlib.sha256()
    for example in examples:
        corpus_hash.update(example.text.encode("utf-8") + b"\x00" + example.label.encode())
    model = _fit_model(
        training,
        settings,
        temperatures,
        meta={
            **asdict(settings),
            "examples": len(examples),
            "train_sha256": corpus_hash.hexdigest(),
        },
        words=words,
    )
    # What ships is the rounded model: re-read it so that the caller holds exactly that.
    return LinearModel.from_bytes(model.to_bytes())


def fold_corrections(
    examples: Sequence[Example], corrections: Sequence[Example]
) -> tuple[list[Example], int]:
    """``examples`` with staff corrections (改类) folded in, and how many texts they changed.

    A correction of a text the corpus holds replaces that example (a person who handled
    the case judged it; the last correction of a text wins); any other is a new example.
    Corrections carry no priority, so they teach the label head only.
    """
    latest = {text_key(c.text): c for c in corrections if c.text.strip()}
    out = [latest.pop(text_key(e.text), e) for e in examples]
    changed = sum(a is not b for a, b in zip(out, examples, strict=True)) + len(latest)
    return out + list(latest.values()), changed


def train(
    corpus_dir: Path = CORPUS_DIR,
    out_path: Path = MODEL_PATH,
    corrections: Sequence[Path] = (),
) -> TrainReport:
    """Train on ``corpus_dir/train.jsonl`` (plus exported ``corrections`` files, see
    ``gridcall triage export-corrections``) and write the model to ``out_path``."""
    started = time.perf_counter()
    fixes = [example for path in corrections for example in read_jsonl(path, strict=False)]
    examples, changed = fold_corrections(read_jsonl(corpus_dir / "train.jsonl"), fixes)
    model = fit(examples)
    model.save(out_path)
    data = out_path.read_bytes()
    segmenter = Segmenter(model.words)
    right = 0
    for example in examples:
        text = analyze(example.text).text
        probs = model.predict(pieces(text, segmenter), lexicon_weight(text)).labels
        right += LABELS[int(np.argmax(probs))] in example.acceptable
    return TrainReport(
        examples=len(examples),
        corrections=changed,
        features=len(model.features),
        iterations=SETTINGS.iterations,
        train_accuracy=right / len(examples),
        seconds=time.perf_counter() - started,
        path=out_path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
