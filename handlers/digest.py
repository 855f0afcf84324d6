"""The morning digest (早报): each subscribed chat's new, overdue and stuck cases, once a day.

At `digest.at` (the org's time zone) every chat with active subscriptions gets one message
about the cases of its scope — the union of its subscriptions, matched by the same rule as
escalations (`storage.subscriptions.matches`), with the level filter applied to the level
a case is at now:

* **new**: filed in the last 24 hours;
* **overdue**: open, and past its acknowledge or resolve deadline — or it already missed
  one and is still open (a missed deadline moves the case up and restarts the clock, and at
  the top of the ladder the clock stops; either way it stays overdue until it is handled);
* **stuck**: open, and nothing recorded in its timeline for `digest.stuck_after`.

A case may be in more than one section; each count is what its section lists, so every
number can be traced to the cases (and their events) behind it. A chat with nothing to
report still gets a one-line digest: the leader can tell "all quiet" from "the bot is down".

The day is claimed with a `JobRun("digest", YYYY-MM-DD)` insert in the same transaction as
the outbox rows (outbox keys carry the day and the chat too), so several workers, or a
restart, send each chat one digest a day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cases.status import NOT_A_CASE, OPEN
from escalation.clock import Clock
from escalation.daily import DailyRunner, parse_clock_time
from handlers.alerts import case_link, may_subscribe, public_text, subject_of
from handlers.context import Services, Tx
from storage.cases import cases_with_event, open_or_new_with_last_event
from storage.jobs import claim_period
from storage.models import Case
from storage.outbox import OutgoingMessage, excerpt
from storage.subscriptions import Filters, active_subscriptions, matches

JOB = "digest"
NEW_WINDOW = timedelta(hours=24)
#: Lines per section; the count above it is always complete.
SECTION_LIMIT = 20
#: How much of each report a line quotes.
EXCERPT = 30
#: Timeline notes of the climbs that a missed deadline caused.
MISSED = ("ack_overdue", "resolve_overdue")
SECTIONS = ("new", "overdue", "stuck")


@dataclass(frozen=True)
class Candidate:
    """A case that might be in some chat's digest, and which sections it belongs to."""

    case: Case
    sections: frozenset[str]


async def candidates(tx: Tx, now: datetime, stuck_after: timedelta) -> list[Candidate]:
    """Every case that is new, overdue or stuck, whoever it may concern."""
    since = now - NEW_WINDOW
    rows = await open_or_new_with_last_event(tx.session, OPEN, since, NOT_A_CASE)
    missed = await cases_with_event(tx.session, OPEN, ("escalated", "ladder_exhausted"), MISSED)
    out = []
    for case, last_at in rows:
        sections = set()
        if case.created_at >= since and case.status not in NOT_A_CASE:
            sections.add("new")
        if case.status in OPEN:
            if (
                case.id in missed
                or (case.status == "dispatched" and _passed(case.ack_due_at, now))
                or _passed(case.resolve_due_at, now)
            ):
                sections.add("overdue")
            if (last_at or case.created_at) <= now - stuck_after:
                sections.add("stuck")
        if sections:
            out.append(Candidate(case, frozenset(sections)))
    return out


def _passed(due: datetime | None, now: datetime) -> bool:
    return due is not None and due <= now


def _line(tx: Tx, case: Case) -> dict[str, Any]:
    unit = tx.org.units.get(case.current_unit_id)
    grid = tx.org.units.get(case.grid_id)
    return {
        "number": case.number,
        "link": case_link(tx.services.bot_username, case.number),
        "category": tx.r.label("category", case.category),
        "priority": tx.r.label("priority", case.priority),
        "level": tx.r.label("level", case.level),
        "unit_name": unit.name if unit is not None else case.current_unit_id,
        "place": grid.name if grid is not None else case.grid_id,
        "status": tx.r.label("status", case.status),
        "report": excerpt(public_text(tx.org, tx.r, case.text), EXCERPT),
    }


async def write_digest(services: Services, now: datetime, period: str) -> int:
    """Claim `period` and write every subscribed chat's digest; returns the messages
    written (0 when another worker, or an earlier start, already did)."""
    settings = services.org.settings.get("digest")
    if not settings:
        return 0
    stuck_after = timedelta(seconds=int(settings.get("stuck_after") or 86400))
    async with services.sessions() as session, session.begin():
        tx = Tx(session=session, now=now, services=services)
        if not await claim_period(session, JOB, period, now):
            return 0
        by_chat: dict[int, list[Filters]] = defaultdict(list)
        for row in await active_subscriptions(session):
            if may_subscribe(tx.org, row.person_id) and row.chat_id not in tx.org.resident_chats:
                by_chat[row.chat_id].append(Filters.of_row(row))
        if not by_chat:
            return 0
        found = await candidates(tx, now, stuck_after)
        for chat_id in sorted(by_chat):
            scope = by_chat[chat_id]
            mine = [c for c in found if any(matches(f, subject_of(tx.org, c.case)) for f in scope)]
            sections = []
            for name in SECTIONS:
                cases = [c.case for c in mine if name in c.sections]
                lines = [_line(tx, case) for case in cases[:SECTION_LIMIT]]
                sections.append(
                    {
                        "name": name,
                        "count": len(cases),
                        "lines": lines,
                        "more": len(cases) - len(lines),
                    }
                )
            text = tx.r.render(
                "digest",
                day=period,
                sections=sections,
                total=len(mine),
                stuck_hours=int(stuck_after.total_seconds() // 3600),
            )
            await tx.send(
                OutgoingMessage(key=f"digest:{period}:{chat_id}", chat_id=chat_id, text=text)
            )
        written = tx.sent
    services.on_outbox()
    return written


def digest_runner(services: Services, clock: Clock) -> DailyRunner | None:
    """The daily runner of the digest, or None when the org file configures none."""
    settings = services.org.settings.get("digest")
    if not settings:
        return None

    async def job(now: datetime, period: str) -> int:
        return await write_digest(services, now, period)

    return DailyRunner(
        clock, services.org.timezone, parse_clock_time(str(settings["at"])), job, name=JOB
    )
