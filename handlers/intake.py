"""Intake: turning a resident's message into a case (呼), or a clear answer why not.

A report in a residents' chat belongs to that chat's grid. A report in a private chat has no
place yet, so the bot keeps it (in the database) and asks which grid, or for a location.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cases import lifecycle
from handlers.button_data import PlaceChoice
from handlers.context import Tx
from handlers.events import InboundEvent
from handlers.merge import add_reporter, find_duplicate, merge_into, receipt_line
from handlers.notify import CaseNotifier
from org.view import UnitView
from storage import conversations
from storage.cases import next_case_number
from storage.models import Case
from storage.org_import import current_policy
from storage.outbox import OutgoingMessage
from triage.categories import Category, Priority
from triage.classifier import Triage
from triage.problems import Signature, signature

MAX_REPORT_CHARS = 4096
"""The longest report filed: what one Telegram message can carry, so a letter pasted into
one message is always filed whole. Longer text cannot arrive in one message on Telegram;
from another transport it is answered with the limit and filed nowhere, never cut."""

CONVERSATION_TTL = timedelta(minutes=30)
PLACE_BUTTONS_MAX = 24


def report_text(event: InboundEvent, bot_username: str) -> str:
    """The report without the bot's @mention or the /report command word."""
    text = event.command_args if event.command == "report" else event.text
    return text.replace(f"@{bot_username}", " ").strip()


async def reply(tx: Tx, event: InboundEvent, template: str, /, **context: Any) -> None:
    """Answer in the thread of the message that caused it, once per message."""
    await tx.send(
        OutgoingMessage(
            key=f"reply:{event.chat_id}:{event.message_id or event.callback_id}:{template}",
            chat_id=event.chat_id,
            text=tx.r.render(template, **context),
            reply_to_message_id=event.message_id,
        )
    )


async def validate_report(tx: Tx, event: InboundEvent, text: str) -> bool:
    if not text and not event.photos and event.location is None:
        await reply(tx, event, "report_empty")
        return False
    if len(text) > MAX_REPORT_CHARS:
        await reply(tx, event, "report_too_long", length=len(text), limit=MAX_REPORT_CHARS)
        return False
    return True


@dataclass(frozen=True)
class Report:
    """What one resident said, where and how: the input of filing or merging."""

    reporter_id: int
    reporter_name: str
    chat_id: int
    message_id: int | None
    text: str
    photos: tuple[str, ...] = ()
    place: tuple[float, float] | None = None


async def file_or_merge(tx: Tx, grid: UnitView, report: Report, triage: Triage) -> Case:
    """A report joins the open case that is the same problem at the same place, or becomes
    a new case (whose card links a case it may duplicate, for a worker to judge)."""
    sig = signature(report.text)
    check = await find_duplicate(tx, grid, triage, report, sig)
    if check.same is not None and await merge_into(tx, check.same, report, triage, sig):
        return check.same
    hint = check.hint.number if check.hint is not None else None
    return await file_case(tx, grid, report, triage, sig=sig, hint=hint)


async def file_case(
    tx: Tx,
    grid: UnitView,
    report: Report,
    triage: Triage,
    *,
    sig: Signature | None = None,
    hint: str | None = None,
) -> Case:
    """File, dispatch and confirm a case: one transaction, whatever happens after."""
    now = tx.now
    # The case carries the deadlines that apply to its category, fixed at filing.
    policy = (await current_policy(tx.session)).for_category(str(triage.category))
    number = await next_case_number(tx.session, tx.org.case_prefix, now.year)
    case = Case(
        number=number,
        reporter_id=report.reporter_id,
        reporter_name=report.reporter_name,
        source_chat_id=report.chat_id,
        source_message_id=report.message_id,
        text=report.text,
        photos=list(report.photos),
        lon=report.place[0] if report.place else None,
        lat=report.place[1] if report.place else None,
        category=str(triage.category),
        confidence=triage.confidence,
        priority=str(triage.priority),
        grid_id=grid.id,
        level="grid",
        current_unit_id=grid.id,
        policy=policy.to_json(),
        duplicate_hint=hint,
        extra_reports=[],
        resolve_due_at=policy.resolve_deadline(str(triage.priority), now),
        created_at=now,
        updated_at=now,
    )
    await lifecycle.file(
        tx.session, case, now, lifecycle.Actor(report.reporter_id, report.reporter_name)
    )
    add_reporter(tx, case, report, sig)
    await lifecycle.dispatch(tx.session, case, tx.org, now, CaseNotifier(tx.services))
    tx.deadlines.append((case.id, case.next_due_at))
    unit = tx.org.units.get(case.current_unit_id)
    await tx.send(
        OutgoingMessage(
            key=f"case:{case.id}:filed",
            chat_id=report.chat_id,
            text=tx.r.render(
                "case_filed",
                case=case,
                category=tx.r.label("category", case.category),
                unit_name=unit.name if unit else grid.name,
                emergency=list(triage.emergency_numbers),
            ),
            reply_to_message_id=report.message_id,
            case_id=case.id,
            bundle_line=receipt_line(tx, case, report),
            bundle_kind="receipt",
        )
    )
    return case


async def report_in_group(tx: Tx, event: InboundEvent, grid: UnitView, addressed: bool) -> None:
    text = report_text(event, tx.services.bot_username)
    if not addressed:
        if len(text) > MAX_REPORT_CHARS:
            return  # cannot come from Telegram; not addressed to us, so nothing to answer
        triage = tx.classify(text, addressed=False)
        if not triage.is_report or str(triage.category) == "other":
            return
    elif not await validate_report(tx, event, text):
        return
    else:
        triage = tx.classify(text, addressed=True)
    report = Report(
        reporter_id=event.user_id or 0,
        reporter_name=event.user_name,
        chat_id=event.chat_id,
        message_id=event.message_id,
        text=text,
        photos=event.photos,
        place=event.location,
    )
    await file_or_merge(tx, grid, report, triage)


async def report_in_private(tx: Tx, event: InboundEvent) -> None:
    """A private report: route by location at once, or keep it and ask where."""
    text = report_text(event, tx.services.bot_username)
    if not await validate_report(tx, event, text):
        return
    triage = tx.classify(text, addressed=event.command == "report")
    if not triage.is_report and not event.photos and event.location is None:
        await reply(tx, event, "private_not_report")
        return
    pending: dict[str, Any] = {
        "text": text,
        "photos": list(event.photos),
        "message_id": event.message_id,
        "user_name": event.user_name,
        "location": list(event.location) if event.location else None,
        "triage": {
            "category": str(triage.category),
            "confidence": triage.confidence,
            "priority": str(triage.priority),
            "emergency": list(triage.emergency_numbers),
        },
    }
    if event.location is not None:
        grid = tx.org.grid_for_location(*event.location)
        if grid is not None:
            await file_from_pending(tx, event, pending, grid)
            return
    await ask_place(tx, event, pending)


async def remember_question(
    tx: Tx,
    event: InboundEvent,
    action: str,
    *,
    case_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """What the bot now waits for from this person in this chat (it replaces any earlier
    question): kept in the database, so a restart before the answer loses nothing."""
    assert event.user_id is not None
    await conversations.ask(
        tx.session,
        event.chat_id,
        event.user_id,
        action,
        tx.now + CONVERSATION_TTL,
        case_id=case_id,
        payload=payload,
    )


async def ask_place(tx: Tx, event: InboundEvent, pending: dict[str, Any]) -> None:
    await remember_question(tx, event, "choose_place", payload=pending)
    buttons = [
        [(f"{community.name} · {grid.name}", PlaceChoice(grid.id).pack())]
        for community, grids in tx.org.grids_of_community()
        for grid in grids
    ][:PLACE_BUTTONS_MAX]
    await tx.send(
        OutgoingMessage(
            key=f"reply:{event.chat_id}:{event.message_id or event.callback_id}:ask_place",
            chat_id=event.chat_id,
            text=tx.r.render("ask_place", outside=pending.get("location") is not None),
            buttons=buttons,
            reply_to_message_id=event.message_id,
        )
    )


def _pending_triage(pending: dict[str, Any]) -> Triage | None:
    """The triage made when the private report arrived (it may have come from a model)."""
    saved = pending.get("triage")
    if not isinstance(saved, dict):
        return None
    try:
        return Triage(
            category=Category(saved["category"]),
            confidence=float(saved["confidence"]),
            is_report=True,
            priority=Priority(saved["priority"]),
            emergency_numbers=tuple(str(n) for n in saved.get("emergency", ())),
        )
    except (KeyError, ValueError, TypeError):
        return None


async def file_from_pending(
    tx: Tx, event: InboundEvent, pending: dict[str, Any], grid: UnitView
) -> Case:
    location = pending.get("location")
    text = str(pending.get("text") or "")
    triage = _pending_triage(pending) or tx.classify(text, addressed=True)
    if event.user_id is not None:
        await conversations.forget(tx.session, event.chat_id, event.user_id)
    report = Report(
        reporter_id=event.user_id or 0,
        reporter_name=str(pending.get("user_name") or event.user_name),
        chat_id=event.chat_id,
        message_id=pending.get("message_id"),
        text=text,
        photos=tuple(pending.get("photos") or ()),
        place=(float(location[0]), float(location[1])) if location else None,
    )
    return await file_or_merge(tx, grid, report, triage)
