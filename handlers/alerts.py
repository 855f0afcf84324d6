"""Escalations reach the leaders who subscribed to them (订阅提醒).

Whenever a case climbs — a missed deadline, 督办, a manual 提级, a 回退 that climbs, an
unreachable chat, 返工 — every chat with a matching active subscription gets one message:
once per chat and climb however many of its subscriptions match (the outbox key carries the
case version), never in the chat that gets the case card anyway, and never in a residents'
chat. Residents' names and phone numbers stay in their grid unless the org file allows
otherwise: the report text is sent with phone numbers masked, and the reporter is named
only with `show_resident_details`.

This runs inside the engine's transaction, including the scheduler's batch planning
(`escalation.batch`), so it does only what planning allows: one SELECT of the active
subscriptions and `storage.outbox.enqueue` inserts.
"""

from __future__ import annotations

from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Services
from org.view import OrgView, Stop
from storage.models import Case, Subscription
from storage.outbox import OutgoingMessage, enqueue
from storage.subscriptions import Subject, active_subscriptions, chats_matching
from templates.render import Renderer
from triage.llm import mask_phones


def case_link(bot_username: str, number: str) -> str:
    """A link that opens the case's timeline in a private chat with the bot
    (`/start case-HZ-…`, answered with the same permissions as `/case`)."""
    return f"https://t.me/{bot_username}?start=case-{number}"


def subject_of(org: OrgView, case: Case, level: str | None = None) -> Subject:
    """What subscriptions are matched against: the level (reached, or current), the
    street and community of the case's grid, its category and priority."""
    units = frozenset(
        unit.id
        for unit in (org.ancestor(case.grid_id, "street"), org.ancestor(case.grid_id, "community"))
        if unit is not None
    )
    return Subject(level or case.level, units, case.category, case.priority)


def public_text(org: OrgView, r: Renderer, text: str) -> str:
    """The report as it may be shown outside its grid: phone numbers masked, unless the
    org file lets residents' details travel."""
    return text if org.show_resident_details else mask_phones(text, r.label("masked", "phone"))


def may_subscribe(org: OrgView, person_id: int) -> bool:
    """Leaders and admins only; a subscription whose owner lost the role goes quiet."""
    person = org.person(person_id)
    return person is not None and person.is_leader


# The active subscriptions, read once per session: a session is one transaction here, or
# one chunk of the scheduler's batch planning, which fans out for hundreds of cases — one
# SELECT each cost more than the planning itself (BENCHMARKS.md, "Scheduler").
_READ: WeakKeyDictionary[object, list[Subscription]] = WeakKeyDictionary()


async def _subscriptions(session: AsyncSession) -> list[Subscription]:
    rows = _READ.get(session)
    if rows is None:
        rows = await active_subscriptions(session)
        _READ[session] = rows
    return rows


async def fan_out(
    session: AsyncSession,
    services: Services,
    case: Case,
    stop: Stop,
    now: datetime,
    reason: str,
    *,
    place: str,
    card_chat: int | None,
) -> int:
    """Tell every subscribed chat the escalation matches; returns how many were written.

    `place` is the case's grid as cards show it; `card_chat` the chat that gets the card.
    """
    org = services.org
    rows = await _subscriptions(session)
    if not rows:
        return 0
    chats = [
        chat
        for chat in chats_matching(
            rows, subject_of(org, case, stop.level), lambda p: may_subscribe(org, p)
        )
        if chat != card_chat and chat not in org.resident_chats
    ]
    if not chats:
        return 0
    r = services.renderer
    unit = stop.unit
    context = {
        "case": case,
        "category": r.label("category", case.category),
        "priority": r.label("priority", case.priority),
        "level": r.label("level", stop.level),
        "unit_name": unit.name if unit is not None else "",
        "reason": r.label("reason", reason),
        "place": place,
        "report": public_text(org, r, case.text),
        "reporter": case.reporter_name if org.show_resident_details else None,
        "link": case_link(services.bot_username, case.number),
    }
    text = r.render("subscription_alert", **context)
    # In a flood of climbs the chat's pacing holds alerts back; they then go out as one
    # bundle of these lines (see bot/outbox_sender.py) instead of one message each.
    line = r.render("subscription_alert_line", **context)
    for chat in chats:
        await enqueue(
            session,
            OutgoingMessage(
                key=f"case:{case.id}:v{case.version}:sub:{chat}",
                chat_id=chat,
                text=text,
                bundle_line=line,
            ),
            now,
        )
    return len(chats)
