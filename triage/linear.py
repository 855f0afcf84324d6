"""The trained model: two softmax heads over one tf-idf vector, and its file format.

One head chooses among the ten categories, ``other`` and ``chatter``; the other among
``urgent``, ``normal`` and ``low``. Each head's logits are divided by a temperature
fitted at training time on out-of-fold predictions, so that its probabilities are
calibrated. A linear model is enough for a few thousand letters, it is fast on one core
(a gather and a sum per message) and its softmax output is a probability that can
honestly be shown as a confidence.

The model is trained with scikit-learn (:mod:`triage.train`) but does not need it to run:
it keeps each feature's idf and applies the same weighting as scikit-learn's
``TfidfVectorizer(sublinear_tf=True)`` — ``(1 + ln count) × idf``, scaled to unit length
within each kind of piece (the first letter of its name: ``c`` characters, ``j`` words,
``k`` lexicon) — and ``tests/triage/test_train.py`` checks that the two agree.

The file is JSON, written so that the same model always gives the same bytes:

* weights are stored as integers (the float times :data:`SCALE`, rounded), so the file
  does not depend on how a platform prints floats, and the last bits of a float sum that
  differ between CPUs vanish in the rounding;
* keys are sorted and there is one feature per line, so a retrained model diffs sensibly;
  a line is the feature's idf followed by its weight for every output; the word dictionary
  the text was cut with follows, one word and its frequency per line;
* it is not compressed: gzip output depends on the zlib build (zlib-ng differs from zlib),
  and the byte-for-byte reproducibility promise is worth more than a few hundred KB.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FORMAT: Final = "gridcall-triage-linear/2"
SCALE: Final = 10_000
"""Weights are kept to four decimals: far below anything that changes a decision."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ModelError(RuntimeError):
    """The model file is missing or not one this code can read; says which and why."""


@dataclass(frozen=True)
class Prediction:
    """Probabilities of every label and every priority, in the model's own order."""

    labels: tuple[float, ...]
    priorities: tuple[float, ...]


class LinearModel:
    """Weights plus the names that give them meaning; immutable once built."""

    def __init__(
        self,
        *,
        labels: Sequence[str],
        priorities: Sequence[str],
        features: Sequence[str],
        idf: FloatArray,
        weights: FloatArray,
        bias: FloatArray,
        temperatures: tuple[float, float] = (1.0, 1.0),
        meta: Mapping[str, Any] | None = None,
        words: Mapping[str, int] | None = None,
    ) -> None:
        outputs = len(labels) + len(priorities)
        shapes = (weights.shape, bias.shape, idf.shape)
        if shapes != ((len(features), outputs), (outputs,), (len(features),)):
            raise ModelError(
                f"weights {weights.shape} / bias {bias.shape} / idf {idf.shape} do not "
                f"match {len(features)} features x {outputs} outputs"
            )
        if len(features) and idf.min() <= 0:
            raise ModelError("every feature's idf must be positive")
        self.labels: tuple[str, ...] = tuple(labels)
        self.priorities: tuple[str, ...] = tuple(priorities)
        self.features: tuple[str, ...] = tuple(features)
        self.meta: dict[str, Any] = dict(meta or {})
        self.words: dict[str, int] = dict(words or {})
        """The word dictionary the model's text was cut with (empty: jieba's own)."""
        self.temperatures = (round(temperatures[0], 2), round(temperatures[1], 2))
        if min(self.temperatures) <= 0:
            raise ModelError(f"temperatures must be positive, got {temperatures}")
        self._index = {name: i for i, name in enumerate(self.features)}
        self._idf = idf
        kinds = sorted({name[:1] for name in self.features})
        self._kind = np.array([kinds.index(name[:1]) for name in self.features], dtype=np.int64)
        self._kinds = len(kinds)
        self._lexicon_kind = kinds.index("k") if "k" in kinds else None
        self._weights = weights
        self._bias = bias
        self._split = len(self.labels)

    def vector(self, pieces: Iterable[str], lexicon: float = 1.0) -> tuple[IntArray, FloatArray]:
        """The tf-idf vector of a message's pieces: feature rows and their values.

        Pieces the model does not know are dropped before scaling, as scikit-learn does.
        The lexicon kind (``k:``) is then multiplied by ``lexicon``
        (:func:`triage.features.lexicon_weight`).
        """
        found = [row for row in map(self._index.get, pieces) if row is not None]
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        rows, counts = np.unique(np.asarray(found, dtype=np.int64), return_counts=True)
        tf = counts.astype(np.float64)
        values: FloatArray = (1.0 + np.log(tf)) * self._idf[rows]
        kind = self._kind[rows]
        norms = np.sqrt(np.bincount(kind, weights=values * values, minlength=self._kinds))
        values /= norms[kind]
        if lexicon != 1.0 and self._lexicon_kind is not None:
            values[kind == self._lexicon_kind] *= lexicon
        return rows, values

    def logits(self, pieces: Iterable[str], lexicon: float = 1.0) -> FloatArray:
        """Raw scores of all outputs: labels first, then priorities."""
        rows, values = self.vector(pieces, lexicon)
        if not len(rows):
            return self._bias.copy()
        result: FloatArray = self._bias + values @ self._weights[rows]
        return result

    def predict(self, pieces: Iterable[str], lexicon: float = 1.0) -> Prediction:
        """Both heads' probabilities for one message's pieces (:func:`features.pieces`)."""
        z = self.logits(pieces, lexicon)
        label_t, priority_t = self.temperatures
        return Prediction(
            labels=tuple(_softmax(z[: self._split] / label_t).tolist()),
            priorities=tuple(_softmax(z[self._split :] / priority_t).tolist()),
        )

    # --- the file ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The canonical file content; equal models give equal bytes."""
        header: dict[str, Any] = {
            "bias": _quantize(self._bias),
            "format": FORMAT,
            "labels": list(self.labels),
            "meta": self.meta,
            "priorities": list(self.priorities),
            "scale": SCALE,
            "temperatures": list(self.temperatures),
        }
        lines = ["{"]
        for key in sorted(header):
            lines.append(f"{_dump(key)}:{_dump(header[key])},")
        lines.append('"weights":{')
        order = sorted(range(len(self.features)), key=lambda i: self.features[i])
        rows = [
            f"{_dump(self.features[i])}:"
            f"{_dump([round(float(self._idf[i]) * SCALE), *_quantize(self._weights[i])])}"
            for i in order
        ]
        lines.append(",\n".join(rows))
        lines.append("},")
        lines.append('"words":{')
        lines.append(",\n".join(f"{_dump(w)}:{self.words[w]}" for w in sorted(self.words)))
        lines.append("}}")
        return ("\n".join(lines) + "\n").encode("utf-8")

    def save(self, path: Path) -> None:
        """Write :meth:`to_bytes` to ``path``, creating its directory; atomic on POSIX."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "model") -> LinearModel:
        """Parse a file written by :meth:`to_bytes`."""
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelError(f"{source}: not a model file ({exc})") from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ModelError(f"{source}: expected format {FORMAT!r}")
        try:
            scale = float(raw["scale"])
            table: dict[str, list[int]] = raw["weights"]
            features = sorted(table)
            outputs = len(raw["labels"]) + len(raw["priorities"])
            matrix = np.array(
                [table[name] for name in features] or np.zeros((0, outputs + 1)),
                dtype=np.float64,
            ).reshape(len(features), outputs + 1)
            return cls(
                labels=raw["labels"],
                priorities=raw["priorities"],
                features=features,
                idf=matrix[:, 0] / scale,
                weights=matrix[:, 1:] / scale,
                bias=np.array(raw["bias"], dtype=np.float64) / scale,
                temperatures=(float(raw["temperatures"][0]), float(raw["temperatures"][1])),
                meta=raw.get("meta") or {},
                words={str(word): int(freq) for word, freq in raw["words"].items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{source}: malformed model file ({exc!r})") from exc

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model file; a missing file is a :class:`ModelError` that names it."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(
                f"cannot read the triage model {path}: {exc.strerror or exc}; "
                "rebuild it with `gridcall triage train`"
            ) from exc
        return cls.from_bytes(data, source=str(path))


def _softmax(z: FloatArray) -> FloatArray:
    shifted = np.exp(z - z.max())
    result: FloatArray = shifted / shifted.sum()
    return result


def _quantize(values: FloatArray) -> list[int]:
    return [round(float(v) * SCALE) for v in values]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
