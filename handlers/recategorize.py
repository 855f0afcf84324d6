"""Correcting the classifier (改类): staff set the right category with a button or
`/recategorize HZ-… CODE`.

The case is re-routed if its owner depends on the category, the change is in the
timeline, and the correction is kept as a new labelled example for the classifier
(`gridcall triage export-corrections`).
"""

from __future__ import annotations

from cases import lifecycle
from cases.lifecycle import Actor
from cases.status import ACTIVE
from handlers.button_data import CategoryChoice
from handlers.context import Tx
from handlers.events import InboundEvent, Reply
from handlers.intake import reply
from handlers.notify import CaseNotifier, policy_of_case
from org.view import PersonView
from storage.cases import get_case, get_case_by_number
from storage.models import Case, TriageCorrection
from storage.outbox import OutgoingMessage
from triage.categories import Category

CODES = tuple(str(c) for c in Category)


def category_code(tx: Tx, word: str) -> str | None:
    """A category from its code or its name in the org's language ("traffic", "交通出行")."""
    word = word.strip()
    if word.lower() in CODES:
        return word.lower()
    for code in CODES:
        if tx.r.label("category", code) == word:
            return code
    return None


def entitled(tx: Tx, person: PersonView | None, case: Case) -> bool:
    ladder = policy_of_case(case).ladder
    return tx.org.may_act(person, case.grid_id, case.category, case.level, ladder)


async def offer_choices(tx: Tx, event: InboundEvent, case: Case) -> Reply:
    """The 改类 button: show the categories as buttons in the chat."""
    buttons = [
        (tx.r.label("category", code), CategoryChoice(case.id, code).pack()) for code in CODES
    ]
    await tx.send(
        OutgoingMessage(
            key=f"ask:{event.callback_id}",
            chat_id=event.chat_id,
            text=tx.r.render(
                "ask_category", case=case, current=tx.r.label("category", case.category)
            ),
            buttons=[buttons[i : i + 2] for i in range(0, len(buttons), 2)],
            case_id=case.id,
        )
    )
    return Reply(alert=tx.r.render("alert_choose_category", number=case.number))


async def on_choice(tx: Tx, event: InboundEvent, case_id: int, code: str) -> Reply:
    case = await get_case(tx.session, case_id)
    person = tx.org.person(event.user_id)
    if case is None or code not in CODES:
        return Reply(alert=tx.r.render("alert_invalid_button"), show_alert=True)
    if not entitled(tx, person, case):
        return Reply(alert=tx.r.render("alert_not_allowed", number=case.number), show_alert=True)
    assert person is not None
    await recategorize(tx, event, case, code, person)
    return Reply(alert=tx.r.render("alert_recategorized", number=case.number))


async def command(tx: Tx, event: InboundEvent) -> None:
    parts = event.command_args.split(maxsplit=1)
    code = category_code(tx, parts[1]) if len(parts) == 2 else None
    if len(parts) != 2 or code is None:
        codes = ", ".join(f"{c} {tx.r.label('category', c)}" for c in CODES)
        await reply(tx, event, "recategorize_usage", codes=codes)
        return
    case = await get_case_by_number(tx.session, parts[0])
    person = tx.org.person(event.user_id)
    if case is None or not entitled(tx, person, case):
        await reply(tx, event, "case_not_found", number=parts[0].upper())
        return
    assert person is not None
    await recategorize(tx, event, case, code, person)


async def recategorize(
    tx: Tx, event: InboundEvent, case: Case, code: str, person: PersonView
) -> None:
    old = case.category
    if case.status not in ACTIVE:
        await reply(tx, event, "case_changed", number=case.number)
        return
    if code == old:
        await reply(
            tx, event, "recategorize_same", number=case.number, category=tx.r.label("category", old)
        )
        return
    actor = Actor(person.telegram_id, person.name)
    if await lifecycle.recategorize(tx.session, case, code, tx.now, actor) is None:
        await reply(tx, event, "case_changed", number=case.number)
        return
    tx.session.add(
        TriageCorrection(
            case_id=case.id,
            text=case.text,
            old_category=old,
            new_category=code,
            by_id=actor.id,
            by_name=actor.name,
            at=tx.now,
        )
    )
    notifier = CaseNotifier(tx.services)
    moved = await lifecycle.reroute(tx.session, case, tx.org, tx.now, notifier, actor=actor)
    if moved is not None:
        tx.deadlines.append(moved.deadline)
    unit = tx.org.units.get(case.current_unit_id)
    await reply(
        tx,
        event,
        "recategorized_staff",
        number=case.number,
        old=tx.r.label("category", old),
        new=tx.r.label("category", code),
        unit_name=unit.name if unit else "",
        moved=moved is not None,
    )
