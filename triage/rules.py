"""The hand-written half of triage: lexicon evidence, emergencies and their negation.

The trained model decides category, report-or-chatter and routine priority. Two things
come from hand-written phrases (:mod:`triage.keywords`):

* **lexicon evidence** — the category words a phrase matcher finds, handed to the model as
  one more kind of piece (``k:`` + category, repeated by the phrase's weight), so that the
  model learns how far to trust them and, scaled to unit length like the other kinds, they
  weigh the same in a four-character chat line as in a long letter;
* **emergencies** — "有人被困", "gas leak",
  "持刀" must be urgent and suggest 119/110/120 even in a sentence unlike anything in the
  corpus, and "无人被困" / "no smoke" / "fire exit" must not be. A missed emergency costs
  far more than a false alarm, so this stays a rule that the model can add to but never
  overrule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from triage import keywords as kw
from triage.categories import Category
from triage.matcher import Match, PhraseMatcher

LEXICON_PREFIX: Final = "k:"

_NEGATION_WORDS_RE: Final = re.compile(
    r"(?:^|[^a-z'])(?:"
    + "|".join(re.escape(word) for word in sorted(kw.NEGATION_WORDS, key=len, reverse=True))
    + r") (?:[a-z']+ )?$"
)


_GUARD: Final = ""
"""The payload of a guard phrase (fire exit, 消防通道): no number, it only shadows cues."""


@dataclass(frozen=True)
class Signals:
    """What the emergency phrases found in one normalised message.

    ``numbers`` are the emergency numbers of the unnegated urgent cues in order of first
    appearance; ``negated`` is True when an urgent cue was present but negated ("无人被困"),
    and ``guarded`` when a guard phrase was ("消防通道", "fire exit"): both are evidence
    *against* an emergency that the model on its own would not see.
    """

    numbers: tuple[str, ...]
    negated: bool
    guarded: bool = False


class Rules:
    """The lexicon matchers; build once and share, they hold no per-call state."""

    def __init__(self) -> None:
        self._categories: PhraseMatcher[tuple[Category, float]] = PhraseMatcher(_category_entries())
        self._cues: PhraseMatcher[str] = PhraseMatcher(_cue_entries())

    def lexicon_pieces(self, text: str) -> list[str]:
        """``k:`` + category once per unit of weight of each distinct phrase found.

        A repeated word is emphasis, not more evidence, so each phrase counts once; a guard
        (weight 0) only hides the words inside it.
        """
        out: list[str] = []
        seen: set[str] = set()
        for match in self._categories.find(text):
            if match.phrase in seen:
                continue
            seen.add(match.phrase)
            for category, weight in match.payloads:
                out += [LEXICON_PREFIX + category.value] * round(weight)
        return out

    def signals(self, text: str) -> Signals:
        """Match ``text``, already normalised by :func:`triage.normalize.analyze`."""
        numbers: list[str] = []
        negated = guarded = False
        for hit in self._cues.find(text):
            for number in hit.payloads:
                if number == _GUARD:
                    guarded = True
                elif _negated(text, hit):
                    negated = True
                elif number not in numbers:
                    numbers.append(number)
        return Signals(tuple(numbers), negated, guarded)


def _category_entries() -> Iterable[tuple[str, tuple[Category, float]]]:
    for category, table in kw.CATEGORY_KEYWORDS.items():
        for phrase, weight in table.items():
            yield phrase, (category, weight)
    for phrase in kw.CATEGORY_GUARDS:
        yield phrase, (Category.OTHER, 0.0)


def _cue_entries() -> Iterable[tuple[str, str]]:
    yield from kw.URGENT_CUES.items()
    for phrase in kw.URGENT_GUARDS:
        yield phrase, _GUARD


def _negated(text: str, match: Match[str]) -> bool:
    before = text[max(0, match.start - 24) : match.start]
    if before.endswith(kw.NEGATIONS):
        return True
    return bool(_NEGATION_WORDS_RE.search(before))


@functools.cache
def default_rules() -> Rules:
    """The shared matchers, built on first use rather than at import."""
    return Rules()
