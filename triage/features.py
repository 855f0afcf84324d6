"""Features of one message for the linear model: what the text says and what the rules saw.

Chinese has no spaces and residents do not agree on how to spell (simplified, traditional,
Cantonese characters, typos), so the text is cut into character n-grams rather than words:
``路灯`` and ``街灯`` share ``灯``, ``冇人清`` and ``没人清`` share ``人清``. English is cut into
words and word pairs, plus the character trigrams of each word, so that ``strret lihgt``
still shares most of its pieces with ``street light``.

Before cutting, common Cantonese words are folded into their Mandarin twins
(:func:`fold_cantonese`), so that a Cantonese report shares its pieces with the Mandarin
ones. Every n-gram counts once, and the n-gram block is scaled to unit length so that a
long message is not more certain merely for being long. The rule features (lexicon sums
per category, concept groups, cue kinds, links, phone numbers, emoji) are added
unscaled: they carry knowledge the corpus is too small to teach, and the model learns how
far to trust them.

Feature names are plain strings with a one-letter kind prefix, so that the shipped model
file can be read (and diffed) by a person.
"""

from __future__ import annotations

import math
from typing import Final

from triage.normalize import Normalized, analyze
from triage.rules import Rules, Signals

MAX_MODEL_CHARS: Final = 1500
"""Characters of normalised text cut into n-grams. Residents' letters put the place first
and the problem after it, often past the 600th character of a long one; 1,500 reached 1.1
points more of the held-out letters than 600 (``corpus/heldout``). It is also a bound on
the work for a pasted wall of text (the rules still see up to ``MAX_CHARS``)."""

LEXICON_CAP: Final = 8.0
"""Lexicon sums above this say nothing more; capping keeps a keyword dump from dominating."""

_CJK_RANGES: Final = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _segments(text: str) -> tuple[list[str], list[str]]:
    """Split into runs of hanzi and into other words (Latin letters, digits, kana…)."""
    runs: list[str] = []
    words: list[str] = []
    run: list[str] = []
    word: list[str] = []
    for char in text:
        if char.isalnum() and _is_cjk(char):
            if word:
                words.append("".join(word))
                word = []
            run.append(char)
        elif char.isalnum():
            if run:
                runs.append("".join(run))
                run = []
            word.append(char)
        else:
            if run:
                runs.append("".join(run))
                run = []
            if word:
                words.append("".join(word))
                word = []
    if run:
        runs.append("".join(run))
    if word:
        words.append("".join(word))
    return runs, words


# Cantonese words folded into their Mandarin twins before n-grams are cut, so that
# "楼下啲垃圾冇人清" and "楼下的垃圾没人清" share their pieces; longest first. Only words
# whose Cantonese sense is the everyday one in a neighbourhood chat are folded (人工 is
# wages here, not "artificial"); ambiguous characters (系, 呢, 边, 食) are left alone.
_YUE_TO_ZH: Final = (
    ("边度", "哪里"),
    ("乜嘢", "什么"),
    ("咩嘢", "什么"),
    ("点解", "为什么"),
    ("点样", "怎样"),
    ("成日", "经常"),
    ("头先", "刚才"),
    ("琴日", "昨天"),
    ("今日", "今天"),
    ("听日", "明天"),
    ("而家", "现在"),
    ("宜家", "现在"),
    ("隔篱", "隔壁"),
    ("唔该", "请"),
    ("系咪", "是不是"),
    ("咁样", "这样"),
    ("嗰度", "那里"),
    ("呢度", "这里"),
    ("屋企", "家"),
    ("水喉", "水管"),
    ("雪柜", "冰箱"),
    ("泊车", "停车"),
    ("差佬", "警察"),
    ("老细", "老板"),
    ("人工", "工资"),
    ("巴士", "公交"),
    ("的士", "出租车"),
    ("𨋢", "电梯"),
    ("啲", "的"),
    ("咗", "了"),
    ("嘅", "的"),
    ("喺", "在"),
    ("冇", "没"),
    ("唔", "不"),
    ("佢", "他"),
    ("哋", "们"),
    ("嗰", "那"),
    ("咁", "这么"),
    ("嘢", "东西"),
    ("睇", "看"),
    ("揾", "找"),
    ("瞓", "睡"),
    ("嚟", "来"),
    ("畀", "给"),
    ("俾", "给"),
    ("攞", "拿"),
    ("仲", "还"),
    ("嘈", "吵"),
    ("咩", "什么"),
    ("乜", "什么"),
)


def fold_cantonese(text: str) -> str:
    """``text`` with common Cantonese words replaced by Mandarin ones (see above)."""
    if not any(word[0] in text for word, _ in _YUE_TO_ZH):
        return text
    for word, mandarin in _YUE_TO_ZH:
        if word in text:
            text = text.replace(word, mandarin)
    return text


def _word_key(word: str) -> str:
    """A word as the model sees it: long numbers collapse, English is roughly stemmed."""
    if word.isdigit():
        return word if len(word) <= 4 else "#" * min(len(word), 8)
    if not word.isascii():
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("oes", "xes", "ches", "shes", "sses")):
        return word[:-2]
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def text_features(text: str) -> set[str]:
    """The n-gram features of normalised ``text``."""
    runs, words = _segments(fold_cantonese(text[:MAX_MODEL_CHARS]))
    grams: set[str] = set()
    for run in runs:
        size = len(run)
        for i in range(size):
            grams.add("c:" + run[i])
            if i + 1 < size:
                grams.add("c:" + run[i : i + 2])
                if i + 2 < size:
                    grams.add("c:" + run[i : i + 3])
    previous = ""
    for raw in words:
        word = _word_key(raw)
        grams.add("w:" + word)
        if previous:
            grams.add("b:" + previous + "_" + word)
        previous = word
        if len(word) >= 4 and word.isalpha():
            padded = "<" + word + ">"
            for i in range(len(padded) - 2):
                grams.add("s:" + padded[i : i + 3])
    return grams


def features(norm: Normalized, signals: Signals) -> dict[str, float]:
    """All features of one message, name to value; absent names are zero."""
    grams = text_features(norm.text)
    out: dict[str, float] = {}
    if grams:
        scale = 1.0 / math.sqrt(len(grams))
        out = dict.fromkeys(grams, scale)
    for category, score in signals.scores.items():
        out["L:" + category.value] = min(score, LEXICON_CAP) / 4.0
    for concept in signals.concepts:
        out["K:" + concept] = 1.0
    for cue in signals.cues:
        out["Q:" + cue.value] = 1.0
    if signals.numbers:
        out["Q:emergency"] = 1.0
    if signals.negated:
        out["Q:negated"] = 1.0
    if norm.urls:
        out["M:url"] = 1.0
    if norm.phones:
        out["M:phone"] = 1.0
    if norm.symbols:
        out["M:symbols"] = 1.0
    if "?" in norm.text:  # NFKC has already folded "？" into "?"
        out["M:question"] = 1.0
    exclaims = norm.text.count("!")
    if exclaims:
        out["M:exclaim"] = 1.0
    if exclaims >= 2:  # "!!" is alarm more often than cheer
        out["M:exclaims"] = 1.0
    # No feature says how long the message is: with a corpus of long letters and short
    # chat lines, length alone taught the model that a short report ("6号楼路面塌陷") is
    # chatter. Length may never decide (corpus/GUIDE.md writes long chatter for that reason).
    # One constant feature instead, so that a message of nothing but rare pieces (an emoji
    # seen once) still has one the model knows.
    out["M:message"] = 1.0
    return out


def extract(text: str, rules: Rules) -> tuple[Normalized, Signals, dict[str, float]]:
    """Normalise, match and featurise in one step: training and classifying must agree."""
    norm = analyze(text)
    signals = rules.signals(norm.text)
    return norm, signals, features(norm, signals)
