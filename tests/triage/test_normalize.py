from __future__ import annotations

import random

from triage.normalize import MAX_CHARS, analyze, normalize


def test_nfkc_and_lower_case() -> None:
    assert normalize("ＳＴＲＥＥＴ　Ｌｉｇｈｔ") == "street light"
    assert normalize("Ｎｏ．５") == "no.5"


def test_traditional_to_simplified() -> None:
    assert normalize("樓下啲垃圾冇人清，唔該搞掂佢") == "楼下啲垃圾冇人清,唔该搞掂佢"
    assert normalize("條街水浸咗") == "条街水浸咗"
    assert normalize("電動車") == "电动车"


def test_urls_are_removed_and_counted() -> None:
    result = analyze("看这个 https://news.example.com/a?b=1 路灯坏了 www.foo.cn")
    assert result.text == "看这个路灯坏了"
    assert result.urls == 2
    bare = analyze("news.example.com/a")
    assert bare.text == "" and bare.urls == 1


def test_phone_numbers_removed_short_numbers_kept() -> None:
    result = analyze("请打13812345678或020-8888 1234，不行就打119，5栋10年")
    assert "13812345678" not in result.text and "8888" not in result.text
    assert "119" in result.text and "5栋10年" in result.text
    assert result.phones == 2


def test_emoji_and_symbols_removed() -> None:
    result = analyze("👍👍")
    assert result.text == "" and result.symbols == 2 and not result.has_content
    assert normalize("路灯🙂坏了") == "路灯坏了"


def test_spaces_between_hanzi_are_joined() -> None:
    assert normalize("电动车  充电\n好危险") == "电动车充电好危险"
    assert normalize("street  light\tbroken") == "street light broken"


def test_length_is_capped() -> None:
    result = analyze("路" * 100_000)
    assert len(result.text) == MAX_CHARS
    assert result.truncated


def test_junk_never_crashes() -> None:
    rng = random.Random(7)
    junk = bytes(rng.randrange(256) for _ in range(20_000)).decode("utf-8", errors="replace")
    result = analyze(junk + "\x00\ud800\ufffd")
    assert "\ufffd" not in result.text
    assert "\x00" not in result.text


def test_content_length_counts_letters_and_digits() -> None:
    assert analyze("!!! ok ???").content_length == 2
    assert analyze("").content_length == 0


def test_t2s_table_is_clean() -> None:
    from triage.normalize import _T2S

    for trad, simp in _T2S.items():
        assert trad != simp
        assert simp not in _T2S, chr(simp)  # one step always reaches the final form
