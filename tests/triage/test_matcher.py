from __future__ import annotations

from triage.matcher import PhraseMatcher


def phrases(matcher: PhraseMatcher[str], text: str) -> list[str]:
    return [match.phrase for match in matcher.find(text)]


def test_longest_phrase_wins_and_hides_shorter_ones() -> None:
    matcher = PhraseMatcher([("电动车", "a"), ("电动车充电", "b"), ("充电", "c")])
    assert phrases(matcher, "楼道有电动车充电") == ["电动车充电"]
    assert phrases(matcher, "电动车停在门口,手机充电") == ["电动车", "充电"]


def test_english_words_need_boundaries() -> None:
    matcher = PhraseMatcher([("rat", "x"), ("fire", "y")])
    assert phrases(matcher, "a separate rate") == []
    assert phrases(matcher, "rats! fired. fires") == ["rat", "fire"]
    assert phrases(matcher, "楼下有rat") == ["rat"]


def test_plural_s_extends_the_match() -> None:
    matcher = PhraseMatcher([("bin", "x")])
    [match] = matcher.find("the bins are full")
    assert (match.start, match.end) == (4, 8)


def test_payloads_are_merged_and_entries_normalised() -> None:
    matcher = PhraseMatcher([("垃圾", "a"), ("垃圾", "b"), ("樓道", "c")])
    assert [m.payloads for m in matcher.find("楼道有垃圾")] == [("c",), ("a", "b")]


def test_repeats_are_bounded() -> None:
    matcher = PhraseMatcher([("哈哈", "x")])
    assert len(matcher.find("哈" * 2000)) <= 4
    assert matcher.find("") == []
