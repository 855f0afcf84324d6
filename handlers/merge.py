"""Merging a new report into the open case it duplicates (合并) instead of filing another.

The resident is told the problem is already being handled and by how many neighbours; the
case gains a reporter (who will hear the outcome), and at the policy's threshold of
reporters its priority goes one step up — a street light ten neighbours complain about is
more urgent than one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from escalation.engine import transition
from escalation.policy import Policy
from escalation.routing import UnitView
from handlers.context import Tx
from handlers.notify import policy_of_case
from storage.cases import OPEN_STATUSES, add_event
from storage.models import Case, CaseReporter
from storage.org_import import current_policy
from storage.outbox import OutgoingMessage
from triage.classifier import Triage

if TYPE_CHECKING:
    from handlers.intake import Report
from triage.duplicates import Candidate, best_match

MERGEABLE = ("dispatched", "acknowledged", "returned", "reopened")


async def find_duplicate(
    tx: Tx, grid: UnitView, triage: Triage, text: str, place: tuple[float, float] | None
) -> Case | None:
    policy = await current_policy(tx.session)
    rule = policy.duplicates
    since = tx.now - rule.window
    cases = list(
        (
            await tx.session.execute(
                select(Case).where(
                    Case.grid_id == grid.id,
                    Case.category == str(triage.category),
                    Case.status.in_(MERGEABLE),
                    Case.created_at >= since,
                )
            )
        ).scalars()
    )
    if not cases:
        return None
    reporters = list(
        (
            await tx.session.execute(
                select(CaseReporter).where(CaseReporter.case_id.in_([c.id for c in cases]))
            )
        ).scalars()
    )
    candidates = [
        Candidate(
            case_id=case.id,
            texts=tuple(r.text for r in reporters if r.case_id == case.id) or (case.text,),
            places=tuple(
                (r.lon, r.lat)
                for r in reporters
                if r.case_id == case.id and r.lon is not None and r.lat is not None
            ),
        )
        for case in cases
    ]
    match = best_match(
        text, place, candidates, min_similarity=rule.similarity, radius_m=rule.radius_m
    )
    return next((c for c in cases if c.id == match), None)


def add_reporter(tx: Tx, case: Case, report: Report) -> None:
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
        )
    )


async def merge_into(tx: Tx, case: Case, report: Report) -> None:
    known = (
        await tx.session.execute(
            select(CaseReporter.id).where(
                CaseReporter.case_id == case.id, CaseReporter.reporter_id == report.reporter_id
            )
        )
    ).first()
    policy = policy_of_case(case)
    if known is None:
        count = case.reporter_count + 1
        values: dict[str, object] = {"reporter_count": count, "updated_at": tx.now}
        raise_to = _raised_priority(policy, case, count)
        if raise_to is not None:
            values["priority"] = raise_to
            if case.status == "dispatched" and case.ack_due_at is not None:
                values["ack_due_at"] = min(case.ack_due_at, policy.ack_deadline(raise_to, tx.now))
        if not await transition(tx.session, case, MERGEABLE, **values):
            return  # the case moved under us; the report is answered as a new one next time
        add_reporter(tx, case, report)
        add_event(
            tx.session,
            case,
            "merged",
            tx.now,
            actor_id=report.reporter_id,
            actor_name=report.reporter_name,
            note=f"{count}",
        )
        if raise_to is not None:
            await _priority_raised(tx, case, count)
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
        )
    )


def _raised_priority(policy: Policy, case: Case, count: int) -> str | None:
    if count != policy.duplicates.raise_priority_at:
        return None
    raised = policy.raised(case.priority)
    return raised if raised != case.priority else None


async def _priority_raised(tx: Tx, case: Case, count: int) -> None:
    add_event(
        tx.session,
        case,
        "priority_raised",
        tx.now,
        to_status=case.status,
        note=f"{case.priority} ({count})",
    )
    tx.deadlines.append((case.id, case.next_due_at))
    unit = tx.org.units.get(case.current_unit_id)
    if unit is None or unit.chat_id is None:
        return
    await tx.send(
        OutgoingMessage(
            key=f"case:{case.id}:v{case.version}:priority",
            chat_id=unit.chat_id,
            text=tx.r.render(
                "priority_raised",
                number=case.number,
                count=count,
                priority=tx.r.label("priority", case.priority),
                due=case.ack_due_at if case.status == "dispatched" else None,
            ),
            case_id=case.id,
        )
    )


__all__ = ["OPEN_STATUSES", "add_reporter", "find_duplicate", "merge_into"]
