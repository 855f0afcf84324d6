"""收到 / 完成 on an order's card: checked against who pressed, the message pressed on and
the target's state now."""

from __future__ import annotations

from typing import Any

from escalation import orders as chase
from handlers.context import Tx
from handlers.events import InboundEvent, Reply
from handlers.orders.cards import key_of, render_card, target_buttons, unit_name
from org.view import OrgView, PersonView
from storage.models import Order, OrderTarget
from storage.orders import add_event, close_if_done, get_order, get_target
from storage.outbox import OutgoingMessage, message_ids_with_key


def may_act(org: OrgView, person: PersonView | None, target: OrderTarget) -> bool:
    """Staff of the target unit or of a unit above it in its tree, and admins."""
    if person is None or not person.is_staff:
        return False
    if "admin" in person.roles:
        return True
    tree = {u.id for u in chase.chain(org, target.unit_id) if u.level != "leadership"}
    return bool(person.units & tree)


async def pressed_on_target(tx: Tx, order: Order, target: OrderTarget, event: InboundEvent) -> bool:
    """Whether the pressed message is one the bot sent for this target: data copied onto
    another message (a case card, say) must never turn that message into an order."""
    if event.callback_message_id is None:
        return False
    sent = await message_ids_with_key(tx.session, event.chat_id, key_of(order, target, "%"))
    return event.callback_message_id in sent


def alert(tx: Tx, name: str, **context: object) -> Reply:
    return Reply(alert=tx.r.render(name, **context), show_alert=True)


async def on_press(tx: Tx, event: InboundEvent, target_id: int, action: str) -> Reply:
    target = await get_target(tx.session, target_id)
    order = await get_order(tx.session, target.order_id) if target is not None else None
    if target is None or order is None:
        return alert(tx, "alert_invalid_button")
    person = tx.org.person(event.user_id)
    if not may_act(tx.org, person, target):
        return alert(tx, "alert_order_not_allowed", number=order.number)
    assert person is not None
    if not await pressed_on_target(tx, order, target, event):
        return alert(tx, "alert_invalid_button")
    if action == "ack":
        if target.status != "sent":
            await refresh(tx, event, order, target)
            return alert(
                tx, "alert_order_already_acked", number=order.number, who=target.acknowledged_by
            )
        return await acknowledge(tx, event, order, target, person)
    if target.status == "done":
        return alert(tx, "alert_order_already_done", number=order.number, who=target.done_by)
    if target.status != "acknowledged":
        return alert(tx, "alert_order_ack_first", number=order.number)
    return await complete(tx, event, order, target, person)


async def refresh(tx: Tx, event: InboundEvent, order: Order, target: OrderTarget) -> None:
    """A 收到 pressed on a message that is behind (the community acknowledged for its grid):
    show that message where the target stands, so its chat gets the 完成 button too."""
    assert event.callback_message_id is not None
    await edit(tx, event, order, target)


async def edit(tx: Tx, event: InboundEvent, order: Order, target: OrderTarget) -> None:
    assert event.callback_message_id is not None
    await tx.send(
        OutgoingMessage(
            key=key_of(
                order,
                target,
                f"v{target.version}:edit:{event.chat_id}:{event.callback_message_id}",
            ),
            chat_id=event.chat_id,
            text=render_card(tx.services, order, target),
            buttons=target_buttons(tx.services, target),
            edit_message_id=event.callback_message_id,
        )
    )


async def _pressed(
    tx: Tx,
    order: Order,
    target: OrderTarget,
    person: PersonView,
    states: tuple[str, ...],
    kind: str,
    **values: Any,
) -> bool:
    """收到 or 完成: one guarded move of the target from `states`, and its event naming who
    pressed; False if the target had moved on meanwhile (a stale or second press)."""
    if not await chase.transition(
        tx.session, order, target, states, chase.remind_fraction(tx.org), **values
    ):
        return False
    add_event(
        tx.session,
        order,
        kind,
        tx.now,
        target=target,
        actor_id=person.telegram_id,
        actor_name=person.name,
        unit_id=target.unit_id,
    )
    return True


async def acknowledge(
    tx: Tx, event: InboundEvent, order: Order, target: OrderTarget, person: PersonView
) -> Reply:
    moved = await _pressed(
        tx,
        order,
        target,
        person,
        ("sent",),
        "acknowledged",
        status="acknowledged",
        ack_due_at=None,
        acknowledged_at=tx.now,
        acknowledged_by=person.name,
    )
    if not moved:
        return alert(tx, "alert_invalid_button")
    tx.order_deadlines.append((target.id, target.next_due_at))
    await edit(tx, event, order, target)
    return Reply(alert=tx.r.render("alert_order_acked", number=order.number))


async def complete(
    tx: Tx, event: InboundEvent, order: Order, target: OrderTarget, person: PersonView
) -> Reply:
    moved = await _pressed(
        tx,
        order,
        target,
        person,
        ("acknowledged",),
        "done",
        status="done",
        done_at=tx.now,
        done_by=person.name,
    )
    if not moved:
        return alert(tx, "alert_invalid_button")
    closed = await close_if_done(tx.session, order)
    if closed:
        add_event(tx.session, order, "closed", tx.now)
    await edit(tx, event, order, target)
    await tx.send(
        OutgoingMessage(
            key=key_of(order, target, "done"),
            chat_id=order.chat_id,
            text=tx.r.render(
                "order_done_issuer",
                order=order,
                unit_name=unit_name(tx.org, target.unit_id),
                who=person.name,
                at=tx.now,
                closed=closed,
            ),
        )
    )
    return Reply(alert=tx.r.render("alert_order_done", number=order.number))
