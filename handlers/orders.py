"""Orders (令): `/order` by a leader, 收到 / 完成 by the units, `/orders` the board.

「令行禁止」: an order flows down as reliably as a call flows up. Each target unit's staff
chat gets the order with a 收到 button; 收到 turns it into a 完成 button; a unit that stays
silent is chased up its ladder by `escalation.orders`. Button data names a target and an
action only: the press is checked against who pressed it, the message it was pressed on and
the target's state now.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from escalation import orders as chase
from handlers.button_data import OrderAction
from handlers.context import Services, Tx
from handlers.events import InboundEvent, Reply
from handlers.intake import reply
from org.durations import parse_duration
from org.view import OrgView, PersonView, UnitView
from storage.models import Order, OrderTarget, Outbox
from storage.orders import (
    add_event,
    close_if_done,
    get_order,
    get_target,
    next_order_number,
    open_orders,
    targets_of,
)
from storage.outbox import Button, OutgoingMessage, enqueue, excerpt

MAX_ORDER_CHARS = 1000
MAX_AHEAD = timedelta(days=366)
BOARD_LIMIT = 10
BOARD_EXCERPT = 40
# "all grids of": `haizhuang/grids`, `海幢街道全部网格`, `宝玉直社区所有网格`.
ALL_GRIDS = re.compile(r"(.+?)(?:/grids|全部网格|所有网格)", re.IGNORECASE)
TARGET_SEPARATORS = re.compile(r"[,，、]")
DATE_TOKEN = re.compile(r"(?:(\d{4})-)?(\d{1,2})-(\d{1,2})")
TIME_TOKEN = re.compile(r"(\d{1,2}):(\d{2})")
FIRST_WORD = re.compile(r"\s*(\S+)\s*(.*)", re.DOTALL)


class OrderInputError(Exception):
    """A mistake in a /order command: the template that explains it, and its context."""

    def __init__(self, template: str, **context: Any) -> None:
        super().__init__(template)
        self.template = template
        self.context = context


# --- parsing ---------------------------------------------------------------------------------


def find_unit(org: OrgView, word: str) -> UnitView | None:
    """A unit by id (any case) or by its exact name; never the leadership pseudo-unit."""
    lowered = word.lower()
    for unit in org.units.values():
        if unit.level != "leadership" and (unit.id.lower() == lowered or unit.name == word):
            return unit
    return None


def suggest(org: OrgView, word: str) -> str | None:
    """The unit name closest to a mistyped one, for "did you mean"."""
    names: dict[str, str] = {}
    for unit in sorted(org.units.values(), key=lambda u: u.id):
        if unit.level != "leadership":
            names.setdefault(unit.name, unit.name)
            names.setdefault(unit.id, unit.name)
    found = difflib.get_close_matches(word, list(names), n=1, cutoff=0.5)
    return names[found[0]] if found else None


def grids_under(org: OrgView, unit: UnitView) -> list[UnitView]:
    """The base grids in a street's or community's tree (a grid: itself)."""
    return [g for g in org.grids() if unit.id in {u.id for u in chase.chain(org, g.id)}]


def parse_targets(org: OrgView, word: str) -> list[UnitView]:
    """`宝玉直第一网格,baoyuzhi-2`, `haizhuang/grids`, `海幢街道全部网格` → units, in order,
    each once."""
    found: dict[str, UnitView] = {}
    items = [item.strip() for item in TARGET_SEPARATORS.split(word) if item.strip()]
    for item in items:
        group = ALL_GRIDS.fullmatch(item)
        unit = find_unit(org, group[1] if group else item)
        if unit is None:
            typed = group[1] if group else item
            raise OrderInputError(
                "order_unknown_unit", unit_name=typed, suggestion=suggest(org, typed)
            )
        units = grids_under(org, unit) if group else [unit]
        if not units:
            raise OrderInputError("order_no_targets", unit_name=item)
        for one in units:
            found.setdefault(one.id, one)
    if not found:
        raise OrderInputError("order_no_targets", unit_name="")
    return list(found.values())


def parse_deadline(rest: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, str]:
    """A duration (`2h`, `3d`) or a local date-time (`12-01 18:00`, `2026-12-01 18:00`) at
    the start of `rest`; returns the instant and what follows. A date without a year is this
    year's, or next year's when this year's was more than half a year ago (a December order
    for January)."""
    first = FIRST_WORD.fullmatch(rest)
    if first is None:
        raise OrderInputError("order_bad_deadline", typed="")
    word, after = first[1], first[2]
    if date := DATE_TOKEN.fullmatch(word):
        second = FIRST_WORD.fullmatch(after)
        clock = TIME_TOKEN.fullmatch(second[1]) if second else None
        if second is None or clock is None:
            raise OrderInputError("order_bad_deadline", typed=word)
        typed = f"{word} {second[1]}"
        local_now = now.astimezone(tz)
        year = int(date[1]) if date[1] else local_now.year
        try:
            due = datetime(
                year, int(date[2]), int(date[3]), int(clock[1]), int(clock[2]), tzinfo=tz
            )
            if not date[1] and due < now - timedelta(days=183):
                due = due.replace(year=year + 1)
        except ValueError:
            raise OrderInputError("order_bad_deadline", typed=typed) from None
        rest_text = second[2]
    else:
        if word.isdigit():  # a bare number would be seconds: surely not what a leader meant
            raise OrderInputError("order_bad_deadline", typed=word)
        try:
            span = parse_duration(word)
        except ValueError:
            raise OrderInputError("order_bad_deadline", typed=word) from None
        if span > MAX_AHEAD:
            raise OrderInputError("order_bad_deadline", typed=word)
        due, typed, rest_text = now + span, word, after
    if due <= now:
        raise OrderInputError("order_past_deadline", due=due)
    if due - now > MAX_AHEAD:
        raise OrderInputError("order_bad_deadline", typed=typed)
    return due.astimezone(now.tzinfo), rest_text


@dataclass(frozen=True)
class OrderRequest:
    targets: list[UnitView]
    due: datetime
    text: str


def parse_order(org: OrgView, args: str, now: datetime) -> OrderRequest:
    """`TARGETS DEADLINE TEXT`; every mistake raises its own `OrderInputError`."""
    first = FIRST_WORD.fullmatch(args)
    if first is None:
        raise OrderInputError("order_usage")
    targets = parse_targets(org, first[1])
    if not first[2].strip():
        raise OrderInputError("order_bad_deadline", typed="")
    due, text = parse_deadline(first[2], now, ZoneInfo(org.timezone))
    text = text.strip()
    if not text:
        raise OrderInputError("order_no_text")
    if len(text) > MAX_ORDER_CHARS:
        raise OrderInputError("order_too_long", length=len(text), limit=MAX_ORDER_CHARS)
    for unit in targets:
        if chase.first_reachable(chase.chain(org, unit.id), 0) is None:
            raise OrderInputError("order_no_chat", unit_name=unit.name)
    return OrderRequest(targets, due, text)


# --- messages --------------------------------------------------------------------------------


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


# --- /order ----------------------------------------------------------------------------------


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


# --- buttons ---------------------------------------------------------------------------------


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
    rows = await tx.session.execute(
        select(Outbox.platform_message_ids).where(
            Outbox.chat_id == event.chat_id,
            Outbox.dedupe_key.like(key_of(order, target, "%")),
        )
    )
    return any(event.callback_message_id in (ids or []) for ids in rows.scalars())


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


# --- /orders ---------------------------------------------------------------------------------


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
