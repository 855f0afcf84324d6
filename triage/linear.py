"""The trained model: two softmax heads over one sparse feature vector, and its file format.

One head chooses among the ten categories, ``other`` and ``chatter``; the other among
``urgent``, ``normal`` and ``low``. Each head's logits are divided by a temperature
fitted at training time on out-of-fold predictions, so that its probabilities are
calibrated. A linear model is enough for a few thousand short messages, it is fast on
one core (a gather and a sum per message) and its softmax output is a probability that
can honestly be shown as a confidence.

The file is JSON, written so that the same model always gives the same bytes:

* weights are stored as integers (the float times :data:`SCALE`, rounded), so the file
  does not depend on how a platform prints floats, and the last bits of a float sum that
  differ between CPUs vanish in the rounding;
* keys are sorted and there is one feature per line, so a retrained model diffs sensibly;
* it is not compressed: gzip output depends on the zlib build (zlib-ng differs from zlib),
  and the byte-for-byte reproducibility promise is worth more than a few hundred KB.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FORMAT: Final = "gridcall-triage-linear/1"
SCALE: Final = 10_000
"""Weights are kept to four decimals: far below anything that changes a decision."""

FloatArray = npt.NDArray[np.float64]


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
        weights: FloatArray,
        bias: FloatArray,
        temperatures: tuple[float, float] = (1.0, 1.0),
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        outputs = len(labels) + len(priorities)
        if weights.shape != (len(features), outputs) or bias.shape != (outputs,):
            raise ModelError(
                f"weights {weights.shape} / bias {bias.shape} do not match "
                f"{len(features)} features x {outputs} outputs"
            )
        self.labels: tuple[str, ...] = tuple(labels)
        self.priorities: tuple[str, ...] = tuple(priorities)
        self.features: tuple[str, ...] = tuple(features)
        self.meta: dict[str, Any] = dict(meta or {})
        self.temperatures = (round(temperatures[0], 2), round(temperatures[1], 2))
        if min(self.temperatures) <= 0:
            raise ModelError(f"temperatures must be positive, got {temperatures}")
        self._index = {name: i for i, name in enumerate(self.features)}
        self._weights = weights
        self._bias = bias
        self._split = len(self.labels)

    def logits(self, features: Mapping[str, float]) -> FloatArray:
        """Raw scores of all outputs: labels first, then priorities."""
        index = self._index
        rows: list[int] = []
        values: list[float] = []
        for name, value in features.items():
            row = index.get(name)
            if row is not None:
                rows.append(row)
                values.append(value)
        if not rows:
            return self._bias.copy()
        picked = self._weights[rows]
        result: FloatArray = self._bias + np.asarray(values, dtype=np.float64) @ picked
        return result

    def predict(self, features: Mapping[str, float]) -> Prediction:
        """Both heads' probabilities for one message's features."""
        z = self.logits(features)
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
        rows = [f"{_dump(self.features[i])}:{_dump(_quantize(self._weights[i]))}" for i in order]
        lines.append(",\n".join(rows))
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
            weights = np.array(
                [table[name] for name in features] or np.zeros((0, outputs)),
                dtype=np.float64,
            ).reshape(len(features), outputs)
            return cls(
                labels=raw["labels"],
                priorities=raw["priorities"],
                features=features,
                weights=weights / scale,
                bias=np.array(raw["bias"], dtype=np.float64) / scale,
                temperatures=(float(raw["temperatures"][0]), float(raw["temperatures"][1])),
                meta=raw.get("meta") or {},
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
