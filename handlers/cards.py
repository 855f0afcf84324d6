"""Keeping a case's staff card true after a change that is not a button press on it.

A card is an outbox row (see ``CaseNotifier.case_reached``); when another resident's words
join the case, the card in the chat of the unit holding it must show them. This module
finds that card — waiting, or delivered and editable — and writes its new text: a waiting
card is rewritten in place (it goes out already up to date), a delivered one gets an edit.
A card that went out inside a bundle has no message of its own to edit; the line the
holder is told (``merged_staff``) covers it.
"""

from __future__ import annotations

import re
from typing import Final

from handlers.context import Tx
from handlers.notify import (
    case_buttons,
    open_actions,
    render_card,
    target_chat,
)
from storage import outbox
from storage.cases import last_event_of
from storage.models import Case, Outbox
from storage.outbox import OutgoingMessage

_CARD_KEY: Final = re.compile(r"case:\d+:(?:v\d+:card(?:-edit)?|v\d+:refresh:-?\d+|shared:.+)")
"""The outbox keys of a case's cards: the card each level got, the edits made to it by a
button press or a refresh, and key grids' copies."""

_REASONS: Final = ("ack_overdue", "resolve_overdue", "unreachable")


async def card_reason(tx: Tx, case: Case) -> str:
    """Why the case is at its level, as its card's headline says (``new`` on the grid)."""
    if case.level == "grid":
        return "new"
    last = await last_event_of(tx.session, case.id, ("escalated", "reopened", "rerouted"))
    if last is None:
        return "new"
    kind, note = last
    if kind != "escalated":
        return kind
    return note if note is not None and note in _REASONS else "manual"


async def live_card(tx: Tx, case: Case, chat_id: int) -> Outbox | None:
    """The newest card row of ``case`` in ``chat_id``: what that chat shows of it now."""
    rows = await outbox.rows_of_case(tx.session, case.id, chat_id)
    return next((row for row in rows if _CARD_KEY.fullmatch(row.dedupe_key)), None)


async def refresh_cards(tx: Tx, case: Case) -> None:
    """Show the case as it is now on the card of the unit holding it."""
    unit = tx.org.units.get(case.current_unit_id)
    chat_id = target_chat(case, unit)
    if chat_id is None:
        return
    row = await live_card(tx, case, chat_id)
    if row is None:
        return
    status_line = None
    if case.status == "acknowledged" and case.acknowledged_by:
        status_line = tx.r.render(
            "status_acknowledged", who=case.acknowledged_by, at=case.acknowledged_at
        )
    reason = await card_reason(tx, case)
    text = render_card(tx.r, tx.org, case, unit, reason=reason, status_line=status_line)
    actions = open_actions(case, acknowledged=case.status == "acknowledged")
    buttons = case_buttons(tx.r, case, actions)
    if row.status == "pending":  # not out yet: it will go out as it is now
        await outbox.rewrite_pending(tx.session, row.id, text, buttons)
        return
    # A card sent, or an edit delivered as a new message (it was aimed at a bundle), has
    # its own message id; an edit delivered as an edit shows on the message it edited.
    message_id = (
        int(row.platform_message_ids[0]) if row.platform_message_ids else row.edit_message_id
    )
    if row.status != "sent" or message_id is None:
        return  # bundled, failing or in flight: the holder's line tells them instead
    await tx.send(
        OutgoingMessage(
            key=f"case:{case.id}:v{case.version}:refresh:{chat_id}",
            chat_id=chat_id,
            text=text,
            buttons=buttons,
            edit_message_id=message_id,
            case_id=case.id,
        )
    )
