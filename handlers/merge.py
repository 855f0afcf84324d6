"""Merging a new report into the open case it duplicates (合并) instead of filing another.

A report joins an open case only when it is the same problem at the same place
(:func:`triage.problems.compare` says ``SAME``): same kind of thing wrong, and the same named
building, gate, shop or house number, or a map location within the policy's radius. An
urgent report never joins a case that is not urgent. Anything less certain becomes a case of
its own whose card links the likely twin ("可能重复：HZ-…") with a one-tap 合并, so that a
false merge never hides a problem and a missed one costs a worker one tap.

Every merged report is kept whole — its text, author and time — in the reporters table and
the case's timeline, shown on the staff card (edited in place), in ``/case`` and in the
exports, and the unit holding the case now is told in one line. The resident hears the
problem is already being handled and by how many neighbours; at the policy's threshold of
reporters, or when a merged report says it is worse than the case knew, the priority goes up.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from cases import lifecycle
from cases.lifecycle import Actor
from cases.status import ACTIVE, Status
from handlers.cards import refresh_cards
from handlers.context import Tx
from handlers.events import InboundEvent, Reply
from handlers.notify import (
    case_buttons,
    notify_reporters,
    policy_of_case,
    render_card,
    shows_resident,
    target_chat,
)
from org.policy import PRIORITIES, Policy
from org.view import PersonView, UnitView
from storage.cases import add_event, get_case_by_number, recent_in_grid
from storage.models import Case, CaseReporter
from storage.org_import import current_policy
from storage.outbox import OutgoingMessage, excerpt
from storage.reporters import has_reported, reporter_ids, reports_by_case, reports_of
from triage.classifier import Triage
from triage.duplicates import distance_m, similarity
from triage.problems import Signature, Verdict, compare, signature

if TYPE_CHECKING:
    from handlers.intake import Report

EXTRA_REPORTS_KEPT = 5
"""Merged reports a card shows (the newest); all of them are in /case and the exports."""
CARD_QUOTE = 80
"""Characters of a merged report quoted on the card; the whole text is one tap away."""


@dataclass(frozen=True)
class DuplicateCheck:
    """What the open cases of the grid say about a new report.

    ``same``: the case it joins. ``hint``: a case it may duplicate, for the worker to judge.
    """

    same: Case | None = None
    hint: Case | None = None


_RANK = {Verdict.DIFFERENT: 0, Verdict.MAYBE: 1, Verdict.LIKELY: 2, Verdict.SAME: 3}

T = TypeVar("T")


def pick(verdicts: Sequence[tuple[T, Verdict]]) -> tuple[T | None, T | None]:
    """The case to join and the case to link, from each open case's verdict (oldest first).

    The oldest ``SAME`` is joined (later twins may be merged into it by hand). A ``LIKELY``
    case — the problem named in other words — is joined only when it is the one open case
    that could be meant: "3栋门口那盏灯" beside a street-light case and a stair-light case at
    3栋 is a question for the worker, not a merge. Otherwise the newest doubtful case is linked
    (what the worker most likely just saw).
    """
    same = next((case for case, verdict in verdicts if verdict is Verdict.SAME), None)
    likely = [case for case, verdict in verdicts if verdict is Verdict.LIKELY]
    if same is None and len(likely) == 1:
        same = likely[0]
    if same is not None:
        return same, None
    doubtful = [case for case, verdict in verdicts if verdict in (Verdict.MAYBE, Verdict.LIKELY)]
    return None, doubtful[-1] if doubtful else None


def signature_of(row: CaseReporter) -> Signature:
    """A stored report's signature (worked out now for rows stored before there was one)."""
    if row.signature:
        return Signature.from_json(row.signature)
    return signature(row.text)


def _near(
    place: tuple[float, float] | None, rows: Sequence[CaseReporter], radius_m: float
) -> bool | None:
    points = [(r.lon, r.lat) for r in rows if r.lon is not None and r.lat is not None]
    if place is None or not points:
        return None
    return min(distance_m(place, p) for p in points) <= radius_m


def judge(
    case: Case,
    rows: Sequence[CaseReporter],
    report: Report,
    sig: Signature,
    triage: Triage,
    policy: Policy,
) -> Verdict:
    """Is ``report`` the same problem at the same place as ``case`` (reported by ``rows``)?

    The case's first report defines its problem; a later one that was merged counts too,
    unless the first says the places differ. Same reporter, same thing, no place that
    differs: the resident is asking again about their own report.
    """
    rule = policy.duplicates
    near = _near(report.place, rows, rule.radius_m)
    verdicts = [compare(sig, signature_of(row), near=near) for row in rows]
    if not verdicts:
        return Verdict.DIFFERENT
    first, best = verdicts[0], max(verdicts, key=_RANK.__getitem__)
    verdict = best if first is not Verdict.DIFFERENT else first
    if verdict is Verdict.LIKELY and Verdict.DIFFERENT in verdicts:
        verdict = Verdict.MAYBE  # a loose match that another report of the case contradicts
    if verdict in (Verdict.MAYBE, Verdict.LIKELY) and any(
        r.reporter_id == report.reporter_id for r in rows
    ):
        own = signature_of(rows[0])
        if sig.objects and sig.objects == own.objects:
            verdict = Verdict.SAME
    if verdict is Verdict.DIFFERENT and not sig.objects:
        # Nothing in the report names a problem we know: the wording may still give it away.
        texts = [r.text for r in rows]
        if max((similarity(report.text, t) for t in texts), default=0.0) >= rule.similarity:
            verdict = Verdict.MAYBE
    urgent = triage.priority == "urgent"
    if verdict in (Verdict.SAME, Verdict.LIKELY) and urgent and case.priority != "urgent":
        verdict = Verdict.MAYBE  # a danger never disappears into a slower case
    return verdict


async def find_duplicate(
    tx: Tx, grid: UnitView, triage: Triage, report: Report, sig: Signature
) -> DuplicateCheck:
    """The open case of the grid the report joins, or the one it may duplicate."""
    policy = await current_policy(tx.session)
    since = tx.now - policy.duplicates.window
    cases = await recent_in_grid(tx.session, grid.id, ACTIVE, since)
    if not cases:
        return DuplicateCheck()
    by_case = await reports_by_case(tx.session, [c.id for c in cases])
    same, hint = pick(
        [
            (case, judge(case, by_case.get(case.id, []), report, sig, triage, policy))
            for case in cases
        ]
    )
    return DuplicateCheck(same, hint)


def add_reporter(tx: Tx, case: Case, report: Report, sig: Signature | None = None) -> None:
    """Keep what one resident said about the case, whole (every report, not every person)."""
    tx.session.add(
        CaseReporter(
            case_id=case.id,
            reporter_id=report.reporter_id,
            reporter_name=report.reporter_name,
            source_chat_id=report.chat_id,
            source_message_id=report.message_id,
            text=report.text,
            lon=report.place[0] if report.place else None,
            lat=report.place[1] if report.place else None,
            at=tx.now,
            signature=(sig or signature(report.text)).to_json(),
        )
    )


def extra_report(reporter_id: int, name: str, text: str, at: datetime) -> dict[str, Any]:
    """One merged report as the card shows it (see ``Case.extra_reports``)."""
    return {
        "id": reporter_id,
        "name": name,
        "text": excerpt(text, CARD_QUOTE),
        "length": len(text),
        "at": at.isoformat(),
    }


def _sooner_ack(case: Case, priority: str, now: datetime) -> dict[str, object]:
    """A case raised to ``priority`` while waiting to be taken must be taken by the new
    priority's deadline if that comes first."""
    if case.status != Status.DISPATCHED or case.ack_due_at is None:
        return {}
    return {"ack_due_at": min(case.ack_due_at, policy_of_case(case).ack_deadline(priority, now))}


def _higher(a: str, b: str) -> bool:
    """Whether priority ``a`` is more urgent than ``b``."""
    return PRIORITIES.index(a) < PRIORITIES.index(b) if a in PRIORITIES else False


async def merge_into(
    tx: Tx, case: Case, report: Report, triage: Triage, sig: Signature | None = None
) -> bool:
    """Add ``report`` to ``case`` in this transaction; False, changing nothing, if the case
    moved meanwhile (the caller then files the report as a case of its own)."""
    known = await has_reported(tx.session, case.id, report.reporter_id)
    policy = policy_of_case(case)
    count = case.reporter_count + (0 if known else 1)
    quote = extra_report(report.reporter_id, report.reporter_name, report.text, tx.now)
    tail = [*case.extra_reports, quote][-EXTRA_REPORTS_KEPT:]
    values: dict[str, object] = {
        "reporter_count": count,
        "extra_reports": tail,
        "updated_at": tx.now,
    }
    raise_to, why = _raised_priority(policy, case, count, not known, str(triage.priority))
    if raise_to is not None:
        values |= {"priority": raise_to, **_sooner_ack(case, raise_to, tx.now)}
    actor = Actor(report.reporter_id, report.reporter_name)
    step = await lifecycle.join(tx.session, case, tx.now, actor, report.text, **values)
    if step is None:
        return False
    add_reporter(tx, case, report, sig)
    tx.deadlines.append(step.deadline)
    await tell_holder(
        tx, case, report.reporter_name, report.text, raised=raise_to is not None, why=why
    )
    await refresh_cards(tx, case)
    unit = tx.org.units.get(case.current_unit_id)
    await tx.send(
        OutgoingMessage(
            key=f"case:{case.id}:merged:{report.chat_id}:{report.message_id}",
            chat_id=report.chat_id,
            text=tx.r.render(
                "case_merged",
                case=case,
                category=tx.r.label("category", case.category),
                status=tx.r.label("status", case.status),
                unit_name=unit.name if unit else "",
                count=case.reporter_count,
            ),
            reply_to_message_id=report.message_id,
            case_id=case.id,
            bundle_line=receipt_line(tx, case, report),
            bundle_kind="receipt",
        )
    )
    return True


def receipt_line(tx: Tx, case: Case, report: Report) -> str:
    """The line a resident's receipt becomes in a bundle: who, which case, what next."""
    return tx.r.render(
        "receipt_line",
        user_id=report.reporter_id,
        name=report.reporter_name,
        case=case,
        category=tx.r.label("category", case.category),
        merged=case.reporter_count > 1,
    )


def _raised_priority(
    policy: Policy, case: Case, count: int, new_reporter: bool, reported: str
) -> tuple[str | None, str]:
    """The priority the case moves to (or None) and why: a merged report more urgent than
    the case ("worse"), or the threshold of neighbours reached ("count")."""
    if _higher(reported, case.priority):
        return reported, "worse"
    if new_reporter and count == policy.duplicates.raise_priority_at:
        raised = policy.raised(case.priority)
        if raised != case.priority:
            return raised, "count"
    return None, ""


async def tell_holder(
    tx: Tx, case: Case, reporter_name: str, text: str, *, raised: bool, why: str
) -> None:
    """One line to whoever holds the case now: another resident's words, and the new
    priority if they raised it."""
    unit = tx.org.units.get(case.current_unit_id)
    chat_id = target_chat(case, unit)
    if raised:
        add_event(
            tx.session,
            case,
            "priority_raised",
            tx.now,
            to_status=case.status,
            unit_id=case.current_unit_id,
            note=f"{case.priority} ({why}, {case.reporter_count})",
        )
    if chat_id is None:
        return
    name = reporter_name if shows_resident(tx.org, unit, case) else None
    message = tx.r.render(
        "merged_staff",
        number=case.number,
        name=name,
        text=text,
        count=case.reporter_count,
        raised=raised,
        why=why,
        priority=tx.r.label("priority", case.priority),
        due=case.ack_due_at if case.status == "dispatched" else None,
    )
    quote = html.escape(excerpt(text, 40))
    await tx.send(
        OutgoingMessage(
            key=f"case:{case.id}:v{case.version}:merged-staff",
            chat_id=chat_id,
            text=message,
            case_id=case.id,
            bundle_line=f"➕ <b>{html.escape(case.number)}</b> · {quote}",
            bundle_kind="alert",
        )
    )


async def merge_by_hand(tx: Tx, event: InboundEvent, case: Case, person: PersonView) -> Reply:
    """合并 on a card: the worker says this case is the same problem as the one its card
    links. Everything the case's residents wrote joins the other case, whole; this case
    becomes ``duplicate``, its clocks stop, and its residents are told where it went."""
    target = await get_case_by_number(tx.session, case.duplicate_hint or "")
    ladder = policy_of_case(case).ladder
    if (
        target is None
        or target.id == case.id
        or target.grid_id != case.grid_id
        or target.status not in ACTIVE
        or case.status not in ACTIVE
    ):
        return Reply(
            alert=tx.r.render(
                "alert_merge_gone", number=case.number, target=case.duplicate_hint or "—"
            ),
            show_alert=True,
        )
    if not tx.org.may_act(
        person, target.grid_id, target.category, target.level, policy_of_case(target).ladder
    ) or not tx.org.may_act(person, case.grid_id, case.category, case.level, ladder):
        return Reply(alert=tx.r.render("alert_not_allowed", number=target.number), show_alert=True)
    rows = await reports_of(tx.session, case.id)
    known = await reporter_ids(tx.session, target.id)
    actor = Actor(person.telegram_id, person.name)
    gone = await lifecycle.mark_duplicate(tx.session, case, target.number, tx.now, actor)
    if gone is None:
        return Reply(alert=tx.r.render("alert_case_changed", number=case.number), show_alert=True)
    tx.deadlines.append(gone.deadline)
    newcomers = {r.reporter_id for r in rows} - known
    quotes = [extra_report(r.reporter_id, r.reporter_name, r.text, r.at) for r in rows]
    tail = [*target.extra_reports, *quotes][-EXTRA_REPORTS_KEPT:]
    values: dict[str, object] = {
        "reporter_count": target.reporter_count + len(newcomers),
        "extra_reports": tail,
        "updated_at": tx.now,
    }
    raised = _higher(case.priority, target.priority)
    if raised:
        values |= {"priority": case.priority, **_sooner_ack(target, case.priority, tx.now)}
    reports = [(Actor(row.reporter_id, row.reporter_name), row.text) for row in rows]
    joined = await lifecycle.absorb(tx.session, target, tx.now, reports, **values)
    if joined is None:
        raise RuntimeError("the case to merge into moved in this transaction")
    for row in rows:
        tx.session.add(row.copy_to(target.id))
    tx.deadlines.append(joined.deadline)
    if rows:
        await tell_holder(
            tx, target, rows[0].reporter_name, rows[0].text, raised=raised, why="worse"
        )
    await refresh_cards(tx, target)
    if event.callback_message_id is not None:
        unit = tx.org.units.get(case.current_unit_id)
        status = tx.r.render("status_merged", who=person.name, at=tx.now, target=target.number)
        await tx.send(
            OutgoingMessage(
                key=f"case:{case.id}:v{case.version}:card-edit",
                chat_id=event.chat_id,
                text=render_card(tx.r, tx.org, case, unit, status_line=status),
                buttons=case_buttons(tx.r, case, ()),
                edit_message_id=event.callback_message_id,
                case_id=case.id,
            )
        )
    unit = tx.org.units.get(target.current_unit_id)
    await notify_reporters(
        tx,
        case,
        "case_merged_by_staff",
        "merged-by-hand",
        case_into=target,
        category=tx.r.label("category", target.category),
        status=tx.r.label("status", target.status),
        unit_name=unit.name if unit else "",
    )
    return Reply(alert=tx.r.render("alert_merged", number=case.number, target=target.number))
