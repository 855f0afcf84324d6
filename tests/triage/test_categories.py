from __future__ import annotations

import pytest

from triage.categories import CATEGORY_INFO, Category, Priority, category_name

CODES = [
    "city_management",
    "public_security",
    "safety",
    "environment",
    "municipal",
    "traffic",
    "housing",
    "livelihood",
    "public_health",
    "enterprise",
    "other",
]


def test_codes_are_the_stable_contract() -> None:
    assert [category.value for category in Category] == CODES
    assert Category("traffic") == "traffic"


def test_every_category_has_info() -> None:
    assert set(CATEGORY_INFO) == set(Category)
    departments = {info.department for info in CATEGORY_INFO.values()}
    assert {
        "chengguan",
        "police",
        "fire",
        "environment",
        "municipal",
        "traffic_police",
        "housing",
        "hrss",
        "health",
        "market",
    } <= departments
    for info in CATEGORY_INFO.values():
        assert info.name_zh and info.name_en
        assert isinstance(info.priority, Priority)


def test_department_of_known_categories() -> None:
    assert CATEGORY_INFO[Category.TRAFFIC].department == "traffic_police"
    assert CATEGORY_INFO[Category.LIVELIHOOD].department == "hrss"
    assert CATEGORY_INFO[Category.ENTERPRISE].department == "market"


@pytest.mark.parametrize(
    ("code", "language", "expected"),
    [
        ("city_management", "zh", "城市管理"),
        ("public_security", "zh", "综治维稳"),
        ("municipal", "en", "Municipal facilities"),
        ("safety", "zh-CN", "安全生产与消防"),
        ("safety", "EN", "Work safety and fire"),
        ("no_such_code", "zh", "no_such_code"),
        ("", "en", ""),
    ],
)
def test_category_name(code: str, language: str, expected: str) -> None:
    assert category_name(code, language) == expected
