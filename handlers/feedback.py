"""回访: residents judge a resolved case — 满意 / 基本满意 close it (结案), 不满意 reopens it
(返工) one level higher on the same grid's ladder. Only the people who reported the case
may judge it; the first answer decides, and no answer within the policy's window closes it
(the scheduler does that)."""

from __future__ import annotations

from cases.lifecycle import Actor, close, reopen
from handlers.context import Tx
from handlers.conversation import forget
from handlers.events import InboundEvent, Reply
from handlers.intake import remember_question, reply
from handlers.notify import CaseNotifier, notify_reporters
from storage.cases import add_event, get_case
from storage.models import Conversation
from storage.outbox import OutgoingMessage
from storage.reporters import reporter_ids

#: What a resident may write about why they are not satisfied.
MAX_REASON_CHARS = 1000

RATINGS = ("good", "ok", "bad")


async def on_feedback(tx: Tx, event: InboundEvent, case_id: int, rating: str) -> Reply:
    case = await get_case(tx.session, case_id)
    if case is None or rating not in RATINGS:
        return Reply(alert=tx.r.render("alert_invalid_button"), show_alert=True)
    reporters = await reporter_ids(tx.session, case.id)
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
        await ask_reason(tx, event, case.id, case.number)
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


async def ask_reason(tx: Tx, event: InboundEvent, case_id: int, number: str) -> None:
    """不满意 may come with a reason: ask for it (optional), remembering the question in the
    database so the answer still finds the case after a restart."""
    await remember_question(tx, event, "feedback_reason", case_id=case_id)
    await tx.send(
        OutgoingMessage(
            key=f"ask:{event.callback_id}",
            chat_id=event.chat_id,
            text=tx.r.render(
                "ask_feedback_reason", number=number, user_id=event.user_id, name=event.user_name
            ),
            force_reply=True,
            case_id=case_id,
        )
    )


async def on_reason(tx: Tx, event: InboundEvent, conversation: Conversation, text: str) -> None:
    """The resident's reason goes on the timeline and to the unit now handling the case —
    without the resident's name unless the org allows it."""
    if len(text) > MAX_REASON_CHARS:
        await reply(tx, event, "note_too_long", length=len(text), limit=MAX_REASON_CHARS)
        return
    await forget(tx, conversation)
    case = await get_case(tx.session, conversation.case_id or 0)
    if case is None:
        await reply(tx, event, "case_changed")
        return
    add_event(
        tx.session,
        case,
        "feedback_reason",
        tx.now,
        actor_id=event.user_id,
        actor_name=event.user_name,
        unit_id=case.current_unit_id,
        note=text,
    )
    unit = tx.org.units.get(case.current_unit_id)
    if unit is not None and unit.chat_id is not None:
        in_grid = unit.id == case.grid_id or tx.org.show_resident_details
        await tx.send(
            OutgoingMessage(
                key=f"reason:{event.chat_id}:{event.message_id}",
                chat_id=unit.chat_id,
                text=tx.r.render(
                    "feedback_reason_staff",
                    number=case.number,
                    reason=text,
                    who=event.user_name if in_grid else None,
                ),
                case_id=case.id,
            )
        )
    await reply(
        tx, event, "feedback_reason_thanks", number=case.number, unit_name=unit.name if unit else ""
    )
