"""Rule-based triage: category, report-or-chatter, priority.

This is the first classifier, deterministic so that the end-to-end loop and its tests can
rely on exact answers; a trained model will replace the scoring later behind the same
:class:`Triage` result and :meth:`Classifier.classify` signature.

How it decides:

* **category** — lexicon weights are summed per category and turned into probabilities
  with a softmax that includes a fixed "none of these" baseline. The baseline is what makes
  the number a confidence: one weak word against nothing still leaves real doubt, while a
  strong phrase or several agreeing words approach 1. Below :data:`CONFIDENCE_THRESHOLD`
  the message goes to ``other`` (manual sorting) rather than to a department that will only
  send it back.
* **is_report** — in a group most messages are not for the bot, so an unaddressed message
  must show a category or a complaint to be filed, and greetings, thanks, jokes, ads,
  bare links and "it's fixed now" notes are let go unless the category signal is strong.
  Urgent cues always file; being addressed (reply, mention, /report) always files.
* **priority** — urgent when an unnegated emergency cue is present (and the matching
  numbers are suggested), low for questions and suggestions that complain about nothing,
  otherwise the category's default.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from triage import keywords as kw
from triage.categories import CATEGORY_INFO, Category, Priority
from triage.matcher import Match, PhraseMatcher
from triage.normalize import Normalized, analyze

CONFIDENCE_THRESHOLD: Final = 0.35
"""Below this the category is ``other``: a wrong department costs a 回退 round trip."""

BASELINE_LOGIT: Final = 1.5
"""Score of "none of the ten". A lone weight-1 word then lands near the threshold, a single
weight-3 word around 0.8, and two categories in a tie fall below it."""

STRONG_SIGNAL: Final = 3.0
"""Category score at which a message is a report even if it also greets, thanks or jokes."""

SHORT_TEXT: Final = 3
"""Letters and digits at or below which text needs a clear category word to be a report."""

_CATEGORY_ORDER: Final = {category: index for index, category in enumerate(Category)}


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


_CHATTER: Final = frozenset({Cue.GREETING, Cue.THANKS, Cue.ACK, Cue.JOKE})

_NEGATION_WORDS_RE: Final = re.compile(
    r"(?:^|[^a-z'])(?:"
    + "|".join(re.escape(word) for word in sorted(kw.NEGATION_WORDS, key=len, reverse=True))
    + r") (?:[a-z']+ )?$"
)


@dataclass(frozen=True)
class Triage:
    """The classifier's answer for one message.

    ``confidence`` is the calibrated probability of ``category``; for ``other`` it is how
    sure the classifier was of its best real category (always below the threshold), and 0
    when there was no category signal or the message is not a report.
    """

    category: Category
    confidence: float
    is_report: bool
    priority: Priority
    emergency_numbers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``gridcall classify`` contract; other fields stay internal on purpose."""
        return {
            "category": self.category.value,
            "confidence": round(min(1.0, max(0.0, self.confidence)), 3),
            "is_report": self.is_report,
            "priority": self.priority.value,
        }


NOT_A_REPORT: Final = Triage(Category.OTHER, 0.0, False, Priority.LOW, ())
"""The answer for empty text and chatter: nothing to file, nothing to route."""


@dataclass(frozen=True)
class _Signals:
    scores: dict[Category, float]
    cues: frozenset[Cue]
    numbers: tuple[str, ...]


class Classifier:
    """Deterministic keyword classifier; build once and share, it holds no per-call state."""

    def __init__(self, *, threshold: float = CONFIDENCE_THRESHOLD) -> None:
        self.threshold = threshold
        self._categories: PhraseMatcher[tuple[Category, float]] = PhraseMatcher(_category_entries())
        self._cues: PhraseMatcher[tuple[Cue, str]] = PhraseMatcher(_cue_entries())

    def classify(self, text: str, *, addressed: bool = False) -> Triage:
        """Triage one message.

        ``addressed`` is True when the resident spoke to the bot (a reply to it, a mention,
        /report): they have told us it is a report, so chatter rules do not apply; only a
        message with no words and no link is still nothing.
        """
        norm = analyze(text)
        if not norm.has_content and not (addressed and norm.urls):
            return NOT_A_REPORT
        signals = self._signals(norm.text)
        category, confidence = self._decide(signals.scores)
        urgent = bool(signals.numbers)
        if not (addressed or urgent or self._looks_like_report(norm, signals, category)):
            return NOT_A_REPORT
        return Triage(
            category=category,
            confidence=confidence,
            is_report=True,
            priority=self._priority(category, signals),
            emergency_numbers=signals.numbers,
        )

    def _signals(self, text: str) -> _Signals:
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
        for hit in self._cues.find(text):
            for cue, number in hit.payloads:
                if cue is Cue.URGENT:
                    if _negated(text, hit):
                        continue
                    if number not in numbers:
                        numbers.append(number)
                cues.add(cue)
        return _Signals(scores, frozenset(cues), tuple(numbers))

    def _decide(self, scores: dict[Category, float]) -> tuple[Category, float]:
        if not scores:
            return Category.OTHER, 0.0
        best, top = min(scores.items(), key=lambda item: (-item[1], _CATEGORY_ORDER[item[0]]))
        shift = max(top, BASELINE_LOGIT)  # keep exp() in range however long the text
        total = math.exp(BASELINE_LOGIT - shift) + sum(
            math.exp(score - shift) for score in scores.values()
        )
        confidence = math.exp(top - shift) / total
        if confidence < self.threshold:
            return Category.OTHER, confidence
        return best, confidence

    @staticmethod
    def _looks_like_report(norm: Normalized, signals: _Signals, category: Category) -> bool:
        """Whether an unaddressed, non-urgent message should become a case."""
        if not norm.has_content:  # a bare link or emoji
            return False
        cues = signals.cues
        complaint = Cue.COMPLAINT in cues
        signal = max(signals.scores.values(), default=0.0)
        if Cue.RESOLVED in cues and not complaint:
            return False
        if Cue.AD in cues and signal < STRONG_SIGNAL:
            return False
        if cues & _CHATTER and not complaint and signal < STRONG_SIGNAL:
            return False
        if norm.content_length <= SHORT_TEXT and signal < 2.0:
            return False
        return category is not Category.OTHER or complaint

    @staticmethod
    def _priority(category: Category, signals: _Signals) -> Priority:
        if signals.numbers:
            return Priority.URGENT
        complaint = Cue.COMPLAINT in signals.cues
        if Cue.LOW in signals.cues and not complaint:
            return Priority.LOW
        if category is Category.OTHER and complaint:
            return Priority.NORMAL
        return CATEGORY_INFO[category].priority


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
def default_classifier() -> Classifier:
    """The shared instance: the matchers are built on first use, not at import."""
    return Classifier()


def classify(text: str, *, addressed: bool = False) -> Triage:
    """Classify with the shared :class:`Classifier`; see :meth:`Classifier.classify`."""
    return default_classifier().classify(text, addressed=addressed)
