"""The ten service categories of 「令行禁止、有呼必应」 plus ``other``.

The category codes are a stable contract: they are stored on cases, named in the org file's
``departments[].categories`` and printed by ``gridcall classify``. Display names live here
too so that every part of the bot shows a category the same way in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """A service category code; a ``StrEnum`` so that it compares equal to the stored string."""

    CITY_MANAGEMENT = "city_management"
    PUBLIC_SECURITY = "public_security"
    SAFETY = "safety"
    ENVIRONMENT = "environment"
    MUNICIPAL = "municipal"
    TRAFFIC = "traffic"
    HOUSING = "housing"
    LIVELIHOOD = "livelihood"
    PUBLIC_HEALTH = "public_health"
    ENTERPRISE = "enterprise"
    OTHER = "other"


class Priority(StrEnum):
    """How fast a case must be acknowledged and resolved; the escalation policy keys on it."""

    URGENT = "urgent"
    NORMAL = "normal"
    LOW = "low"


@dataclass(frozen=True)
class CategoryInfo:
    """What the rest of the bot needs to show and route a category without a config file.

    ``department`` is a short key rather than a unit id because org files name their own
    departments; routing maps the key to whichever configured department claims it.
    """

    name_zh: str
    name_en: str
    priority: Priority
    department: str


CATEGORY_INFO: dict[Category, CategoryInfo] = {
    Category.CITY_MANAGEMENT: CategoryInfo(
        "城市管理", "City management", Priority.NORMAL, "chengguan"
    ),
    Category.PUBLIC_SECURITY: CategoryInfo(
        "综治维稳", "Public order and mediation", Priority.NORMAL, "police"
    ),
    Category.SAFETY: CategoryInfo(
        "安全生产与消防", "Work safety and fire", Priority.NORMAL, "fire"
    ),
    Category.ENVIRONMENT: CategoryInfo("生态环境", "Environment", Priority.NORMAL, "environment"),
    Category.MUNICIPAL: CategoryInfo(
        "市政设施", "Municipal facilities", Priority.NORMAL, "municipal"
    ),
    Category.TRAFFIC: CategoryInfo(
        "交通出行", "Traffic and transport", Priority.NORMAL, "traffic_police"
    ),
    Category.HOUSING: CategoryInfo("房屋物业", "Housing and property", Priority.NORMAL, "housing"),
    Category.LIVELIHOOD: CategoryInfo(
        "民生保障", "Livelihood and welfare", Priority.NORMAL, "hrss"
    ),
    Category.PUBLIC_HEALTH: CategoryInfo(
        "卫生健康与应急", "Health and emergencies", Priority.NORMAL, "health"
    ),
    Category.ENTERPRISE: CategoryInfo(
        "企业服务与市场", "Business and market", Priority.NORMAL, "market"
    ),
    # `other` is sorted by hand in the community, so it is never the fastest lane.
    Category.OTHER: CategoryInfo("咨询建议/其他", "Enquiries and other", Priority.LOW, "community"),
}


def category_name(code: str, language: str) -> str:
    """Display name for a category code, tolerant of what callers actually hold.

    Codes come from the database and language tags from config or a user's client
    (``zh-CN``, ``en_GB``), so anything starting with ``zh`` is Chinese and everything else
    falls back to English; an unknown code is shown as itself rather than raising, because a
    message that names a category must still be sendable after a category is retired.
    """
    try:
        info = CATEGORY_INFO[Category(code)]
    except ValueError:
        return code
    return info.name_zh if language.lower().startswith("zh") else info.name_en
