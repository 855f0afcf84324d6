"""Training is reproducible: the shipped model is exactly what the corpus and code build."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from triage.classifier import MODEL_PATH, Classifier
from triage.dataset import CHATTER, CORPUS_DIR, LABELS, PRIORITIES, Example
from triage.features import lexicon_weight, pieces
from triage.linear import LinearModel
from triage.normalize import analyze
from triage.train import SETTINGS, Settings, _design, augment, fit, fold_corrections, train

MAX_MODEL_BYTES = 50 * 1024 * 1024


def _quantum_diffs(built: dict[str, Any], shipped: dict[str, Any]) -> tuple[int, int]:
    """Count stored integers that differ, and the largest difference, between two models.

    Why a tolerance at all: the weights are floats rounded to 1/scale, and a float
    that lands within 1e-12 of a rounding boundary rounds one way with one BLAS
    build and the other way with another. Everything else (labels, vocabulary,
    features, calibration) must match exactly; a stale model differs in far more
    than a handful of last digits.
    """
    assert built["weights"].keys() == shipped["weights"].keys()
    pairs = [
        (a, b)
        for k in built["weights"]
        for a, b in zip(built["weights"][k], shipped["weights"][k], strict=True)
    ]
    pairs += list(zip(built["bias"], shipped["bias"], strict=True))
    diffs = [abs(a - b) for a, b in pairs if a != b]
    return len(diffs), max(diffs, default=0)


def test_training_rebuilds_the_shipped_model(tmp_path: Path) -> None:
    out = tmp_path / "model" / "triage.json"
    report = train(CORPUS_DIR, out)
    built_bytes = out.read_bytes()
    built, shipped = json.loads(built_bytes), json.loads(MODEL_PATH.read_bytes())
    stale = (
        "the shipped model is stale: run `gridcall triage train` and commit "
        "triage/model/triage.json"
    )
    for key in shipped.keys() - {"weights", "bias"}:
        assert built[key] == shipped[key], f"{stale} ({key} differs)"
    assert built.keys() == shipped.keys(), stale
    differing, largest = _quantum_diffs(built, shipped)
    assert largest <= 1 and differing <= 10, (
        f"{stale} ({differing} weights differ, by up to {largest})"
    )
    assert report.size == len(built_bytes) < MAX_MODEL_BYTES
    assert report.sha256 == hashlib.sha256(built_bytes).hexdigest()
    assert report.examples > 1000 and report.features > 1000
    assert report.train_accuracy > 0.9


def test_shipped_model_describes_itself() -> None:
    model = LinearModel.load(MODEL_PATH)
    assert model.labels == LABELS
    assert model.priorities == PRIORITIES
    assert model.meta["iterations"] == SETTINGS.iterations
    assert all(0.25 <= t <= 4.0 for t in model.temperatures)


TINY = [
    Example("路灯坏了", "municipal", "normal", "zh"),
    Example("路灯不亮", "municipal", "normal", "zh"),
    Example("street light broken", "municipal", "normal", "en"),
    Example("楼下有人打架", "public_security", "urgent", "zh"),
    Example("有人吵架", "public_security", "normal", "zh"),
    Example("someone is fighting", "public_security", "urgent", "en"),
    Example("请问社区几点开门", "other", "low", "zh"),
    Example("where is the office", "other", "low", "en"),
    Example("大家早上好", CHATTER, "low", "zh"),
    Example("谢谢", CHATTER, "low", "zh"),
    Example("good morning", CHATTER, "low", "en"),
]
FAST = Settings(min_df=1, calibration_folds=1)


def test_fit_is_deterministic_and_learns() -> None:
    first = fit(TINY, settings=FAST)
    second = fit(list(TINY), settings=FAST)
    assert first.to_bytes() == second.to_bytes()
    engine = Classifier(model=first, threshold=0.0)
    assert engine.classify("路灯坏了").category.value == "municipal"
    assert not engine.classify("大家早上好").is_report


def test_fit_with_calibration_is_deterministic() -> None:
    settings = Settings(min_df=1, calibration_folds=2)
    assert fit(TINY, settings=settings).to_bytes() == fit(TINY, settings=settings).to_bytes()


def test_fit_needs_examples() -> None:
    with pytest.raises(ValueError, match="no training examples"):
        fit([])


def test_augment_keeps_labels_and_marks_origins() -> None:
    examples, origins = augment(TINY, every=1)
    assert examples[: len(TINY)] == TINY
    assert origins[: len(TINY)] == list(range(len(TINY)))
    copies = list(zip(examples[len(TINY) :], origins[len(TINY) :], strict=True))
    assert len(copies) == sum(example.is_report for example in TINY)
    for copy, origin in copies:
        source = TINY[origin]
        assert source.text.strip() in copy.text and copy.text != source.text
        assert (copy.label, copy.priority) == (source.label, source.priority)
    assert augment(TINY, every=0) == (TINY, list(range(len(TINY))))


def test_the_model_weighs_pieces_exactly_as_scikit_learn_did_in_training() -> None:
    texts = [analyze(example.text).text for example in TINY]
    documents = [pieces(text) for text in texts]
    lexicon = [lexicon_weight(text) for text in texts]
    names, idf, x = _design(documents, lexicon, list(range(len(TINY))), min_df=1)
    model = LinearModel(
        labels=("a",),
        priorities=("p",),
        features=names,
        idf=idf,
        weights=np.zeros((len(names), 2)),
        bias=np.zeros(2),
    )
    for i, document in enumerate(documents):
        rows, values = model.vector(document, lexicon[i])
        dense = np.zeros(len(names))
        dense[rows] = values
        assert dense == pytest.approx(x[i].toarray()[0])
    assert any(name.startswith("k:") for name in names)


def test_staff_corrections_replace_the_corpus_label_or_join_as_new_examples() -> None:
    corpus = [Example("招牌松了", "city_management", "normal", "zh"), TINY[0]]
    corrections = [
        Example("招牌松了 ", "housing"),
        Example("招牌松了", "safety"),  # the later correction of the same text wins
        Example("电梯困人", "safety"),
    ]
    examples, changed = fold_corrections(corpus, corrections)
    assert [(e.text.strip(), e.label) for e in examples] == [
        ("招牌松了", "safety"),
        ("路灯坏了", "municipal"),
        ("电梯困人", "safety"),
    ]
    assert changed == 2
    assert fold_corrections(corpus, []) == (corpus, 0)
