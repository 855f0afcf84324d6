"""Longest-first phrase matching over normalised text.

Substring search is right for Chinese, which has no spaces, and wrong for English, where
``rat`` must not fire inside ``separate``. One matcher handles both: a phrase edge that is an
ASCII letter or digit must sit on a word boundary, anything else may sit anywhere.

Overlaps are resolved longest phrase first, each character going to one phrase only. That
lets the lexicon express context with phrases alone: ``fire exit`` hides ``fire``,
``唔该晒`` (thanks) hides ``唔该`` (please), ``电动车充电`` hides ``电动车``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from triage.normalize import normalize

T = TypeVar("T")

MAX_HITS_PER_PHRASE = 4
"""Occurrences of one phrase that are kept; repeats add no meaning, only work."""

MAX_TRIES_PER_PHRASE = 32
"""Occurrences of one phrase that are examined, so that junk like ``okokok…`` stays cheap."""


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _plural_length(text: str, phrase: str, end: int) -> int:
    """Length of an English plural ending right after ``phrase`` (``s`` or ``es``), or 0."""
    if not phrase[-1].isalpha():
        return 0
    for suffix in ("s", "es") if phrase[-1] in "osxzh" else ("s",):
        stop = end + len(suffix)
        if text.startswith(suffix, end) and (stop >= len(text) or not _is_word_char(text[stop])):
            return len(suffix)
    return 0


@dataclass(frozen=True)
class Match(Generic[T]):
    """One phrase found in the text, with every payload the lexicon attached to it."""

    start: int
    end: int
    phrase: str
    payloads: tuple[T, ...]


class PhraseMatcher(Generic[T]):
    """Finds lexicon phrases in text normalised by :func:`triage.normalize.normalize`.

    Built once per lexicon; :meth:`find` then looks only at the phrases whose first two
    characters occur in the text and makes a bounded number of ``str.find`` calls for each,
    so the cost depends on the capped text length, never on the raw input, and hardly on
    the size of the lexicon.
    """

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        grouped: dict[str, list[T]] = {}
        for raw, payload in entries:
            phrase = normalize(raw)
            if phrase:
                grouped.setdefault(phrase, []).append(payload)
        # Longest first so that greedy selection prefers the most specific phrase; ties by
        # text keep the order independent of how the lexicon happens to be written.
        self._phrases: list[tuple[str, tuple[T, ...]]] = sorted(
            ((phrase, tuple(payloads)) for phrase, payloads in grouped.items()),
            key=lambda item: (-len(item[0]), item[0]),
        )
        # Index by first two characters (one for one-character phrases), so that a message
        # only looks at phrases that can occur in it instead of at the whole lexicon.
        self._by_start: dict[str, list[int]] = {}
        for rank, (phrase, _) in enumerate(self._phrases):
            self._by_start.setdefault(phrase[:2], []).append(rank)

    def __len__(self) -> int:
        return len(self._phrases)

    def find(self, text: str) -> list[Match[T]]:
        """Non-overlapping matches in text order."""
        if not text:
            return []
        index = self._by_start
        starts = {text[i : i + 2] for i in range(len(text) - 1)}
        starts.update(text)
        ranks = sorted(rank for start in starts if start in index for rank in index[start])
        taken = bytearray(len(text))
        found: list[Match[T]] = []
        for rank in ranks:
            phrase, payloads = self._phrases[rank]
            hits = tries = 0
            start = text.find(phrase)
            while start != -1 and hits < MAX_HITS_PER_PHRASE and tries < MAX_TRIES_PER_PHRASE:
                tries += 1
                end = start + len(phrase)
                if self._on_boundaries(text, phrase, start, end):
                    end = self._plural_end(text, phrase, end)
                    if not any(taken[start:end]):
                        taken[start:end] = b"\x01" * (end - start)
                        found.append(Match(start, end, phrase, payloads))
                        hits += 1
                start = text.find(phrase, start + 1)
        found.sort(key=lambda match: match.start)
        return found

    @staticmethod
    def _on_boundaries(text: str, phrase: str, start: int, end: int) -> bool:
        if _is_word_char(phrase[0]) and start > 0 and _is_word_char(text[start - 1]):
            return False
        if not _is_word_char(phrase[-1]) or end >= len(text):
            return True
        if not _is_word_char(text[end]):
            return True
        # English plural: "rats", "bins", "fights", "mosquitoes", "boxes" — but not "rates"
        # or "fired".
        return _plural_length(text, phrase, end) > 0

    @staticmethod
    def _plural_end(text: str, phrase: str, end: int) -> int:
        if _is_word_char(phrase[-1]):
            return end + _plural_length(text, phrase, end)
        return end
