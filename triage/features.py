"""What the model sees of a message: character n-grams and jieba words, by name.

Two kinds of pieces, the usual pair for Chinese text classification:

* **characters** — every 1-, 2- and 3-character slice of the text (``c:`` names), across
  punctuation and spaces as scikit-learn's ``analyzer="char"`` cuts them. Residents do not
  agree on how to spell (simplified, traditional, Cantonese characters, typos), and slices
  survive that: ``路灯`` and ``街灯`` share ``灯``, ``冇人清`` and ``没人清`` share ``人清``;
* **words** — jieba's segmentation and each pair of neighbouring words (``j:`` names), which
  tells ``电梯`` (a lift) from the ``梯`` of a ladder and keeps a phrase such as ``噪音 扰民``
  together.

Before cutting, common Cantonese words are folded into their Mandarin twins
(:func:`fold_cantonese`). This module only names the pieces; how much each weighs (tf-idf,
scaled per kind to unit length) is the model's business (:mod:`triage.linear`), because the
weights come from the corpus.

* **lexicon** — the categories the hand lexicon's phrases lean to (``k:`` names, see
  :mod:`triage.rules`): a chat line of four characters has too few pieces for the corpus
  alone to place it ("路灯坏了" shares 灯坏了 with the one "红路灯坏了" of the corpus).

Every kind is scaled to unit length on its own, so that lexicon words weigh as much in a
short line as in a long letter instead of piling up with its length: summed and unscaled,
as before, they outvoted the text of long letters and cost 8 points on the held-out ones.
"""

from __future__ import annotations

import functools
import io
import itertools
import logging
import re
from collections.abc import Mapping
from typing import Final

import jieba

from triage.rules import LEXICON_PREFIX, default_rules

MAX_MODEL_CHARS: Final = 1500
"""Characters of normalised text cut into pieces. Residents' letters put the place first
and the problem after it, often past the 600th character of a long one; 1,500 reached 1.1
points more of the held-out letters than 600 (``corpus/heldout``). It is also a bound on
the work for a pasted wall of text (the rules still see up to ``MAX_CHARS``)."""

CHAR_PREFIX: Final = "c:"
WORD_PREFIX: Final = "j:"
KINDS: Final = (CHAR_PREFIX, WORD_PREFIX, LEXICON_PREFIX)
"""Kinds of piece; each is weighed and scaled to unit length on its own."""

LEXICON_REACH: Final = 10
"""Characters up to which the lexicon kind counts in full; beyond, it weighs
``LEXICON_REACH / length``. In a chat line of a few words a lexicon phrase is the message;
in a letter of 600 characters it is one clause among many. Chosen by 3-fold
cross-validation on the training split (accuracy without the lexicon 0.875, reach 10
0.883, 30 0.877, 100 0.851); at full weight, as the sums of the old model were, the
lexicon outvoted the text of long letters."""

_SPACES_RE: Final = re.compile(r"\s+")


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


class Segmenter:
    """jieba with a given dictionary: word → frequency, as in jieba's ``dict.txt``.

    The model carries its own dictionary (the words of jieba's that its training corpus
    uses, see :func:`triage.train.dictionary`): loading jieba's whole dictionary of 350,000
    words takes half a second, a model's few tens of thousands a tenth of that, and
    training and classifying then cut text the same way by construction. An empty
    dictionary means jieba's own.
    """

    def __init__(self, words: Mapping[str, int] | None = None) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()
        if words:
            # jieba reads a dictionary only from a file and then caches it in /tmp; its
            # own parser on the lines in memory gives the same tables and writes nothing.
            lines = "".join(f"{word} {freq}\n" for word, freq in sorted(words.items()))
            freq, total = self._tokenizer.gen_pfdict(io.BytesIO(lines.encode("utf-8")))
            self._tokenizer.FREQ, self._tokenizer.total = freq, total
            self._tokenizer.initialized = True
        else:
            self._tokenizer.initialize()

    def words(self, text: str) -> list[str]:
        """jieba's words of ``text``, white space dropped."""
        return [word for word in self._tokenizer.lcut(text) if not word.isspace()]

    def known(self, word: str) -> int:
        """The word's frequency in this dictionary, 0 if it is not a word of it."""
        return int(self._tokenizer.FREQ.get(word, 0))


@functools.cache
def full_segmenter() -> Segmenter:
    """jieba with its own whole dictionary, built on first use (~0.5 s)."""
    return Segmenter()


def char_pieces(text: str) -> list[str]:
    """Every 1- to 3-character slice of ``text``, runs of white space counted as one."""
    text = _SPACES_RE.sub(" ", text)
    size = len(text)
    pieces = [CHAR_PREFIX + char for char in text]
    pieces += [CHAR_PREFIX + text[i : i + 2] for i in range(size - 1)]
    pieces += [CHAR_PREFIX + text[i : i + 3] for i in range(size - 2)]
    return pieces


def word_pieces(text: str, segmenter: Segmenter | None = None) -> list[str]:
    """jieba's words of ``text`` (white space dropped) and each pair of neighbours."""
    words = (segmenter or full_segmenter()).words(text)
    pieces = [WORD_PREFIX + word for word in words]
    pieces += [WORD_PREFIX + a + " " + b for a, b in itertools.pairwise(words)]
    return pieces


def lexicon_weight(text: str) -> float:
    """How much the lexicon kind counts for normalised ``text`` (see ``LEXICON_REACH``)."""
    return min(1.0, LEXICON_REACH / max(1, len(text)))


def prepare(text: str) -> str:
    """Normalised ``text`` as it is cut: bounded, lower case, Cantonese folded."""
    return fold_cantonese(text[:MAX_MODEL_CHARS].lower())


def pieces(text: str, segmenter: Segmenter | None = None) -> list[str]:
    """All pieces of normalised ``text``, with repeats: the model counts them."""
    lexicon = default_rules().lexicon_pieces(text[:MAX_MODEL_CHARS].lower())
    text = prepare(text)
    return char_pieces(text) + word_pieces(text, segmenter) + lexicon
