"""Duplicate matching: wording and place."""

from __future__ import annotations

import pytest

from triage.duplicates import Candidate, best_match, distance_m, similarity


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("小区门口的路灯坏了三天", "门口路灯坏了，晚上黑麻麻", True),
        ("小区门口的路灯坏了三天", "小區門口路燈壞咗好幾日", True),  # traditional + Cantonese
        ("street light broken", "The street light outside block 5 is broken!!", True),
        ("小区门口的路灯坏了三天", "楼下垃圾堆了一个星期没人清", False),
        ("路灯坏了三天", "井盖丢了", False),
        ("street light broken", "car parked on the pavement", False),
    ],
)
def test_similar_wording(a: str, b: str, same: bool) -> None:
    assert (similarity(a, b) >= 0.4) is same


def test_empty_text_is_never_similar() -> None:
    assert similarity("", "路灯坏了") == 0.0
    assert similarity("😀😀", "😀😀") == 0.0


def test_distance_is_in_metres() -> None:
    # 0.001° of latitude is about 111 m anywhere.
    assert distance_m((113.28, 23.110), (113.28, 23.111)) == pytest.approx(111.2, abs=0.5)


def test_best_match_prefers_similar_then_near_then_old() -> None:
    candidates = [
        Candidate(1, ("楼下垃圾没人清",), ((113.2800, 23.1100),)),
        Candidate(2, ("路灯不亮，水管也漏水",), ((113.2900, 23.1200),)),
        Candidate(3, ("路灯坏了三天",), ()),
    ]
    assert best_match("门口路灯坏了三天", None, candidates, min_similarity=0.4, radius_m=150) == 3
    # Different words but reported from the same spot as case 1.
    near = (113.2801, 23.1101)
    assert best_match("这里好脏", near, candidates, min_similarity=0.4, radius_m=150) == 1
    assert (
        best_match("这里好脏", (113.0, 23.0), candidates, min_similarity=0.4, radius_m=150) is None
    )
