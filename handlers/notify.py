"""What staff and residents are told about a case: cards, buttons and follow-ups.

The case card is the one message a unit's chat gets for a case; its buttons carry only the
case id and an action, and every press is checked against the presser (see buttons.py).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import get_args

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.alerts import fan_out
from handlers.button_data import CaseAction, CaseActionName, Feedback, RatingName
from handlers.context import Services, Tx
from org.policy import Policy
from org.view import OrgView, Stop, UnitView
from storage.models import Case
from storage.outbox import Button, OutgoingMessage, enqueue, excerpt
from storage.reporters import reports_of
from templates.render import Renderer

ACTIONS_OPEN: tuple[CaseActionName, ...] = ("ack", "resolve", "return", "escalate", "recat")
ACTIONS_ACKED: tuple[CaseActionName, ...] = ("resolve", "return", "escalate", "recat")
CARD_TEXT_MAX = 300
"""Characters of the report a card shows whole; a longer letter shows its start and a
「全文」 button, because a 3,000-character letter would bury the buttons and the deadline."""
CARD_SUMMARY = 200
"""Characters of a long letter's start shown on the card."""


def has_more_text(case: Case) -> bool:
    """Whether some of what residents wrote is not on the card (a long letter, or a merged
    report quoted short): then the card offers 全文."""
    return (
        len(case.text) > CARD_TEXT_MAX
        or any(
            int(extra.get("length", 0)) > len(str(extra.get("text", "")))
            for extra in case.extra_reports
        )
        or case.reporter_count > len(case.extra_reports) + 1
    )


def case_buttons(
    r: Renderer, case: Case, actions: tuple[CaseActionName, ...]
) -> list[list[Button]]:
    """The card's buttons: the actions, then 全文 and 合并 where they apply."""
    extra: list[CaseActionName] = list(actions)
    if actions and case.duplicate_hint:
        extra.append("merge")
    if has_more_text(case):
        extra.append("full")
    buttons = [(r.label("button", a), CaseAction(case.id, a).pack()) for a in extra]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def place_of(org: OrgView, case: Case) -> str:
    grid = org.units.get(case.grid_id)
    return grid.name if grid else case.grid_id


def shows_resident(org: OrgView, unit: UnitView | None, case: Case) -> bool:
    """Residents' names stay in their grid's chats unless the org allows otherwise."""
    if org.show_resident_details:
        return True
    return unit is not None and unit.id == case.grid_id


def render_card(
    r: Renderer,
    org: OrgView,
    case: Case,
    unit: UnitView | None,
    *,
    reason: str = "new",
    status_line: str | None = None,
) -> str:
    workers = org.workers_of(unit.id) if unit is not None else []
    if case.assignee_id is not None and unit is not None and unit.id == case.grid_id:
        assignee = org.person(case.assignee_id)
        workers = [assignee] if assignee is not None else workers
    unit_name = unit.name if unit is not None else ""
    shown = shows_resident(org, unit, case)
    text = case.text
    summary = text if len(text) <= CARD_TEXT_MAX else text[:CARD_SUMMARY].rstrip() + "…"
    return r.render(
        "case_card",
        case=case,
        summary=summary,
        full_length=len(text) if summary != text else None,
        extra_reports=[
            {"name": e.get("name") if shown else None, "text": e.get("text", "")}
            for e in case.extra_reports
        ],
        more_reports=max(0, case.reporter_count - 1 - len(case.extra_reports)),
        category=r.label("category", case.category),
        priority=r.label("priority", case.priority),
        level=r.label("level", case.level),
        unit_name=unit_name,
        place=place_of(org, case),
        reporter=case.reporter_name if shown else None,
        reason=r.label("reason", reason) if reason != "new" else None,
        workers=workers,
        status_line=status_line,
    )


def open_actions(case: Case, acknowledged: bool = False) -> tuple[CaseActionName, ...]:
    """The buttons a card offers: no 回退 once the case was sent back too often (the
    community decides), no 接单 once it is taken."""
    actions = ACTIONS_ACKED if acknowledged else ACTIONS_OPEN
    if case.return_count >= policy_of_case(case).max_returns:
        actions = tuple(a for a in actions if a != "return")
    return actions


def target_chat(case: Case, unit: UnitView | None) -> int | None:
    """Where the unit holding a case hears of it: a grid case assigned on the rota goes to
    the worker privately (就近派单), anything else to the unit's staff chat."""
    if unit is not None and unit.id == case.grid_id and case.assignee_id is not None:
        return case.assignee_id
    return unit.chat_id if unit is not None else None


def card_bundle_line(r: Renderer, case: Case, *, climbed: bool) -> str:
    """The line a case card becomes in a burst bundle: the card's headline (number,
    category, priority; ⬆️ when it climbed) and the start of the report, escaped."""
    head = (
        f"<b>{html.escape(case.number)}</b> · {r.label('category', case.category)}"
        f" · {r.label('priority', case.priority)}"
    )
    quote = excerpt(case.text)
    line = f"{head} · {html.escape(quote)}" if quote else head
    return f"⬆️ {line}" if climbed else line


def card_message(
    r: Renderer,
    org: OrgView,
    case: Case,
    unit: UnitView | None,
    *,
    key: str,
    chat_id: int,
    reason: str,
) -> OutgoingMessage:
    """A new case card for a unit's chat, with what the sender needs to fold it into a
    bundle when the chat is flooded: its line, and the case's own 接单 button."""
    actions = open_actions(case)
    ack = CaseAction(case.id, "ack").pack()
    return OutgoingMessage(
        key=key,
        chat_id=chat_id,
        text=render_card(r, org, case, unit, reason=reason),
        buttons=case_buttons(r, case, actions),
        case_id=case.id,
        bundle_line=card_bundle_line(r, case, climbed=reason != "new") if "ack" in actions else "",
        bundle_button=(f"{r.label('button', 'ack')} {case.number}", ack),
        bundle_kind="call",
    )


class CaseNotifier:
    """The engine's `Notifier`: writes what the engine did to the right chats."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def case_reached(
        self, session: AsyncSession, case: Case, stop: Stop, now: datetime, reason: str
    ) -> None:
        chat_id = target_chat(case, stop.unit)
        if chat_id is not None:
            message = card_message(
                self.services.renderer,
                self.services.org,
                case,
                stop.unit,
                key=f"case:{case.id}:v{case.version}:card",
                chat_id=chat_id,
                reason=reason,
            )
            await enqueue(session, message, now)
        if reason != "new":  # a climb (or a hand-over): the leaders who subscribed hear of it
            place = place_of(self.services.org, case)
            await fan_out(
                session, self.services, case, stop, now, reason, place=place, card_chat=chat_id
            )

    async def shared(
        self, session: AsyncSession, case: Case, unit: UnitView, now: datetime
    ) -> None:
        if unit.chat_id is None:
            return
        message = card_message(
            self.services.renderer,
            self.services.org,
            case,
            unit,
            key=f"case:{case.id}:shared:{unit.id}",
            chat_id=unit.chat_id,
            reason="key_grid",
        )
        await enqueue(session, message, now)

    async def reminder(
        self, session: AsyncSession, case: Case, kind: str, due: datetime, now: datetime
    ) -> None:
        unit = self.services.org.units.get(case.current_unit_id)
        chat_id = target_chat(case, unit)
        if chat_id is None:
            return
        r = self.services.renderer
        await enqueue(
            session,
            OutgoingMessage(
                key=f"case:{case.id}:v{case.version}:remind:{kind}",
                chat_id=chat_id,
                text=r.render(
                    "reminder",
                    case=case,
                    kind=kind,
                    due=due,
                    category=r.label("category", case.category),
                    unit_name=unit.name if unit else "",
                ),
                case_id=case.id,
            ),
            now,
        )


def policy_of_case(case: Case) -> Policy:
    return Policy.from_json(case.policy)


async def notify_reporters(
    tx: Tx,
    case: Case,
    template: str,
    suffix: str,
    buttons: list[list[Button]] | None = None,
    **context: object,
) -> None:
    """Tell everyone who reported the case, once per chat they reported from, in the
    thread of the first report made there."""
    rows = await reports_of(tx.session, case.id)
    first_in_chat: dict[int, int | None] = {}
    for row in rows:
        first_in_chat.setdefault(row.source_chat_id, row.source_message_id)
    if not first_in_chat:  # cases filed before reporters were recorded
        first_in_chat[case.source_chat_id] = case.source_message_id
    text = tx.r.render(template, case=case, **context)
    for chat_id, message_id in first_in_chat.items():
        await tx.send(
            OutgoingMessage(
                key=f"case:{case.id}:v{case.version}:{suffix}:{chat_id}",
                chat_id=chat_id,
                text=text,
                buttons=buttons or [],
                reply_to_message_id=message_id,
                case_id=case.id,
            )
        )


def feedback_buttons(r: Renderer, case: Case) -> list[list[Button]]:
    """满意 / 基本满意 / 不满意: only the case's reporters may press them (see buttons.py)."""
    ratings = get_args(RatingName)
    return [[(r.label("button", k), Feedback(case.id, k).pack()) for k in ratings]]
