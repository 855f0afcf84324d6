"""When a case's time comes: do what is due, one guarded step at a time.

The steps themselves (climb, remind, close …) live in `cases.lifecycle`; this module only
reads the clock the case row carries — the acknowledge deadline of the current level, the
resolve deadline, the reminders (催办) already sent, and `next_due_at`, the earliest pending
one, which is all the scheduler's index holds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.lifecycle import Notifier, close, escalate, next_due, pending_times, remind
from org.view import OrgView
from storage.cases import get_case
from storage.models import Case


async def tick(
    session: AsyncSession, case: Case, org: OrgView, now: datetime, notifier: Notifier
) -> bool:
    """Do what is due for one case: a missed deadline climbs, a reminder is sent — unless
    its deadline has passed too (after an outage), when the reminder is only noise."""
    times = pending_times(case)
    passed = {what for when, what in times if when <= now}
    for when, what in times:
        if when > now:
            break
        if what == "ack_reminder" and "ack_overdue" in passed:
            continue
        if what == "resolve_reminder" and "resolve_overdue" in passed:
            continue
        if what == "ack_overdue":
            step = await escalate(session, case, org, now, notifier, reason="ack_overdue")
        elif what == "resolve_overdue":
            step = await escalate(session, case, org, now, notifier, reason="resolve_overdue")
        elif what == "feedback_timeout":
            step = await close(session, case, now, note="no_feedback")
        else:
            kind = "ack" if what == "ack_reminder" else "resolve"
            step = await remind(session, case, kind, now, notifier)
        return step is not None
    return False


async def fire_due(
    sessions: async_sessionmaker[AsyncSession],
    case_id: int,
    org: OrgView,
    now: datetime,
    notifier: Notifier,
) -> datetime | None:
    """Handle whatever is due for one case; returns its next due time to index, if any.

    Safe to call for a stale index entry, twice, or from two workers at once: the case row
    decides, and only one guarded update can win. Several things due at once (a reminder
    and a deadline after a long outage) are handled one transaction each, in order.
    """
    for _ in range(8):
        async with sessions() as session, session.begin():
            case = await get_case(session, case_id)
            if case is None:
                return None
            acted = await tick(session, case, org, now, notifier)
            due = next_due(case)
        if not acted or due is None or due > now:
            return due
    return due
