"""Button presses: 接单 / 办结 / 回退 / 提级 on a case card, and a resident picking a grid.

Button data carries no authority by itself: it names a case and an action, and the press is
checked against who pressed it and what state the case is in now. A forged or stale press
gets a short alert and changes nothing.
"""

from __future__ import annotations

from cases import lifecycle
from cases.status import ACTIVE, Status
from handlers import button_data, feedback, merge, orders, recategorize
from handlers.button_data import CaseAction, CategoryChoice, Feedback, OrderAction, PlaceChoice
from handlers.context import Tx
from handlers.events import InboundEvent, Reply
from handlers.full_text import show_full_text
from handlers.intake import file_from_pending, remember_question
from handlers.notify import (
    case_buttons,
    notify_reporters,
    open_actions,
    policy_of_case,
    render_card,
)
from storage import conversations
from storage.cases import get_case
from storage.models import Case
from storage.outbox import OutgoingMessage


def alert(tx: Tx, name: str, **context: object) -> Reply:
    return Reply(alert=tx.r.render(name, **context), show_alert=True)


async def on_press(tx: Tx, event: InboundEvent) -> Reply:
    """Route a press by the kind of its button (see `handlers.button_data`)."""
    data = button_data.parse(event.callback_data or "")
    if data is None:
        return alert(tx, "alert_invalid_button")
    match data:
        case PlaceChoice(grid_id):
            return await on_place(tx, event, grid_id)
        case OrderAction(target_id, action):
            return await orders.on_press(tx, event, target_id, action)
        case Feedback(case_id, rating):
            return await feedback.on_feedback(tx, event, case_id, rating)
        case CategoryChoice(case_id, code):
            return await recategorize.on_choice(tx, event, case_id, code)
        case CaseAction(case_id, action):
            return await on_case_action(tx, event, case_id, action)


async def on_case_action(tx: Tx, event: InboundEvent, case_id: int, action: str) -> Reply:
    """A button on a case card: only the people of the case's rung may press it, and only
    while the case is still on the ladder (全文 may be read at any time)."""
    case = await get_case(tx.session, case_id)
    if case is None:
        return alert(tx, "alert_invalid_button")
    person = tx.org.person(event.user_id)
    ladder = policy_of_case(case).ladder
    if not tx.org.may_act(person, case.grid_id, case.category, case.level, ladder):
        return alert(tx, "alert_not_allowed", number=case.number)
    if action == "full":  # reading is allowed whatever state the case is in
        return await show_full_text(tx, event, case)
    if action == "merge":
        assert person is not None  # may_act said yes
        return await merge.merge_by_hand(tx, event, case, person)
    if case.status not in ACTIVE:
        return alert(tx, "alert_case_closed", number=case.number, status=case.status)
    if action == "return" and case.return_count >= policy_of_case(case).max_returns:
        return alert(tx, "alert_no_more_returns", number=case.number, count=case.return_count)
    if action == "ack":
        return await acknowledge(tx, event, case)
    if action == "recat":
        return await recategorize.offer_choices(tx, event, case)
    return await ask_for_text(tx, event, case, action)


async def acknowledge(tx: Tx, event: InboundEvent, case: Case) -> Reply:
    person = tx.org.person(event.user_id)
    assert person is not None
    if case.status != Status.DISPATCHED:
        return alert(tx, "alert_already_acked", number=case.number, who=case.acknowledged_by)
    actor = lifecycle.Actor(person.telegram_id, person.name)
    step = await lifecycle.acknowledge(tx.session, case, tx.now, actor)
    if step is None:
        return alert(tx, "alert_case_changed", number=case.number)
    tx.deadlines.append(step.deadline)  # the resolve clock runs on
    unit = tx.org.units.get(case.current_unit_id)
    ladder = policy_of_case(case).ladder
    own = sorted(person.units & tx.org.case_units(case.grid_id, case.category, case.level, ladder))
    taker_unit = tx.org.units.get(own[0]) if own else unit
    if event.callback_message_id is not None:
        status = tx.r.render("status_acknowledged", who=person.name, at=tx.now)
        await tx.send(
            OutgoingMessage(
                key=f"case:{case.id}:v{case.version}:card-edit",
                chat_id=event.chat_id,
                text=render_card(tx.r, tx.org, case, unit, status_line=status),
                buttons=case_buttons(tx.r, case, open_actions(case, acknowledged=True)),
                edit_message_id=event.callback_message_id,
                case_id=case.id,
            )
        )
    await notify_reporters(
        tx,
        case,
        "case_acknowledged",
        "acked-resident",
        who=person.name,
        unit_name=taker_unit.name if taker_unit else "",
    )
    return Reply(alert=tx.r.render("alert_acked", number=case.number))


async def ask_for_text(tx: Tx, event: InboundEvent, case: Case, action: str) -> Reply:
    """办结 needs a note, 回退 and 提级 a reason: ask, and remember what we asked."""
    await remember_question(
        tx, event, action, case_id=case.id, payload={"card_message_id": event.callback_message_id}
    )
    person = tx.org.person(event.user_id)
    await tx.send(
        OutgoingMessage(
            key=f"ask:{event.callback_id}",
            chat_id=event.chat_id,
            text=tx.r.render(
                f"ask_{action}",
                case=case,
                user_id=event.user_id,
                name=person.name if person else event.user_name,
            ),
            force_reply=True,
            case_id=case.id,
        )
    )
    return Reply(alert=tx.r.render("alert_answer_in_chat", number=case.number))


async def on_place(tx: Tx, event: InboundEvent, grid_id: str) -> Reply:
    """A resident picked their grid for a report made in a private chat."""
    grid = tx.org.units.get(grid_id)
    conversation = None
    if event.user_id is not None:
        conversation = await conversations.waiting(
            tx.session, event.chat_id, event.user_id, "choose_place"
        )
    if grid is None or grid.level != "grid" or not event.is_private:
        return alert(tx, "alert_invalid_button")
    if conversation is None or conversation.expires_at < tx.now:
        return alert(tx, "alert_place_expired")
    case = await file_from_pending(tx, event, dict(conversation.payload), grid)
    return Reply(alert=tx.r.render("alert_filed", number=case.number))
