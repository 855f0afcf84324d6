"""「全文」 on a card: everything residents wrote about a case, whole.

A card shows the start of a long letter and short quotes of merged reports, so that its
buttons and deadline stay in sight; the words themselves are never cut, only one tap away.
The answer goes to the chat the button was pressed in, as a reply to the card; the outbox
splits it into several messages when it is longer than one can carry.
"""

from __future__ import annotations

from handlers.context import Tx
from handlers.events import InboundEvent, Reply
from handlers.notify import target_chat
from storage.models import Case
from storage.outbox import OutgoingMessage
from storage.reporters import reports_of


def shows_names_in(tx: Tx, case: Case, chat_id: int) -> bool:
    """Residents' names stay in their grid's chats (the staff chat, or the grid worker the
    case was assigned to privately) unless the org shows them everywhere."""
    if tx.org.show_resident_details:
        return True
    grid = tx.org.units.get(case.grid_id)
    if grid is None:
        return False
    return chat_id == grid.chat_id or (
        case.current_unit_id == case.grid_id and chat_id == target_chat(case, grid)
    )


async def show_full_text(tx: Tx, event: InboundEvent, case: Case) -> Reply:
    rows = await reports_of(tx.session, case.id, by_time=True)
    names = shows_names_in(tx, case, event.chat_id)
    reports = [
        {"at": row.at, "name": row.reporter_name if names else None, "text": row.text}
        for row in rows
    ] or [{"at": case.created_at, "name": case.reporter_name if names else None, "text": case.text}]
    await tx.send(
        OutgoingMessage(
            key=f"full:{case.id}:{event.callback_id or event.message_id}",
            chat_id=event.chat_id,
            text=tx.r.render("case_full_text", case=case, reports=reports),
            reply_to_message_id=event.callback_message_id,
            case_id=case.id,
            bundle_line="",
        )
    )
    return Reply(alert=tx.r.render("alert_full_text_sent", number=case.number))
