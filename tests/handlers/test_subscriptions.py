"""`/subscribe` words → filters, without a database or a chat platform."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.clock import FakeClock
from handlers.context import Services
from handlers.events import InboundEvent
from handlers.subscriptions import ask_admins, parse
from org.view import OrgView, PersonView, UnitView
from storage.subscriptions import Filters
from triage.classifier import classify

ORG = OrgView(
    name="测试区",
    language="zh",
    timezone="Asia/Shanghai",
    case_prefix="HZ",
    units={
        u.id: u
        for u in (
            UnitView("haizhuang", "海幢街道", "street", chat_id=-1001001),
            UnitView("baoyuzhi", "宝玉直社区", "community", "haizhuang", -1001002),
            UnitView("baoyuzhi-1", "宝玉直第一网格", "grid", "baoyuzhi", -1001003),
            UnitView(
                "traffic-police", "交警大队", "department", None, -1001902, False, ("traffic",)
            ),
            UnitView("leadership", "领导", "leadership", None, -1001999),
        )
    },
    people={
        5009: PersonView(5009, "李书记", frozenset({"leader"})),
        5001: PersonView(5001, "张三", frozenset({"grid_worker"}), frozenset({"baoyuzhi-1"})),
    },
    resident_chats={-1002001: "baoyuzhi-1"},
)


@pytest.mark.parametrize(
    ("args", "filters"),
    [
        ("", Filters.of()),
        (
            "街道 海幢街道 交通出行 紧急",
            Filters.of(["street"], ["haizhuang"], ["traffic"], ["urgent"]),
        ),
        (
            "street,leadership haizhuang baoyuzhi",
            Filters.of(["leadership", "street"], ["baoyuzhi", "haizhuang"]),
        ),
        ("领导、社区", Filters.of(["community", "leadership"])),
        (
            "Public health & emergencies  Traffic and transport",
            Filters.of(categories=["public_health", "traffic"]),
        ),
        (
            "level=street unit=宝玉直社区 category=municipal priority=一般",
            Filters.of(["street"], ["baoyuzhi"], ["municipal"], ["normal"]),
        ),
        ("LEVEL＝Street 市政设施", Filters.of(["street"], categories=["municipal"])),
    ],
)
def test_words_become_filters(args: str, filters: Filters) -> None:
    request = parse(ORG, args)
    assert request.problem is None
    assert request.filters == filters


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (
            "海珠街道",
            ("subscribe_unknown", {"word": "海珠街道", "suggestion": "海幢街道", "expected": None}),
        ),
        (
            "stret",
            ("subscribe_unknown", {"word": "stret", "suggestion": "street", "expected": None}),
        ),
        (
            "priority=街道",
            ("subscribe_unknown", {"word": "街道", "suggestion": None, "expected": "priority"}),
        ),
        (
            "unit=traffic",
            ("subscribe_unknown", {"word": "traffic", "suggestion": None, "expected": "unit"}),
        ),
        (
            "unit=宝玉直第一网格",
            ("subscribe_grid_refused", {"unit_name": "宝玉直第一网格", "parent": "宝玉直社区"}),
        ),
        (
            "交警大队",
            (
                "subscribe_department_refused",
                {"unit_name": "交警大队", "categories_of": ("traffic",)},
            ),
        ),
        ("colour=red", ("subscribe_unknown_key", {"word": "colour", "token": "colour=red"})),
        ("to=@news", ("subscribe_bad_chat", {"token": "to=@news"})),
    ],
)
def test_bad_words_name_the_problem(args: str, problem: tuple[str, dict[str, object]]) -> None:
    assert parse(ORG, args).problem == problem


def test_to_names_the_chat() -> None:
    request = parse(ORG, "to=-1003002 街道")
    assert request.to_chat == -1003002 and request.filters == Filters.of(["street"])


class Directory:
    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        self.asked.append((chat_id, user_id))
        return chat_id == -1003001


def event(user: int, chat: int, args: str, command: str = "subscribe") -> InboundEvent:
    return InboundEvent(
        platform="telegram",
        chat_id=chat,
        chat_type="private" if chat > 0 else "supergroup",
        user_id=user,
        user_name="x",
        command=command,
        command_args=args,
    )


async def test_the_platform_is_asked_only_what_a_subscribe_needs() -> None:
    directory = Directory()
    no_database = cast(async_sessionmaker[AsyncSession], None)  # asking comes before it
    services = Services(
        sessions=no_database, clock=FakeClock(), org=ORG, classify=classify, chats=directory
    )
    assert await ask_admins(services, event(5009, 5009, "街道")) == {}  # private: nothing to ask
    assert await ask_admins(services, event(5001, -1003001, "街道")) == {}  # not a leader
    assert await ask_admins(services, event(5009, -1003001, "x", "help")) == {}
    assert await ask_admins(services, event(5009, -1003001, "街道")) == {(-1003001, 5009): True}
    assert await ask_admins(services, event(5009, 5009, "to=-1003002 街道")) == {
        (-1003002, 5009): False
    }
    assert directory.asked == [(-1003001, 5009), (-1003002, 5009)]
