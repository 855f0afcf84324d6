"""Features: what the model sees of a message."""

from __future__ import annotations

from triage.features import MAX_MODEL_CHARS, extract, fold_cantonese, text_features
from triage.rules import default_rules


def test_chinese_is_cut_into_character_ngrams() -> None:
    grams = text_features("路灯坏了")
    assert {"c:路", "c:路灯", "c:路灯坏", "c:了"} <= grams
    assert "c:路灯坏了" not in grams


def test_english_words_pairs_and_pieces() -> None:
    grams = text_features("street lights broken")
    assert {"w:street", "w:light", "b:street_light", "s:<st", "s:et>"} <= grams


def test_long_numbers_collapse_and_short_ones_stay() -> None:
    grams = text_features("call 119 or 13800138000")
    assert "w:119" in grams
    assert "w:########" in grams


def test_cantonese_folds_into_mandarin() -> None:
    assert fold_cantonese("楼下啲垃圾冇人清") == "楼下的垃圾没人清"
    assert text_features("佢哋喺度") == text_features("他们在度")


def test_rule_and_concept_features_come_along() -> None:
    _, signals, features = extract(
        "谢谢！楼下路灯坏了，好危险 https://x.cn 13800138000", default_rules()
    )
    assert "L:municipal" in features
    assert "K:street_light" in features and "K:danger" in features
    assert {"Q:thanks", "M:url", "M:phone", "M:exclaim"} <= set(features)
    assert signals.numbers == ()


def test_emergencies_and_their_negation_are_features() -> None:
    assert "Q:emergency" in extract("有人被困", default_rules())[2]
    features = extract("无人被困", default_rules())[2]
    assert "Q:negated" in features and "Q:emergency" not in features


def test_work_is_bounded() -> None:
    assert len(text_features("路" * 100_000)) == 3
    assert len(text_features("楼下路灯坏了" * 10_000)) <= 3 * MAX_MODEL_CHARS
