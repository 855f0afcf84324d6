"""Indicators checked against a hand-computed small history (see tests/reports/history.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from org.view import OrgView
from reports.indicators import CaseRecord, EventRow, compute, facts_of, p90
from reports.periods import parse_period
from reports.report import Report, Scope, load_report, score
from tests.reports import history
from tests.reports.history import NOW, PERIOD, number


def n(*ids: int) -> list[str]:
    return [number(i) for i in ids]


async def make_report(
    sessions: async_sessionmaker[AsyncSession], org: OrgView, scope: Scope | None = None
) -> Report:
    await history.build(sessions)
    period = parse_period(PERIOD, NOW, "Asia/Shanghai")
    async with sessions() as session:
        return await load_report(session, org, period, NOW, scope)


def check(figures: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        if value is None:
            assert figures[key] is None, key
        else:
            assert figures[key] == pytest.approx(value), key


# C1..C5 are in the period (C6 was filed ten days before it).
ORG = {
    "cases": 5,
    # decided: C1, C2, C3 (missed, then acknowledged), C4; C5 undecided.
    # in time: C1, C4 (C2 and C3 missed ack_overdue before acknowledging) -> 2/4
    "ack_in_time_rate": 2 / 4,
    # decided: C1, C2 (resolved), C4 (resolve_overdue before resolving) -> in time C1, C2 = 2/3
    "resolved_in_time_rate": 2 / 3,
    # closed: C1, C2, C4 -> 3/5
    "closure_rate": 3 / 5,
    # reopened: C2 / resolved at least once: C1, C2, C4 -> 1/3
    "reopen_rate": 1 / 3,
    # returned: C3 -> 1/5
    "return_rate": 1 / 5,
    # judgements: C1 good, C2 bad (reopened), C2 ok; C4 closed by silence is none -> 2/3
    "satisfaction_rate": 2 / 3,
    # first acknowledgement: C1 30m=1800, C2 3h=10800, C3 5h=18000, C4 10m=600 -> 31200/4
    "mtta_s": 7800,
    # nearest rank: ceil(0.9*4)=4th of [600, 1800, 10800, 18000]
    "mtta_p90_s": 18000,
    # first resolution: C1 2h=7200, C2 4h=14400, C4 3d1h=262800 -> 284400/3
    "mttr_s": 94800,
    "mttr_p90_s": 262800,  # ceil(0.9*3)=3rd
}

GRID_1 = {  # C1, C2, C5
    "cases": 3,
    "ack_in_time_rate": 1 / 2,  # C1 of C1, C2
    "resolved_in_time_rate": 1.0,  # C1, C2 of C1, C2
    "closure_rate": 2 / 3,  # C1, C2
    "reopen_rate": 1 / 2,  # C2 of C1, C2
    "return_rate": 0.0,
    "satisfaction_rate": 2 / 3,  # good, bad, ok
    "mtta_s": 6300,  # (1800 + 10800) / 2
    "mtta_p90_s": 10800,
    "mttr_s": 10800,  # (7200 + 14400) / 2
    "mttr_p90_s": 14400,
}

DEPARTMENT = {  # traffic-police: reached by C3 only (C2 stopped at the street)
    "cases": 1,
    "ack_in_time_rate": 0.0,
    "resolved_in_time_rate": None,
    "closure_rate": 0.0,
    "reopen_rate": None,
    "return_rate": 1.0,
    "satisfaction_rate": None,
    "mtta_s": 18000,
    "mtta_p90_s": 18000,
    "mttr_s": None,
    "mttr_p90_s": None,
}

TRAFFIC = {  # category: C2, C3
    "cases": 2,
    "ack_in_time_rate": 0.0,  # both missed before acknowledging
    "resolved_in_time_rate": 1.0,  # C2 of C2 (C3 undecided)
    "closure_rate": 1 / 2,
    "reopen_rate": 1.0,  # C2 of C2
    "return_rate": 1 / 2,  # C3
    "satisfaction_rate": 1 / 2,  # C2: bad, ok
    "mtta_s": 14400,  # (10800 + 18000) / 2
    "mtta_p90_s": 18000,
    "mttr_s": 14400,
    "mttr_p90_s": 14400,
}


async def test_indicators_match_the_hand_computed_history(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView
) -> None:
    report = await make_report(sessions, org_view)
    check(report.org.figures(), ORG)
    check(report.units["baoyuzhi"].figures(), ORG)  # the community holds every case
    check(report.units["haizhuang"].figures(), ORG)
    check(report.units["baoyuzhi-1"].figures(), GRID_1)
    check(report.units["traffic-police"].figures(), DEPARTMENT)
    check(report.categories["traffic"].figures(), TRAFFIC)
    assert report.units["leadership"].cases == 0
    assert report.units["leadership"].figures()["closure_rate"] is None


async def test_every_figure_traces_to_case_numbers(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView
) -> None:
    report = await make_report(sessions, org_view)
    trace = report.org.trace()
    assert trace["ack_in_time_rate"] == {"numerator": n(1, 4), "denominator": n(1, 2, 3, 4)}
    assert trace["resolved_in_time_rate"] == {"numerator": n(1, 2), "denominator": n(1, 2, 4)}
    assert trace["closure_rate"] == {"numerator": n(1, 2, 4), "denominator": n(1, 2, 3, 4, 5)}
    assert trace["reopen_rate"] == {"numerator": n(2), "denominator": n(1, 2, 4)}
    assert trace["return_rate"]["numerator"] == n(3)
    assert trace["satisfaction_rate"] == {"numerator": n(1, 2), "denominator": n(1, 2, 2)}
    assert trace["mtta_s"] == {"cases": n(1, 2, 3, 4)}
    assert trace["mttr_s"] == {"cases": n(1, 2, 4)}
    assert trace["cases"] == {"cases": n(1, 2, 3, 4, 5)}


async def test_ranking_and_overdue(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView
) -> None:
    report = await make_report(sessions, org_view)
    grids = [(r.rank, r.unit_id, r.score) for r in report.ranking if r.level == "grid"]
    # baoyuzhi-1: 25*.5 + 25*1 + 25*(2/3) + 15*(2/3) + 5*(1-.5) + 5*(1-0) = 71.67 of 100
    # baoyuzhi-2 (C3, C4): ack 1/2, resolve 0/1, satisfaction None (skipped), closure 1/2,
    # reopen 0/1, return 1/2: 12.5 + 0 + 7.5 + 5 + 2.5 = 27.5 of 75 -> 36.67
    assert grids == [(1, "baoyuzhi-1", 71.7), (2, "baoyuzhi-2", 36.7)]
    assert [r.unit_id for r in report.ranking if r.level == "department"] == ["traffic-police"]
    overdue = [(o.number, o.deadline, o.unit_id, o.level, o.late_s) for o in report.overdue]
    assert overdue == [
        # C6: acknowledge due T0-10d+2h, now T0+7d -> 17d - 2h late
        (number(6), "ack", "baoyuzhi-1", "grid", 17 * 86400 - 7200),
        # C5: acknowledge due T0+6h -> 7d - 6h
        (number(5), "ack", "baoyuzhi-1", "grid", 7 * 86400 - 6 * 3600),
        # C3: resolve due T0+2h+3d -> 4d - 2h
        (number(3), "resolve", "traffic-police", "department", 4 * 86400 - 7200),
    ]


async def test_a_scope_keeps_only_its_cases(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView
) -> None:
    report = await make_report(sessions, org_view, Scope("unit", "baoyuzhi-1", "宝玉直第一网格"))
    check(report.org.figures(), GRID_1)
    assert set(report.units) == {"baoyuzhi-1", "baoyuzhi", "haizhuang"}
    assert [o.number for o in report.overdue] == n(6, 5)


def record(events: list[tuple[int, str, int | None, str | None]]) -> CaseRecord:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return CaseRecord(
        id=1, number="HZ-2026-000009", category="traffic", priority="normal",
        grid_id="baoyuzhi-1", status="dispatched", level="grid", current_unit_id="baoyuzhi-1",
        created_at=t0, updated_at=t0, ack_due_at=None, resolve_due_at=None, text="",
        lon=None, lat=None,
        events=tuple(
            EventRow(t0.replace(minute=m), kind, actor, None, note)
            for m, kind, actor, note in events
        ),
    )  # fmt: skip


def test_only_the_system_misses_a_deadline() -> None:
    # A manual 提级 whose words happen to be "ack_overdue" is not a missed deadline.
    manual = facts_of(record([(1, "escalated", 5001, "ack_overdue"), (2, "acknowledged", 1, None)]))
    assert manual.ack_in_time and manual.ack_decided
    # At the top of the ladder the miss is a ladder_exhausted event.
    top = facts_of(record([(1, "ladder_exhausted", None, "resolve_overdue")]))
    assert top.resolve_decided and not top.resolved_in_time
    # Resolving counts as acknowledging.
    direct = facts_of(record([(5, "resolved", 5001, "done")]))
    assert direct.ack_in_time and direct.acked_after_s == 300


def test_empty_sets_and_percentiles() -> None:
    empty = compute([])
    assert empty.figures()["cases"] == 0
    assert all(v is None for k, v in empty.figures().items() if k != "cases")
    assert score(empty) is None
    assert p90([5.0]) == 5.0
    assert p90([float(i) for i in range(1, 11)]) == 9.0  # ceil(9.0) = 9th of 10
    assert p90([float(i) for i in range(1, 12)]) == 10.0  # ceil(9.9) = 10th of 11


def test_a_case_merged_into_another_counts_once() -> None:
    # 合并: the duplicate's residents are now in the case it joined; counting the duplicate
    # too would count one problem twice, and its stopped clocks would look like a miss.
    kept = facts_of(record([(1, "merged", 7002, "路灯还是坏的"), (2, "acknowledged", 5001, None)]))
    gone = facts_of(record([(1, "merged_into", 5001, "HZ-2026-000001")]))
    assert not kept.merged and gone.merged
    indicators = compute([kept, gone])
    assert indicators.cases == 1
    assert indicators.fractions["ack_in_time_rate"].denominator == ("HZ-2026-000009",)
    assert indicators.trace()["cases"] == {"cases": ["HZ-2026-000009"]}
