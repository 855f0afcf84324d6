"""`/order TARGETS DEADLINE TEXT`: leaders issue an order, each target unit gets its card."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from escalation import orders as chase
from handlers.context import Tx
from handlers.events import InboundEvent
from handlers.intake import reply
from handlers.orders.cards import OrderMessages
from handlers.orders.parse import OrderInputError, OrderRequest, parse_order
from org.view import PersonView
from storage.models import Order, OrderTarget
from storage.orders import add_event, next_order_number


async def command(tx: Tx, event: InboundEvent) -> None:
    """`/order TARGETS DEADLINE TEXT`: leaders and admins only; a mistake creates nothing."""
    person = tx.org.person(event.user_id)
    if person is None or not person.is_leader:
        await reply(tx, event, "order_not_allowed")
        return
    if not event.command_args.strip():
        await reply(tx, event, "order_usage")
        return
    try:
        request = parse_order(tx.org, event.command_args, tx.now)
    except OrderInputError as mistake:
        await reply(tx, event, mistake.template, **mistake.context)
        return
    order = await issue(tx, event, person, request)
    await reply(
        tx,
        event,
        "order_issued",
        order=order,
        units=[unit.name for unit in request.targets],
    )


async def issue(tx: Tx, event: InboundEvent, person: PersonView, request: OrderRequest) -> Order:
    """Create the order and its targets, record it and send each target its card."""
    org = tx.org
    year = tx.now.astimezone(ZoneInfo(org.timezone)).year
    order = Order(
        number=await next_order_number(tx.session, org.case_prefix, year),
        text=request.text,
        issuer_id=person.telegram_id,
        issuer_name=person.name,
        chat_id=event.chat_id,
        created_at=tx.now,
        due_at=request.due,
        ack_span_s=int(chase.ack_span(org).total_seconds()),
        status="open",
    )
    tx.session.add(order)
    await tx.session.flush()
    add_event(
        tx.session, order, "issued", tx.now, actor_id=person.telegram_id, actor_name=person.name
    )
    remind_at = chase.remind_fraction(org)
    messages = OrderMessages(tx.services)
    for unit in request.targets:
        rungs = chase.chain(org, unit.id)
        start = chase.first_reachable(rungs, 0)
        assert start is not None  # checked by parse_order
        rung = rungs[start]
        target = OrderTarget(
            order_id=order.id,
            unit_id=unit.id,
            version=1,
            status="sent",
            level=rung.level,
            chased_unit_id=rung.id,
            level_since=tx.now,
            ack_due_at=chase.ack_deadline(order, tx.now),
            reminded=[],
        )
        target.next_due_at = chase.next_due(order, target, remind_at)
        tx.session.add(target)
        await tx.session.flush()
        for skipped in rungs[:start]:
            add_event(
                tx.session,
                order,
                "skipped",
                tx.now,
                target=target,
                unit_id=skipped.id,
                note="no chat at this level",
            )
        add_event(tx.session, order, "sent", tx.now, target=target, unit_id=rung.id)
        await messages.card(tx.session, order, target, rung, tx.now)
        tx.sent += 1
        tx.order_deadlines.append((target.id, target.next_due_at))
    return order
