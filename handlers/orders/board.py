"""`/orders`: the board of open orders a person may see, each target's state at a glance."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from escalation import orders as chase
from handlers.context import Tx
from handlers.events import InboundEvent
from handlers.intake import reply
from handlers.orders.cards import unit_name
from org.view import OrgView
from storage.models import Order, OrderTarget
from storage.orders import open_orders, targets_of
from storage.outbox import excerpt

BOARD_LIMIT = 10
BOARD_EXCERPT = 40


def board_state(order: Order, target: OrderTarget, now: datetime) -> str:
    if target.status == "done":
        return "done"
    if now >= order.due_at:
        return "overdue"
    return target.status


def board_line(org: OrgView, order: Order, target: OrderTarget, now: datetime) -> SimpleNamespace:
    acknowledged = target.status == "acknowledged"
    done = target.status == "done"
    rung = target.chased_unit_id if target.chased_unit_id != target.unit_id else None
    return SimpleNamespace(
        name=unit_name(org, target.unit_id),
        state=board_state(order, target, now),
        acknowledged=acknowledged,
        who=target.done_by if done else target.acknowledged_by,
        at=target.done_at if done else target.acknowledged_at,
        rung=unit_name(org, rung) if rung is not None else None,
    )


def units_below(org: OrgView, unit_ids: frozenset[str]) -> set[str]:
    """The units themselves and everything under them in the tree."""
    return {
        unit.id
        for unit in org.units.values()
        if {u.id for u in chase.chain(org, unit.id)} & unit_ids
    }


async def board(tx: Tx, event: InboundEvent) -> None:
    """`/orders`: open orders and, per unit, ✅ 完成 / 🟢 已收到 / ⏳ 未收到 / ❌ 逾期.

    Leaders and admins see every open order; staff the ones addressed to their units (and
    to the units under them), with only those units' lines."""
    person = tx.org.person(event.user_id)
    if person is None or not person.is_staff:
        await reply(tx, event, "orders_not_allowed")
        return
    mine: set[str] | None = None if person.is_leader else units_below(tx.org, person.units)
    found = await open_orders(tx.session, unit_ids=mine, limit=BOARD_LIMIT)
    targets = await targets_of(tx.session, [o.id for o in found])
    rows = []
    for order in found:
        lines = [
            board_line(tx.org, order, t, tx.now)
            for t in targets
            if t.order_id == order.id and (mine is None or t.unit_id in mine)
        ]
        rows.append(
            SimpleNamespace(
                number=order.number,
                due_at=order.due_at,
                excerpt=excerpt(order.text, BOARD_EXCERPT),
                targets=lines,
            )
        )
    await reply(tx, event, "orders_board", board=rows)
