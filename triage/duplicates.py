"""Duplicate matching: is a new report the same problem as an open case?

Neighbours report the same broken street light in different words, or from the same spot.
Wording is compared as sets of characters, character bigrams and English words of the
normalised text (robust to word order, punctuation and the mix of Chinese and English);
places by great-circle distance.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from triage.normalize import normalize

EARTH_RADIUS_M = 6_371_000.0


_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z0-9]+")
# Characters and words that say nothing about *which* problem it is.
_STOP_CHARS = frozenset("的了是在有很都也就我你他她们这那啊呢吧吗个和与")
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "and",
        "or",
        "it",
        "its",
        "this",
        "that",
        "there",
        "my",
        "our",
        "your",
        "very",
        "please",
        "again",
        "still",
    ]
)


def grams(text: str) -> frozenset[str]:
    """What a report is about, as comparable pieces: Chinese characters and character
    bigrams (word boundaries are not written in Chinese), and English words."""
    norm = normalize(text)
    out: set[str] = set()
    for run in _CJK_RUN.findall(norm):
        out.update(ch for ch in run if ch not in _STOP_CHARS)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    out.update(w for w in _WORD.findall(norm) if w not in _STOP_WORDS)
    return frozenset(out)


def similarity(a: str, b: str) -> float:
    """Overlap of the two reports' pieces relative to the smaller set (0..1).

    Relative to the shorter report, not the union: "路灯坏了" is the same problem as a long
    paragraph about the same street light.
    """
    ga, gb = grams(a), grams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance in metres between two (lon, lat) points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Candidate:
    """An open case of the same grid and category, with what its reporters said."""

    case_id: int
    texts: tuple[str, ...]
    places: tuple[tuple[float, float], ...] = ()


def best_match(
    text: str,
    place: tuple[float, float] | None,
    candidates: Iterable[Candidate],
    *,
    min_similarity: float,
    radius_m: float,
) -> int | None:
    """The case the report duplicates, or None: the most similar wins, then the nearest,
    then the oldest."""
    ranked: list[tuple[tuple[float, float, int], int]] = []
    for candidate in candidates:
        score = max((similarity(text, t) for t in candidate.texts), default=0.0)
        near = math.inf
        if place is not None and candidate.places:
            near = min(distance_m(place, p) for p in candidate.places)
        if score >= min_similarity or near <= radius_m:
            ranked.append(((score, -near, -candidate.case_id), candidate.case_id))
    return max(ranked)[1] if ranked else None
