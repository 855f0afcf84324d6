"""回访: residents judge a resolved case — 满意 / 基本满意 close it (结案), 不满意 reopens it
(返工) one level higher on the same grid's ladder. Only the people who reported the case
may judge it; the first answer decides, and no answer within the policy's window closes it
(the scheduler does that)."""

from __future__ import annotations

from sqlalchemy import select

from escalation.engine import Actor, close, reopen
from handlers.context import Tx
from handlers.events import InboundEvent, Reply
from handlers.notify import CaseNotifier, notify_reporters
from storage.cases import get_case
from storage.models import CaseReporter
from storage.outbox import OutgoingMessage

RATINGS = ("good", "ok", "bad")


async def on_feedback(tx: Tx, event: InboundEvent, case_id: int, rating: str) -> Reply:
    case = await get_case(tx.session, case_id)
    if case is None or rating not in RATINGS:
        return Reply(alert=tx.r.render("alert_invalid_button"), show_alert=True)
    reporters = set(
        (
            await tx.session.execute(
                select(CaseReporter.reporter_id).where(CaseReporter.case_id == case.id)
            )
        ).scalars()
    )
    if event.user_id not in reporters:
        return Reply(
            alert=tx.r.render("alert_feedback_not_yours", number=case.number), show_alert=True
        )
    if case.status != "resolved":
        return Reply(alert=tx.r.render("alert_feedback_done", number=case.number), show_alert=True)
    actor = Actor(event.user_id, event.user_name)
    unit = tx.org.units.get(case.current_unit_id)
    if rating == "bad":
        if not await reopen(
            tx.session, case, tx.org, tx.now, CaseNotifier(tx.services), actor=actor
        ):
            return Reply(alert=tx.r.render("alert_case_changed", number=case.number))
        tx.deadlines.append((case.id, case.next_due_at))
        reached = tx.org.units.get(case.current_unit_id)
        await notify_reporters(
            tx, case, "case_reopened", "reopened", unit_name=reached.name if reached else ""
        )
    else:
        if not await close(tx.session, case, tx.now, actor=actor, rating=rating):
            return Reply(alert=tx.r.render("alert_case_changed", number=case.number))
        if unit is not None and unit.chat_id is not None:
            await tx.send(
                OutgoingMessage(
                    key=f"case:{case.id}:v{case.version}:rated",
                    chat_id=unit.chat_id,
                    text=tx.r.render(
                        "feedback_staff", number=case.number, rating=tx.r.label("button", rating)
                    ),
                    case_id=case.id,
                )
            )
    return Reply(alert=tx.r.render("alert_feedback_thanks", rating=tx.r.label("button", rating)))
