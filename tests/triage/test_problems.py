"""The problem-and-place signature: what makes two reports one case, and what keeps them
apart. Each case here is a rule of triage/problems.py in the words residents use."""

from __future__ import annotations

import pytest

from handlers.merge import pick
from triage.problems import Verdict, compare, signature


def verdict(a: str, b: str) -> Verdict:
    return compare(signature(a), signature(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("3栋门口路灯不亮了", "3号楼门口嘅街灯壞咗"),
        ("北入口消防通道又堵了", "北门消防通道被车堵死"),
        ("8#楼门口那个电箱在冒火花", "8号楼楼下配电箱冒火花了"),
        ("C栋门口排水沟堵了", "c座排水沟还是堵的"),
        ("Block 3 lift is broken again", "3座升降机坏咗"),
        ("中心食堂后厨看到老鼠了", "食堂打饭窗口后面有老鼠"),
    ],
)
def test_one_problem_at_one_place_in_other_words_is_the_same(a: str, b: str) -> None:
    assert verdict(a, b) is Verdict.SAME


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("3栋门口那盏路灯不亮了", "三号楼下面那盏灯坏了"),  # 灯 may be the street light
        ("3栋门口人行道上那个井盖松了", "3栋楼前那块铁盖子一踩就晃"),  # 盖子: the manhole
        ("8栋楼下烧烤店油烟太大", "8栋底下烧烤摊又在冒烟"),  # 烟: the fumes (or a fire)
        ("水产区下水道堵了，污水漫了一地", "水产区这个沟还是堵的"),
        ("C栋配电房在冒烟，有焦味，能看到火花", "C栋配电间那边噼啪响，冒火花"),
    ],
)
def test_a_generic_word_or_companion_kinds_are_likely_the_same(a: str, b: str) -> None:
    assert verdict(a, b) is Verdict.LIKELY


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("3栋门口路灯不亮了", "3栋门口井盖松了"),  # two problems, one place
        ("3栋门口路灯不亮了", "7栋门口路灯不亮了"),  # one problem, two places
        ("2单元楼道灯不亮", "5单元楼道灯也不亮"),
        ("东门积水了", "西门积水了"),
        ("B1车库漏水", "B2车库漏水"),  # garage levels
        ("小学门口斑马线磨没了", "幼儿园门口斑马线磨没了"),  # the school is not the kindergarten
        ("3栋顶楼天花板渗水", "3栋外墙有一片砖空鼓，要掉"),
        ("2号楼厨房下水不通，立管堵了", "2号楼那条消防通道天天有人乱停"),
    ],
)
def test_other_problems_or_other_places_are_different(a: str, b: str) -> None:
    assert verdict(a, b) is Verdict.DIFFERENT


def test_a_place_named_to_say_it_is_not_there_does_not_count() -> None:
    """ "不止3栋，7栋也…" is a report about 7栋."""
    seven = signature("不止3栋，7栋楼下的路灯也不亮")
    assert "building:3" not in seven.places and "building:7" in seven.places
    assert compare(seven, signature("3栋门口路灯坏了")) is Verdict.DIFFERENT


def test_a_report_naming_two_buildings_is_only_maybe_one_of_them() -> None:
    assert verdict("3栋和7栋的路灯都不亮", "3栋门口路灯不亮") is Verdict.MAYBE


def test_a_report_without_a_place_is_never_merged_by_its_words_alone() -> None:
    assert verdict("3号楼2单元楼道灯不亮", "楼道灯还是不亮，有人管吗") is Verdict.MAYBE
    assert verdict("游乐区那个秋千链子断了", "秋千坏了谁报一下") is Verdict.MAYBE


def test_generic_words_count_only_when_nothing_specific_is_named() -> None:
    """ "遛狗的时候" is what the resident was doing; the light is what is wrong."""
    sig = signature("五号楼旁边那段路的灯坏了，遛狗的时候啥都看不到")
    assert sig.objects == {"any_light"}
    assert signature("3栋门口路灯不亮，灯杆也歪了").objects == {"street_light"}


def test_context_words_are_not_problems() -> None:
    assert signature("北大门出去公交站那里有个井盖一边高一边低").objects == {"manhole"}
    assert signature("负一楼二幢电梯厅门口那块顶板漏水").objects == {"leak"}


def test_stored_signatures_round_trip() -> None:
    sig = signature("B2车库靠3号电梯厅那排充电桩全都离线")
    assert sig.objects == {"charger"} and "level:b2" in sig.places
    assert type(sig).from_json(sig.to_json()) == sig


def test_pick_joins_the_oldest_same_or_the_only_likely() -> None:
    same, likely, maybe, different = Verdict.SAME, Verdict.LIKELY, Verdict.MAYBE, Verdict.DIFFERENT
    assert pick([(1, maybe), (2, same), (3, same)]) == (2, None)
    assert pick([(1, different), (2, likely)]) == (2, None)
    # "3栋那盏灯" beside a street-light case and a stair-light case at 3栋: ask the worker.
    assert pick([(1, likely), (2, likely)]) == (None, 2)
    assert pick([(1, maybe), (2, different)]) == (None, 1)
    assert pick([(1, different)]) == (None, None)
