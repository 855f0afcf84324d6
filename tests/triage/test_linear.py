"""The model file: canonical bytes, strict reading, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from triage.linear import LinearModel, ModelError


def _model() -> LinearModel:
    return LinearModel(
        labels=("a", "b"),
        priorities=("urgent", "normal"),
        features=("c:路", "j:light"),
        idf=np.array([1.5, 2.0]),
        weights=np.array([[0.5, -0.25, 1.0, 0.0], [-1.23456, 0.0, 0.0, 2.0]]),
        bias=np.array([0.1, 0.0, 0.0, 0.0]),
        temperatures=(0.9, 1.2),
        meta={"note": "测试"},
    )


def test_round_trip_is_canonical(tmp_path: Path) -> None:
    data = _model().to_bytes()
    again = LinearModel.from_bytes(data)
    assert again.to_bytes() == data
    assert again.temperatures == (0.9, 1.2)
    path = tmp_path / "sub" / "m.json"
    again.save(path)
    assert path.read_bytes() == data
    assert LinearModel.load(path).features == ("c:路", "j:light")


def test_weights_are_kept_to_four_decimals() -> None:
    model = LinearModel.from_bytes(_model().to_bytes())
    # One word, of its kind alone: unit length whatever its count and idf.
    assert model.logits(["j:light", "j:light"])[0] == pytest.approx(0.1 - 1.2346)


def test_each_kind_of_piece_is_weighed_by_tf_idf_and_scaled_to_unit_length() -> None:
    rows, values = _model().vector(["c:路", "c:路", "j:light", "never seen"])
    assert list(rows) == [0, 1]
    assert values == pytest.approx([1.0, 1.0])
    model = LinearModel(
        labels=("a",),
        priorities=("p",),
        features=("c:路", "c:灯"),
        idf=np.array([1.0, 2.0]),
        weights=np.zeros((2, 2)),
        bias=np.zeros(2),
    )
    rows, values = model.vector(["c:路", "c:路", "c:灯"])
    raw = np.array([1.0 + np.log(2.0), 2.0])
    assert values == pytest.approx(raw / np.linalg.norm(raw))


def test_predict_gives_probabilities_and_ignores_unknown_features() -> None:
    prediction = _model().predict(["c:路", "never seen"])
    assert sum(prediction.labels) == pytest.approx(1.0)
    assert sum(prediction.priorities) == pytest.approx(1.0)
    assert prediction.labels[0] > prediction.labels[1]
    empty = _model().predict([])
    assert sum(empty.labels) == pytest.approx(1.0)


def test_missing_file_says_how_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="gridcall triage train"):
        LinearModel.load(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b'{"format": "other"}',
        b'{"format": "gridcall-triage-linear/2"}',
        b'{"format": "gridcall-triage-linear/1", "weights": {}}',
    ],
)
def test_bad_files_are_model_errors(data: bytes) -> None:
    with pytest.raises(ModelError):
        LinearModel.from_bytes(data)


def test_shapes_must_agree() -> None:
    with pytest.raises(ModelError, match="do not match"):
        LinearModel(
            labels=("a",),
            priorities=("b",),
            features=("x",),
            idf=np.ones(1),
            weights=np.zeros((2, 2)),
            bias=np.zeros(2),
        )


def test_idf_must_be_positive() -> None:
    with pytest.raises(ModelError, match="idf"):
        LinearModel(
            labels=("a",),
            priorities=("b",),
            features=("x",),
            idf=np.zeros(1),
            weights=np.zeros((1, 2)),
            bias=np.zeros(2),
        )
