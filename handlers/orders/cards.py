"""What an order looks like in the chats: each target's card with its buttons, and the
chase's messages (`escalation.orders` decides when, this says what)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.button_data import OrderAction
from handlers.context import Services
from org.view import OrgView, UnitView
from storage.models import Order, OrderTarget
from storage.outbox import Button, OutgoingMessage, enqueue


def key_of(order: Order, target: OrderTarget, what: str) -> str:
    """Every message about a target starts with this prefix: a press is accepted only on a
    message the bot sent for that very target (see `pressed_on_target`)."""
    return f"order:{order.id}:t{target.id}:{what}"


def unit_name(org: OrgView, unit_id: str) -> str:
    unit = org.units.get(unit_id)
    return unit.name if unit is not None else unit_id


def target_buttons(services: Services, target: OrderTarget) -> list[list[Button]]:
    r = services.renderer
    if target.status == "sent":
        return [[(r.label("button", "order_ack"), OrderAction(target.id, "ack").pack())]]
    if target.status == "acknowledged":
        return [[(r.label("button", "order_done"), OrderAction(target.id, "done").pack())]]
    return []


def render_card(services: Services, order: Order, target: OrderTarget) -> str:
    """The order as a target unit's chat shows it, with where it stands now."""
    r = services.renderer
    status_line = None
    if target.status == "acknowledged":
        status_line = r.render(
            "order_status",
            status="acknowledged",
            who=target.acknowledged_by,
            at=target.acknowledged_at,
        )
    elif target.status == "done":
        status_line = r.render("order_status", status="done", who=target.done_by, at=target.done_at)
    return r.render(
        "order_card",
        order=order,
        target_name=unit_name(services.org, target.unit_id),
        ack_due=target.ack_due_at if target.status == "sent" else None,
        status_line=status_line,
        workers=services.org.workers_of(target.unit_id) if target.status == "sent" else [],
    )


class OrderMessages:
    """The chase's `OrderNotifier`: what the chased chats and the issuer are told."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def card(
        self,
        session: AsyncSession,
        order: Order,
        target: OrderTarget,
        unit: UnitView,
        now: datetime,
    ) -> None:
        """The order reaching a target: in its own chat, or — when it has none — in the
        first chat up its ladder."""
        if unit.chat_id is None:
            return
        await enqueue(
            session,
            OutgoingMessage(
                key=key_of(order, target, "card"),
                chat_id=unit.chat_id,
                text=render_card(self.services, order, target),
                buttons=target_buttons(self.services, target),
            ),
            now,
        )

    async def reminder(
        self,
        session: AsyncSession,
        order: Order,
        target: OrderTarget,
        unit: UnitView,
        now: datetime,
    ) -> None:
        if target.ack_due_at is not None:
            await self._chase(session, order, target, unit, now, "order_reminder", "remind")

    async def climbed(
        self,
        session: AsyncSession,
        order: Order,
        target: OrderTarget,
        unit: UnitView,
        now: datetime,
    ) -> None:
        await self._chase(session, order, target, unit, now, "order_climbed", "climb")

    async def _chase(
        self,
        session: AsyncSession,
        order: Order,
        target: OrderTarget,
        unit: UnitView,
        now: datetime,
        template: str,
        what: str,
    ) -> None:
        """The chased rung's chat hears which unit is silent, with the 收到 button."""
        if unit.chat_id is None:
            return
        r = self.services.renderer
        await enqueue(
            session,
            OutgoingMessage(
                key=key_of(order, target, f"v{target.version}:{what}"),
                chat_id=unit.chat_id,
                text=r.render(
                    template,
                    order=order,
                    target_name=unit_name(self.services.org, target.unit_id),
                    unit_name=unit.name,
                    due=target.ack_due_at,
                ),
                buttons=target_buttons(self.services, target),
            ),
            now,
        )

    async def overdue(
        self, session: AsyncSession, order: Order, late: list[OrderTarget], now: datetime
    ) -> None:
        if not late:
            return
        r = self.services.renderer
        rows = [
            SimpleNamespace(name=unit_name(self.services.org, t.unit_id), state=t.status)
            for t in late
        ]
        await enqueue(
            session,
            OutgoingMessage(
                key=f"order:{order.id}:overdue",
                chat_id=order.chat_id,
                text=r.render("order_overdue", order=order, late=rows),
            ),
            now,
        )
