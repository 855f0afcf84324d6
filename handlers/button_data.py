"""What a button says when pressed: one typed value per kind, packed into a short string.

Telegram allows 64 bytes of callback data and DingTalk and WeCom carry a similar string, so
each kind is a prefix and its fields (``c:42:ack``). Packing and parsing live only here (as
aiogram's ``CallbackData`` does it), so a builder and its parser cannot drift apart.

Button data carries no authority: it names a case and an action, and the press is checked
against who pressed it and the case's state now. Anything that does not parse is a forged
or stale button and gets one alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal, get_args

CaseActionName = Literal["ack", "resolve", "return", "escalate", "recat", "full", "merge"]
RatingName = Literal["good", "ok", "bad"]
OrderActionName = Literal["ack", "done"]


def _choices(literal: object) -> str:
    return "|".join(get_args(literal))


@dataclass(frozen=True)
class CaseAction:
    """接单 / 办结 / 回退 / 提级 / 改类 / 全文 / 合并 on a case card."""

    case_id: int
    action: CaseActionName

    pattern: ClassVar[re.Pattern[str]] = re.compile(rf"c:(\d{{1,12}}):({_choices(CaseActionName)})")

    def pack(self) -> str:
        return f"c:{self.case_id}:{self.action}"


@dataclass(frozen=True)
class PlaceChoice:
    """A resident in a chat that serves several grids picks theirs."""

    grid_id: str

    pattern: ClassVar[re.Pattern[str]] = re.compile(r"p:([a-z0-9_-]{1,64})")

    def pack(self) -> str:
        return f"p:{self.grid_id}"


@dataclass(frozen=True)
class CategoryChoice:
    """A category picked for a case: the top two for an unsure triage, or 改类's list."""

    case_id: int
    code: str

    pattern: ClassVar[re.Pattern[str]] = re.compile(r"r:(\d{1,12}):([a-z_]{1,32})")

    def pack(self) -> str:
        return f"r:{self.case_id}:{self.code}"


@dataclass(frozen=True)
class Feedback:
    """满意 / 基本满意 / 不满意 from the case's resident."""

    case_id: int
    rating: RatingName

    pattern: ClassVar[re.Pattern[str]] = re.compile(rf"f:(\d{{1,12}}):({_choices(RatingName)})")

    def pack(self) -> str:
        return f"f:{self.case_id}:{self.rating}"


@dataclass(frozen=True)
class OrderAction:
    """收到 / 完成 on an order's card (交办)."""

    target_id: int
    action: OrderActionName

    pattern: ClassVar[re.Pattern[str]] = re.compile(
        rf"o:(\d{{1,12}}):({_choices(OrderActionName)})"
    )

    def pack(self) -> str:
        return f"o:{self.target_id}:{self.action}"


ButtonData = CaseAction | PlaceChoice | CategoryChoice | Feedback | OrderAction


def parse(data: str) -> ButtonData | None:
    """The button's value, or None for data no button of ours carries."""
    if match := CaseAction.pattern.fullmatch(data):
        return CaseAction(int(match[1]), match[2])  # type: ignore[arg-type]
    if match := PlaceChoice.pattern.fullmatch(data):
        return PlaceChoice(match[1])
    if match := CategoryChoice.pattern.fullmatch(data):
        return CategoryChoice(int(match[1]), match[2])
    if match := Feedback.pattern.fullmatch(data):
        return Feedback(int(match[1]), match[2])  # type: ignore[arg-type]
    if match := OrderAction.pattern.fullmatch(data):
        return OrderAction(int(match[1]), match[2])  # type: ignore[arg-type]
    return None
