"""Features: the pieces the model sees of a message."""

from __future__ import annotations

from triage.features import MAX_MODEL_CHARS, char_pieces, fold_cantonese, pieces, word_pieces


def test_text_is_cut_into_one_to_three_character_slices() -> None:
    cut = char_pieces("路灯坏了")
    assert {"c:路", "c:路灯", "c:路灯坏", "c:了"} <= set(cut)
    assert "c:路灯坏了" not in cut
    assert len(cut) == 4 + 3 + 2


def test_white_space_runs_count_as_one_space() -> None:
    assert char_pieces("a \n\t b") == char_pieces("a b")


def test_jieba_words_and_their_neighbours() -> None:
    cut = word_pieces("楼下的路灯坏了")
    assert "j:路灯" in cut
    assert any(piece.startswith("j:") and " " in piece for piece in cut)
    assert not any(piece.strip() == "j:" for piece in cut)


def test_pieces_count_repeats_and_fold_case_and_cantonese() -> None:
    assert pieces("Street LIGHT") == pieces("street light")
    assert fold_cantonese("楼下啲垃圾冇人清") == "楼下的垃圾没人清"
    assert pieces("佢哋喺度") == pieces("他们在度")
    assert pieces("灯灯").count("c:灯") == 2


def test_work_is_bounded() -> None:
    assert len(pieces("路" * 100_000)) <= 6 * MAX_MODEL_CHARS
    assert len(pieces("楼下路灯坏了" * 10_000)) <= 6 * MAX_MODEL_CHARS
