"""Subscriptions (订阅): the repository, and the one rule that decides what matches.

A subscription is four filters — ladder levels, streets or communities, categories,
priorities. An escalation (or, for the morning digest, a case as it stands) matches when
every non-empty filter contains its value; an empty filter matches anything. The rule lives
here, once, so that the escalation fan-out, the digest and the tests can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Subscription


@dataclass(frozen=True)
class Filters:
    """What a subscription asks for; each field sorted and without repeats, so that two
    subscriptions asking for the same thing compare equal."""

    levels: tuple[str, ...] = ()
    unit_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        levels: Iterable[str] = (),
        unit_ids: Iterable[str] = (),
        categories: Iterable[str] = (),
        priorities: Iterable[str] = (),
    ) -> Filters:
        return cls(
            tuple(sorted(set(levels))),
            tuple(sorted(set(unit_ids))),
            tuple(sorted(set(categories))),
            tuple(sorted(set(priorities))),
        )

    @classmethod
    def of_row(cls, row: Subscription) -> Filters:
        return cls.of(row.levels, row.unit_ids, row.categories, row.priorities)


@dataclass(frozen=True)
class Subject:
    """What is matched: the level a case reached (or is at), the street and community of
    its grid, its category and its priority."""

    level: str
    units: frozenset[str]
    category: str
    priority: str


def matches(filters: Filters, subject: Subject) -> bool:
    """Every non-empty filter must hold the subject's value (any one of its units)."""
    return (
        (not filters.levels or subject.level in filters.levels)
        and (not filters.unit_ids or bool(subject.units & set(filters.unit_ids)))
        and (not filters.categories or subject.category in filters.categories)
        and (not filters.priorities or subject.priority in filters.priorities)
    )


def chats_matching(
    rows: Iterable[Subscription], subject: Subject, owner_may: Callable[[int], bool]
) -> list[int]:
    """The chats to tell, each once however many of its subscriptions match, in a stable
    order. `owner_may` drops subscriptions whose owner lost the right to subscribe."""
    chats = {
        row.chat_id
        for row in rows
        if owner_may(row.person_id) and matches(Filters.of_row(row), subject)
    }
    return sorted(chats)


async def active_subscriptions(session: AsyncSession) -> list[Subscription]:
    """Every active subscription: one SELECT (the fan-out runs inside the scheduler's batch
    planning, where only plain reads are allowed)."""
    stmt = select(Subscription).where(Subscription.active.is_(True)).order_by(Subscription.id)
    return list((await session.execute(stmt)).scalars())


async def subscriptions_of(session: AsyncSession, person_id: int) -> list[Subscription]:
    """A person's active subscriptions, oldest first: position N in this list is what
    `/unsubscribe N` refers to."""
    stmt = (
        select(Subscription)
        .where(Subscription.person_id == person_id, Subscription.active.is_(True))
        .order_by(Subscription.id)
    )
    return list((await session.execute(stmt)).scalars())


def find_same(
    rows: Sequence[Subscription], chat_id: int, filters: Filters
) -> tuple[int, Subscription] | None:
    """The (1-based position, row) of a subscription asking for the same thing in the same
    chat, if there is one."""
    for position, row in enumerate(rows, start=1):
        if row.chat_id == chat_id and Filters.of_row(row) == filters:
            return position, row
    return None


def add_subscription(
    session: AsyncSession, person_id: int, chat_id: int, filters: Filters, now: datetime
) -> Subscription:
    row = Subscription(
        person_id=person_id,
        chat_id=chat_id,
        levels=list(filters.levels),
        unit_ids=list(filters.unit_ids),
        categories=list(filters.categories),
        priorities=list(filters.priorities),
        created_at=now,
        active=True,
    )
    session.add(row)
    return row


async def deactivate(session: AsyncSession, row: Subscription) -> bool:
    """Switch one subscription off (the row stays, as a record); False if it already was."""
    result = await session.execute(
        update(Subscription)
        .where(Subscription.id == row.id, Subscription.active.is_(True))
        .values(active=False)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    row.active = False
    return True


async def switch_off_chat(session: AsyncSession, chat_id: int) -> list[Subscription]:
    """Switch off every active subscription delivering to a chat the bot can no longer
    write to; returns them, oldest first. One guarded UPDATE, so two failures reported at
    once switch each subscription off (and tell its owner) only once."""
    stmt = (
        update(Subscription)
        .where(Subscription.chat_id == chat_id, Subscription.active.is_(True))
        .values(active=False)
        .returning(Subscription)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.execute(stmt)).scalars())
    return sorted(rows, key=lambda row: row.id)
