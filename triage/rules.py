"""The hand-written half of triage: lexicon evidence, cues, emergencies and their negation.

The trained model decides category, report-or-chatter and routine priority, but a few
things are better said by rules than learned from some hundreds of examples:

* **emergencies** — "有人被困", "gas leak", "持刀" must be urgent and suggest 119/110/120 even
  in a sentence unlike anything in the corpus, and "无人被困" / "no smoke" / "fire exit" must
  not be. A missed emergency costs far more than a false alarm, so this stays a rule that
  the model can add to but never overrule.
* **prior knowledge** — the lexicon in :mod:`triage.keywords` took real effort and covers
  words the corpus may never show. Its per-category sums and the cue kinds (greeting, thanks,
  complaint, question…) are handed to the model as features, so that the model learns how
  much to trust each instead of the weights being guessed by hand.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from triage import keywords as kw
from triage.categories import Category
from triage.concepts import CONCEPTS
from triage.matcher import Match, PhraseMatcher


class Cue(StrEnum):
    """Kinds of category-neutral phrases; each phrase has exactly one kind."""

    URGENT = "urgent"
    GUARD = "guard"
    LOW = "low"
    COMPLAINT = "complaint"
    GREETING = "greeting"
    THANKS = "thanks"
    ACK = "ack"
    JOKE = "joke"
    AD = "ad"
    RESOLVED = "resolved"


_NEGATION_WORDS_RE: Final = re.compile(
    r"(?:^|[^a-z'])(?:"
    + "|".join(re.escape(word) for word in sorted(kw.NEGATION_WORDS, key=len, reverse=True))
    + r") (?:[a-z']+ )?$"
)


@dataclass(frozen=True)
class Signals:
    """What the lexicon found in one normalised message.

    ``numbers`` are the emergency numbers of the unnegated urgent cues in order of first
    appearance; ``negated`` is True when an urgent cue was present but negated ("无人被困"),
    which is evidence *against* an emergency that the model on its own would not see.
    """

    scores: dict[Category, float]
    cues: frozenset[Cue]
    numbers: tuple[str, ...]
    negated: bool
    concepts: frozenset[str] = frozenset()


class Rules:
    """The lexicon matchers; build once and share, they hold no per-call state."""

    def __init__(self) -> None:
        self._categories: PhraseMatcher[tuple[Category, float]] = PhraseMatcher(_category_entries())
        self._cues: PhraseMatcher[tuple[Cue, str]] = PhraseMatcher(_cue_entries())
        self._concepts: PhraseMatcher[str] = PhraseMatcher(
            (phrase, name) for name, phrases in CONCEPTS.items() for phrase in phrases
        )

    def signals(self, text: str) -> Signals:
        """Match ``text``, already normalised by :func:`triage.normalize.analyze`."""
        scores: dict[Category, float] = {}
        seen: set[str] = set()
        for match in self._categories.find(text):
            if match.phrase in seen:  # a repeated word is emphasis, not more evidence
                continue
            seen.add(match.phrase)
            for category, weight in match.payloads:
                if weight <= 0:  # a guard: it only hides the words inside it
                    continue
                scores[category] = scores.get(category, 0.0) + weight
        cues: set[Cue] = set()
        numbers: list[str] = []
        negated = False
        for hit in self._cues.find(text):
            for cue, number in hit.payloads:
                if cue is Cue.URGENT:
                    if _negated(text, hit):
                        negated = True
                        continue
                    if number not in numbers:
                        numbers.append(number)
                cues.add(cue)
        concepts = frozenset(name for match in self._concepts.find(text) for name in match.payloads)
        return Signals(scores, frozenset(cues), tuple(numbers), negated, concepts)


def _category_entries() -> Iterable[tuple[str, tuple[Category, float]]]:
    for category, table in kw.CATEGORY_KEYWORDS.items():
        for phrase, weight in table.items():
            yield phrase, (category, weight)
    for phrase in kw.CATEGORY_GUARDS:
        yield phrase, (Category.OTHER, 0.0)


def _cue_entries() -> Iterable[tuple[str, tuple[Cue, str]]]:
    for phrase, number in kw.URGENT_CUES.items():
        yield phrase, (Cue.URGENT, number)
    groups: tuple[tuple[Cue, tuple[str, ...]], ...] = (
        (Cue.GUARD, kw.URGENT_GUARDS),
        (Cue.LOW, kw.LOW_CUES),
        (Cue.COMPLAINT, kw.COMPLAINT_CUES),
        (Cue.GREETING, kw.GREETING_CUES),
        (Cue.THANKS, kw.THANKS_CUES),
        (Cue.ACK, kw.ACK_CUES),
        (Cue.JOKE, kw.JOKE_CUES),
        (Cue.AD, kw.AD_CUES),
        (Cue.RESOLVED, kw.RESOLVED_CUES),
    )
    for cue, phrases in groups:
        for phrase in phrases:
            yield phrase, (cue, "")


def _negated(text: str, match: Match[tuple[Cue, str]]) -> bool:
    before = text[max(0, match.start - 24) : match.start]
    if before.endswith(kw.NEGATIONS):
        return True
    return bool(_NEGATION_WORDS_RE.search(before))


@functools.cache
def default_rules() -> Rules:
    """The shared matchers, built on first use rather than at import."""
    return Rules()
