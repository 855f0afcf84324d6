"""Commands: /start, /help, /whoami, /case, /cancel (/report lives in intake)."""

from __future__ import annotations

import re

from handlers import orders, recategorize, stats, subscriptions
from handlers.context import Tx
from handlers.events import InboundEvent
from handlers.intake import reply
from handlers.notify import place_of, policy_of_case
from storage import conversations
from storage.cases import get_case_by_number, timeline
from storage.reporters import cases_reported_by

MINE_LIMIT = 20
CASE_NUMBER = re.compile(r"[A-Za-z]{1,6}-\d{4}-\d{6}")


async def start(tx: Tx, event: InboundEvent) -> None:
    payload = event.command_args.strip()
    if event.is_private and payload[:5].lower() == "case-":
        # A timeline link (https://t.me/BOT?start=case-HZ-…) from a subscription or digest.
        await show_case(tx, event, payload[5:])
        return
    await reply(tx, event, "start", org_name=tx.org.name)


async def help_(tx: Tx, event: InboundEvent) -> None:
    await reply(tx, event, "help", bot=tx.services.bot_username)


async def whoami(tx: Tx, event: InboundEvent) -> None:
    person = tx.org.person(event.user_id)
    if person is None:
        await reply(tx, event, "whoami_resident", name=event.user_name, user_id=event.user_id)
        return
    units = [tx.org.units[u].name for u in sorted(person.units) if u in tx.org.units]
    roles = [tx.r.label("role", role) for role in sorted(person.roles)]
    await reply(tx, event, "whoami", person=person, roles=roles, units=units)


async def case(tx: Tx, event: InboundEvent) -> None:
    await show_case(tx, event, event.command_args.strip())


async def show_case(tx: Tx, event: InboundEvent, args: str) -> None:
    """A case's timeline, to the people it belongs to (`/case`, and timeline links)."""
    if not CASE_NUMBER.fullmatch(args):
        await reply(tx, event, "case_usage")
        return
    found = await get_case_by_number(tx.session, args)
    person = tx.org.person(event.user_id)
    allowed = found is not None and (
        found.reporter_id == event.user_id
        or (person is not None and person.is_leader)
        or tx.org.may_act(
            person, found.grid_id, found.category, found.level, policy_of_case(found).ladder
        )
    )
    if found is None or not allowed:
        # The same answer for "no such case" and "not yours": numbers are not secrets,
        # but whether a case exists in someone else's grid is nobody else's business.
        await reply(tx, event, "case_not_found", number=args.upper())
        return
    events = await timeline(tx.session, found.id)
    unit = tx.org.units.get(found.current_unit_id)
    await reply(
        tx,
        event,
        "case_timeline",
        case=found,
        category=tx.r.label("category", found.category),
        place=place_of(tx.org, found),
        unit_name=unit.name if unit else found.current_unit_id,
        events=events,
    )


async def mine(tx: Tx, event: InboundEvent) -> None:
    """A resident's own cases and where they stand, newest first."""
    cases = (
        await cases_reported_by(tx.session, event.user_id, MINE_LIMIT)
        if event.user_id is not None
        else []
    )
    await reply(tx, event, "mine", cases=cases, limit=MINE_LIMIT)


async def cancel(tx: Tx, event: InboundEvent) -> None:
    cancelled = event.user_id is not None and await conversations.forget(
        tx.session, event.chat_id, event.user_id
    )
    await reply(tx, event, "cancelled" if cancelled else "nothing_to_cancel")


COMMANDS = {
    "start": start,
    "help": help_,
    "whoami": whoami,
    "case": case,
    "cancel": cancel,
    "recategorize": recategorize.command,
    "mine": mine,
    "stats": stats.command,
    "order": orders.command,
    "orders": orders.board,
    "subscribe": subscriptions.subscribe,
    "subscriptions": subscriptions.list_subscriptions,
    "unsubscribe": subscriptions.unsubscribe,
}
