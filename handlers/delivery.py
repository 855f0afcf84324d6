"""When a message cannot be delivered: the case must not wait on a chat nobody reads.

A card that cannot reach a worker privately (they never started the bot) goes to the
grid's staff chat instead. A unit chat the bot was removed from is skipped: the case climbs
to the next level at once, the timeline records why, and the admins are told so they can
fix the chat. Anything else undeliverable is recorded and reported to the admins.

A leader's chat the bot can no longer write to (a channel it was removed from, a private
chat that blocked it) would otherwise fail at every escalation and tell the admins each
time: its subscriptions are switched off at the first such failure, the other messages
waiting for it are dropped, the owners are told how to subscribe again, and the admins hear
of it once.
"""

from __future__ import annotations

import logging
from typing import Protocol

from cases.lifecycle import escalate, unassign
from cases.status import ACTIVE
from handlers.context import Services
from handlers.notify import CaseNotifier
from handlers.subscriptions import describe
from org.view import Stop
from storage.cases import add_event, get_case
from storage.outbox import OutgoingMessage, drop_pending, enqueue
from storage.subscriptions import switch_off_chat

log = logging.getLogger(__name__)


class FailedDelivery(Protocol):
    row_id: int
    chat_id: int
    case_id: int | None
    error: str
    unreachable: bool


async def on_delivery_failed(services: Services, failed: FailedDelivery) -> None:
    org = services.org
    now = services.clock.now()
    notifier = CaseNotifier(services)
    moved_due = None
    async with services.sessions() as session, session.begin():
        case = await get_case(session, failed.case_id) if failed.case_id else None
        if case is not None:
            add_event(
                session,
                case,
                "delivery_failed",
                now,
                unit_id=org.staff_chats.get(failed.chat_id),
                note=f"chat {failed.chat_id}: {failed.error[:200]}",
            )
        if case is not None and case.status in ACTIVE and failed.unreachable:
            unit = org.units.get(case.current_unit_id)
            if failed.chat_id == case.assignee_id and unit is not None:
                # The worker on duty cannot be reached privately: the grid's chat takes it.
                if await unassign(session, case, now, f"chat {failed.chat_id}"):
                    await notifier.case_reached(session, case, Stop(case.level, unit), now, "new")
            elif (
                unit is not None
                and failed.chat_id == unit.chat_id
                and await escalate(session, case, org, now, notifier, reason="unreachable")
            ):
                moved_due = case.next_due_at
        r = services.renderer
        switched_off = await switch_off_chat(session, failed.chat_id) if failed.unreachable else []
        if switched_off:
            await drop_pending(session, failed.chat_id, f"chat unreachable: {failed.error[:200]}")
            owners = sorted({row.person_id for row in switched_off} - {failed.chat_id})
            for owner in owners:
                subs = [row for row in switched_off if row.person_id == owner]
                await enqueue(
                    session,
                    OutgoingMessage(
                        key=f"subs-off:{failed.row_id}:{owner}",
                        chat_id=owner,
                        text=r.render(
                            "subscriptions_switched_off",
                            chat_id=failed.chat_id,
                            error=failed.error[:300],
                            subs=[describe(org, r, row, n) for n, row in enumerate(subs, 1)],
                        ),
                    ),
                    now,
                )
        admins = [p for p in org.people.values() if "admin" in p.roles]
        for admin in admins:
            await enqueue(
                session,
                OutgoingMessage(
                    key=f"admin:{admin.telegram_id}:failed:{failed.row_id}",
                    chat_id=admin.telegram_id,
                    text=r.render(
                        "admin_delivery_failed",
                        chat_id=failed.chat_id,
                        chat_name=_chat_name(services, failed.chat_id),
                        number=case.number if case is not None else None,
                        error=failed.error[:300],
                        switched_off=len(switched_off),
                    ),
                ),
                now,
            )
    log.warning("delivery to chat %s failed for good: %s", failed.chat_id, failed.error)
    if moved_due is not None and services.on_deadline is not None and case is not None:
        await services.on_deadline(case.id, moved_due)
    services.on_outbox()


def _chat_name(services: Services, chat_id: int) -> str:
    unit_id = services.org.staff_chats.get(chat_id) or services.org.resident_chats.get(chat_id)
    unit = services.org.units.get(unit_id) if unit_id else None
    return unit.name if unit else str(chat_id)
