"""Indicators (考核指标) computed from the record, so that every figure traces to cases.

Only `case_events` and the case row's number, category, grid and filing time are read:
the event log is the truth (全记录), the case row's other columns are a summary of it.

Definitions (also carried in every JSON report under "definitions"):

- A case is in a period when it was FILED (`cases.created_at`) in it.
- Scope of a unit: for a grid, community or street, the cases whose grid is it or under it
  (属地); a key grid (重点网格) also counts the cases shared with it (`shared` event). For a
  department or the leadership, the cases that reached it: an event with that `unit_id` of
  kind dispatched, escalated, rerouted or reopened. For a category, the cases of that
  category (as it is now, after any correction).
- acknowledged: the first event of kind `acknowledged` or `resolved` (办结 implies 签收).
- A missed deadline is an `escalated` or `ladder_exhausted` event written by the system
  (no actor) whose note is `ack_overdue` (acknowledge) or `resolve_overdue` (resolve). A
  manual 提级 or a 回退 also writes an `escalated` event, but with the person as actor and
  their words as note: it is not a missed deadline.
- ack_in_time_rate (及时签收率) = cases acknowledged with no missed acknowledge deadline
  before the first acknowledgement / cases whose acknowledgement is decided (acknowledged,
  or missed an acknowledge deadline). Undecided cases are left out; None when nothing is
  decided.
- resolved_in_time_rate (按期办结率) = cases resolved (first `resolved` event) with no missed
  resolve deadline before it / cases resolved or that missed a resolve deadline.
- closure_rate (结案率) = cases with a `closed` event / cases.
- reopen_rate (返工率) = cases with at least one `reopened` event / cases resolved at least
  once.
- return_rate (回退率) = cases with at least one `returned` event / cases.
- satisfaction_rate (满意率) = judgements 满意 or 基本满意 / all judgements. A judgement is a
  `closed` event by a person (actor set) with note `good` or `ok`, or a `reopened` event by a
  person (不满意). Silence (closed by the system, note `no_feedback`) is not a judgement. A
  case judged twice (不满意, then 满意 after the rework) counts twice; the trace lists it
  once per judgement.
- mtta_s / mttr_s: mean seconds from filing to the first acknowledgement / first
  resolution; mtta_p90_s / mttr_p90_s the 90th percentile (nearest rank). None when no case
  was acknowledged / resolved.
- cases: the number of cases in scope. A case a worker merged into another (合并: an
  event of kind `merged_into`, status `duplicate`) is not counted anywhere: its reports
  belong to the case it joined, which counts once.

Every rate is None when its denominator is 0. `trace` gives, per figure, the case numbers
of the numerator and the denominator (for times: the cases averaged).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from org.view import OrgView
from storage.models import Case, CaseEvent

RATE_KEYS = (
    "ack_in_time_rate",
    "resolved_in_time_rate",
    "closure_rate",
    "reopen_rate",
    "return_rate",
    "satisfaction_rate",
)
TIME_KEYS = ("mtta_s", "mttr_s", "mtta_p90_s", "mttr_p90_s")
REQUIRED_KEYS = (*RATE_KEYS, "mtta_s", "mttr_s", "cases")
REACHING = ("dispatched", "escalated", "rerouted", "reopened")
MISSED = ("escalated", "ladder_exhausted")

DEFINITIONS: dict[str, str] = {
    "period": "a case is in the period when it was filed (cases.created_at) in [start, end)",
    "scope_geographic": "grid/community/street: cases whose grid is it or under it (属地); "
    "a key grid also counts cases shared with it",
    "scope_department": "department/leadership: cases with an event of kind dispatched, "
    "escalated, rerouted or reopened naming the unit",
    "scope_category": "cases of the category (as it is now)",
    "acknowledged": "first event of kind acknowledged or resolved",
    "missed_deadline": "escalated or ladder_exhausted event with no actor and note "
    "ack_overdue (acknowledge) or resolve_overdue (resolve)",
    "ack_in_time_rate": "acknowledged with no missed acknowledge deadline before the first "
    "acknowledgement / acknowledged or missed an acknowledge deadline",
    "resolved_in_time_rate": "resolved with no missed resolve deadline before the first "
    "resolution / resolved or missed a resolve deadline",
    "closure_rate": "cases with a closed event / cases",
    "reopen_rate": "cases with a reopened event / cases resolved at least once",
    "return_rate": "cases with a returned event / cases",
    "satisfaction_rate": "judgements good or ok / all judgements (closed by a person with "
    "note good|ok, or reopened by a person); closing for silence is not a judgement",
    "mtta_s": "mean seconds from filing to the first acknowledgement",
    "mttr_s": "mean seconds from filing to the first resolution",
    "mtta_p90_s": "90th percentile (nearest rank) of the same",
    "mttr_p90_s": "90th percentile (nearest rank) of the same",
    "cases": "number of cases in scope; a case merged into another (event merged_into) is "
    "not counted, its reports belong to the case it joined",
    "trace": "per figure, the case numbers of its numerator and denominator",
    "score": "综合评价 0-100: weighted mean of ack_in_time 25, resolved_in_time 25, "
    "satisfaction 25, closure 15, 1-reopen 5, 1-return 5; missing parts are skipped and "
    "the weights renormalised; ranked among units of one level that have cases",
}


@dataclass(frozen=True, slots=True)  # slots: a yearly report holds half a million
class EventRow:
    at: datetime
    kind: str
    actor_id: int | None
    unit_id: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case as the reports see it: a few columns of the row and its whole event log."""

    id: int
    number: str
    category: str
    priority: str
    grid_id: str
    status: str
    level: str
    current_unit_id: str
    created_at: datetime
    updated_at: datetime
    ack_due_at: datetime | None
    resolve_due_at: datetime | None
    text: str
    lon: float | None
    lat: float | None
    events: tuple[EventRow, ...] = ()


CASE_COLUMNS = (
    Case.id,
    Case.number,
    Case.category,
    Case.priority,
    Case.grid_id,
    Case.status,
    Case.level,
    Case.current_unit_id,
    Case.created_at,
    Case.updated_at,
    Case.ack_due_at,
    Case.resolve_due_at,
    Case.text,
    Case.lon,
    Case.lat,
)
EVENT_COLUMNS = (
    CaseEvent.case_id,
    CaseEvent.at,
    CaseEvent.kind,
    CaseEvent.actor_id,
    CaseEvent.unit_id,
    CaseEvent.note,
)


async def load_records(
    session: AsyncSession,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    statuses: Sequence[str] | None = None,
) -> list[CaseRecord]:
    """Cases filed in [start, end) (or with the given statuses) with their events, in order.

    Plain columns, not ORM objects, and the events in one query (`case_id IN` the same selection):
    a year of a district is 100,000 cases and half a million events, which as mapped
    objects took most of a report's time and memory. An event of a case filed between the
    two queries (PostgreSQL reads each statement afresh) is skipped with its case.
    """
    where = []
    if start is not None:
        where.append(Case.created_at >= start)
    if end is not None:
        where.append(Case.created_at < end)
    if statuses is not None:
        where.append(Case.status.in_(list(statuses)))
    conn = await session.connection()  # Core rows: no ORM loading machinery per row
    stmt = select(*CASE_COLUMNS).where(*where).order_by(Case.id)
    cases: Sequence[Any] = (await conn.execute(stmt)).all()
    if not cases:
        return []
    events: dict[int, list[EventRow]] = {c[0]: [] for c in cases}
    result = await conn.stream(
        select(*EVENT_COLUMNS)
        .where(CaseEvent.case_id.in_(select(Case.id).where(*where)))
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    )
    async for rows in result.partitions(10_000):  # never all the raw rows at once
        row: Any
        for row in rows:
            bucket = events.get(row[0])
            if bucket is not None:
                bucket.append(EventRow(row[1], row[2], row[3], row[4], row[5]))
    return [record_of(c, tuple(events[c.id])) for c in cases]


def record_of(row: Any, events: tuple[EventRow, ...] = ()) -> CaseRecord:
    """A `CaseRecord` from a row selected with `CASE_COLUMNS`."""
    return CaseRecord(
        id=row.id,
        number=row.number,
        category=row.category,
        priority=row.priority,
        grid_id=row.grid_id,
        status=row.status,
        level=row.level,
        current_unit_id=row.current_unit_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ack_due_at=row.ack_due_at,
        resolve_due_at=row.resolve_due_at,
        text=row.text,
        lon=row.lon,
        lat=row.lat,
        events=events,
    )


# --- one case ----------------------------------------------------------------------------


def missed(event: EventRow, which: str) -> bool:
    """A deadline the system saw pass: `which` is ack_overdue or resolve_overdue."""
    return event.kind in MISSED and event.actor_id is None and event.note == which


@dataclass(frozen=True)
class CaseFacts:
    """What the indicators need to know about one case, read off its events once."""

    number: str
    acked_after_s: float | None
    ack_decided: bool
    ack_in_time: bool
    resolved_after_s: float | None
    resolve_decided: bool
    resolved_in_time: bool
    closed: bool
    reopened: bool
    returned: bool
    judgements: tuple[bool, ...]  # True: 满意 or 基本满意
    merged: bool = False  # merged into another case (合并): counted there, not here


def facts_of(record: CaseRecord) -> CaseFacts:
    """Read the indicators' facts off the case's events in one pass (a yearly report reads
    every event of 100,000 cases): see the module docstring for each definition."""
    first_ack: EventRow | None = None
    first_resolve: EventRow | None = None
    ack_missed = ack_missed_first = False  # any miss / a miss before the first ack
    resolve_missed = resolve_missed_first = False
    closed = reopened = returned = merged = False
    judgements: list[bool] = []
    for e in record.events:
        kind = e.kind
        if kind in MISSED and e.actor_id is None:
            if e.note == "ack_overdue":
                ack_missed = True
                ack_missed_first = ack_missed_first or first_ack is None
            elif e.note == "resolve_overdue":
                resolve_missed = True
                resolve_missed_first = resolve_missed_first or first_resolve is None
        elif kind == "acknowledged":
            first_ack = first_ack or e
        elif kind == "resolved":
            first_ack = first_ack or e
            first_resolve = first_resolve or e
        elif kind == "closed":
            closed = True
            if e.actor_id is not None and e.note in ("good", "ok"):
                judgements.append(True)
        elif kind == "reopened":
            reopened = True
            if e.actor_id is not None:
                judgements.append(False)
        elif kind == "returned":
            returned = True
        elif kind == "merged_into":
            merged = True

    def after(event: EventRow | None) -> float | None:
        if event is None:
            return None
        return (event.at - record.created_at).total_seconds()

    return CaseFacts(
        number=record.number,
        acked_after_s=after(first_ack),
        ack_decided=first_ack is not None or ack_missed,
        ack_in_time=first_ack is not None and not ack_missed_first,
        resolved_after_s=after(first_resolve),
        resolve_decided=first_resolve is not None or resolve_missed,
        resolved_in_time=first_resolve is not None and not resolve_missed_first,
        closed=closed,
        reopened=reopened,
        returned=returned,
        judgements=tuple(judgements),
        merged=merged,
    )


# --- a set of cases ----------------------------------------------------------------------


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile: the smallest value with at least 90% at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(0.9 * len(ordered))) - 1]


@dataclass(frozen=True)
class Fraction:
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]

    @property
    def rate(self) -> float | None:
        return len(self.numerator) / len(self.denominator) if self.denominator else None


@dataclass(frozen=True)
class Indicators:
    """The figures of one scope; `fractions` and `timed` are the trace behind them."""

    cases: int
    fractions: dict[str, Fraction]
    ack_times: tuple[tuple[str, float], ...]
    resolve_times: tuple[tuple[str, float], ...]
    numbers: tuple[str, ...] = field(default=())

    def rate(self, key: str) -> float | None:
        return self.fractions[key].rate

    @property
    def mtta_s(self) -> float | None:
        return _mean(self.ack_times)

    @property
    def mttr_s(self) -> float | None:
        return _mean(self.resolve_times)

    @property
    def mtta_p90_s(self) -> float | None:
        return p90([t for _, t in self.ack_times])

    @property
    def mttr_p90_s(self) -> float | None:
        return p90([t for _, t in self.resolve_times])

    def figures(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {key: self.rate(key) for key in RATE_KEYS}
        out |= {
            "mtta_s": self.mtta_s,
            "mttr_s": self.mttr_s,
            "mtta_p90_s": self.mtta_p90_s,
            "mttr_p90_s": self.mttr_p90_s,
            "cases": self.cases,
        }
        return out

    def trace(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            key: {"numerator": list(f.numerator), "denominator": list(f.denominator)}
            for key, f in self.fractions.items()
        }
        out["mtta_s"] = {"cases": [n for n, _ in self.ack_times]}
        out["mttr_s"] = {"cases": [n for n, _ in self.resolve_times]}
        out["cases"] = {"cases": list(self.numbers)}
        return out

    def to_json(self) -> dict[str, Any]:
        return {**self.figures(), "trace": self.trace()}


def _mean(pairs: Sequence[tuple[str, float]]) -> float | None:
    return sum(t for _, t in pairs) / len(pairs) if pairs else None


def compute(facts: Iterable[CaseFacts]) -> Indicators:
    """The indicators of a set of cases (see the module docstring for each definition).

    One pass over the cases in number order fills every numerator and denominator. A case
    merged into another is left out: its residents' reports are part of the case it joined,
    and counting both would count one problem twice."""
    rows = sorted((f for f in facts if not f.merged), key=_number)
    numbers = tuple(f.number for f in rows)
    ack_ok: list[str] = []
    ack_decided: list[str] = []
    resolve_ok: list[str] = []
    resolve_decided: list[str] = []
    closed: list[str] = []
    reopened: list[str] = []
    resolved: list[str] = []
    returned: list[str] = []
    good: list[str] = []
    judged: list[str] = []
    ack_times: list[tuple[str, float]] = []
    resolve_times: list[tuple[str, float]] = []
    for f in rows:
        n = f.number
        if f.ack_in_time:
            ack_ok.append(n)
        if f.ack_decided:
            ack_decided.append(n)
        if f.resolved_in_time:
            resolve_ok.append(n)
        if f.resolve_decided:
            resolve_decided.append(n)
        if f.closed:
            closed.append(n)
        if f.reopened:
            reopened.append(n)
        if f.resolved_after_s is not None:
            resolved.append(n)
            resolve_times.append((n, f.resolved_after_s))
        if f.acked_after_s is not None:
            ack_times.append((n, f.acked_after_s))
        if f.returned:
            returned.append(n)
        for verdict in f.judgements:
            judged.append(n)
            if verdict:
                good.append(n)
    fractions = {
        "ack_in_time_rate": Fraction(tuple(ack_ok), tuple(ack_decided)),
        "resolved_in_time_rate": Fraction(tuple(resolve_ok), tuple(resolve_decided)),
        "closure_rate": Fraction(tuple(closed), numbers),
        "reopen_rate": Fraction(tuple(reopened), tuple(resolved)),
        "return_rate": Fraction(tuple(returned), numbers),
        "satisfaction_rate": Fraction(tuple(good), tuple(judged)),
    }
    return Indicators(
        cases=len(rows),
        fractions=fractions,
        ack_times=tuple(ack_times),
        resolve_times=tuple(resolve_times),
        numbers=numbers,
    )


def _number(facts: CaseFacts) -> str:
    return facts.number


# --- scopes ------------------------------------------------------------------------------


def units_of_case(record: CaseRecord, org: OrgView) -> set[str]:
    """Every unit whose figures count this case (see "Scope of a unit" above)."""
    units: set[str] = set()
    unit = org.units.get(record.grid_id)
    if unit is None:
        units.add(record.grid_id)
    while unit is not None:
        units.add(unit.id)
        unit = org.units.get(unit.parent_id) if unit.parent_id else None
    for event in record.events:
        if event.unit_id is None:
            continue
        reached = org.units.get(event.unit_id)
        if reached is None:
            continue
        upward = event.kind in REACHING and reached.level in ("department", "leadership")
        if upward or (event.kind == "shared" and reached.is_key):
            units.add(event.unit_id)
    return units


def descendants(org: OrgView, unit_id: str) -> set[str]:
    """The unit and everything under it in the tree."""
    found = {unit_id}
    grew = True
    while grew:
        more = {u.id for u in org.units.values() if u.parent_id in found} - found
        found |= more
        grew = bool(more)
    return found
