"""Answers to the bot's questions: the note for 办结, the reason for 回退 and 提级.

The question was stored as a `Conversation` row when the button was pressed; the person's
next message in that chat is the answer. Permission is checked again here: the answer may
come long after the press, and the case may have moved on.
"""

from __future__ import annotations

from cases import lifecycle
from cases.lifecycle import Actor
from cases.status import ACTIVE
from handlers.context import Tx
from handlers.events import InboundEvent
from handlers.intake import reply
from handlers.notify import (
    CaseNotifier,
    feedback_buttons,
    notify_reporters,
    policy_of_case,
    render_card,
)
from storage import conversations
from storage.cases import get_case
from storage.models import Case, Conversation
from storage.outbox import OutgoingMessage

MAX_NOTE_CHARS = 1000


async def forget(tx: Tx, conversation: Conversation) -> None:
    await conversations.forget(tx.session, conversation.chat_id, conversation.user_id)


async def on_answer(tx: Tx, event: InboundEvent, conversation: Conversation) -> None:
    text = event.text.strip()
    if not text:
        await reply(tx, event, "note_empty")
        return
    if len(text) > MAX_NOTE_CHARS:
        await reply(tx, event, "note_too_long", length=len(text), limit=MAX_NOTE_CHARS)
        return
    await forget(tx, conversation)
    case = await get_case(tx.session, conversation.case_id or 0)
    person = tx.org.person(event.user_id)
    if case is None or person is None:
        await reply(tx, event, "case_changed")
        return
    ladder = policy_of_case(case).ladder
    if not tx.org.may_act(person, case.grid_id, case.category, case.level, ladder):
        await reply(tx, event, "not_allowed", number=case.number)
        return
    if case.status not in ACTIVE:
        await reply(tx, event, "case_changed", number=case.number)
        return
    actor = Actor(person.telegram_id, person.name)
    card_id = conversation.payload.get("card_message_id")
    if conversation.action == "resolve":
        await resolve(tx, event, case, actor, text, card_id)
    elif conversation.action == "return":
        await climb(tx, event, case, actor, "returned", text)
    elif conversation.action == "escalate":
        await climb(tx, event, case, actor, "manual", text)


async def climb(
    tx: Tx,
    event: InboundEvent,
    case: Case,
    actor: Actor,
    reason: str,
    note: str,
) -> None:
    """提级 (`manual`) or 回退 (`returned`): the case climbs a rung."""
    level = case.level
    notifier = CaseNotifier(tx.services)
    if reason == "returned":
        step = await lifecycle.give_back(
            tx.session, case, tx.org, tx.now, notifier, actor=actor, note=note
        )
    else:
        step = await lifecycle.escalate(
            tx.session, case, tx.org, tx.now, notifier, actor=actor, reason=reason, note=note
        )
    if step is None:
        await reply(tx, event, "case_changed", number=case.number)
        return
    tx.deadlines.append(step.deadline)
    if case.level == level:
        await reply(tx, event, "escalate_top", number=case.number)
        return
    unit = tx.org.units.get(case.current_unit_id)
    await reply(
        tx,
        event,
        "escalated_staff",
        number=case.number,
        level=tx.r.label("level", case.level),
        unit_name=unit.name if unit else "",
        reason=tx.r.label("reason", reason),
    )


async def resolve(
    tx: Tx, event: InboundEvent, case: Case, actor: Actor, note: str, card_id: object
) -> None:
    step = await lifecycle.resolve(tx.session, case, tx.now, actor, note)
    if step is None:
        await reply(tx, event, "case_changed", number=case.number)
        return
    tx.deadlines.append(step.deadline)  # 回访: the feedback window
    unit = tx.org.units.get(case.current_unit_id)
    if isinstance(card_id, int):
        status = tx.r.render("status_resolved", who=actor.name, at=tx.now)
        await tx.send(
            OutgoingMessage(
                key=f"case:{case.id}:v{case.version}:card-edit",
                chat_id=event.chat_id,
                text=render_card(tx.r, tx.org, case, unit, status_line=status),
                edit_message_id=card_id,
                case_id=case.id,
            )
        )
    await reply(tx, event, "resolved_staff", number=case.number)
    await notify_reporters(
        tx,
        case,
        "case_resolved",
        "resolved-resident",
        buttons=feedback_buttons(tx.r, case),
        who=actor.name,
        unit_name=unit.name if unit else "",
        note=note,
    )
