"""A small case history written straight into the database, with exact times, whose
indicators are computed by hand in tests/reports/test_indicators.py.

T0 = 2026-11-20 00:00 UTC (08:00 in Shanghai). Test org: grids baoyuzhi-1 and baoyuzhi-2
under community baoyuzhi under street haizhuang; department traffic-police.

C1 HZ-2026-000001 baoyuzhi-1 municipal, filed T0
   dispatched T0, acknowledged +30m, resolved +2h, closed +3h by 7001 "good"
C2 HZ-2026-000002 baoyuzhi-1 traffic, filed T0+1h
   dispatched, escalated (system, ack_overdue) → baoyuzhi at T0+3h, acknowledged T0+4h,
   resolved T0+5h, reopened by 7002 → haizhuang at T0+6h, acknowledged T0+7h,
   resolved T0+8h, closed by 7002 "ok" T0+9h
C3 HZ-2026-000003 baoyuzhi-2 traffic, filed T0+2h (still acknowledged, open)
   dispatched, returned by 5002 at T0+2h30m plus its escalated event (actor 5002, note the
   reason) → baoyuzhi, escalated (system, ack_overdue) → haizhuang T0+4h30m, escalated
   (system, ack_overdue) → traffic-police T0+6h30m, acknowledged by 5005 T0+7h;
   resolve_due_at = T0+2h+3d
C4 HZ-2026-000004 baoyuzhi-2 municipal, filed T0+3h
   dispatched, acknowledged T0+3h10m, escalated (system, resolve_overdue) → baoyuzhi at
   T0+3h+3d, resolved T0+4h+3d, closed by the system "no_feedback" T0+4h+6d
C5 HZ-2026-000005 baoyuzhi-1 city_management, filed T0+4h, dispatched only;
   ack_due_at T0+6h (open)
C6 HZ-2026-000006 baoyuzhi-1 municipal, filed T0-10d: outside the period; dispatched only,
   ack_due_at T0-10d+2h (open, so it is in the overdue list)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Case, CaseEvent, CaseReporter

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
M = timedelta(minutes=1)
PERIOD = "2026-11-16..2026-11-22"
NOW = T0 + 7 * D  # when the report is made
POLICY = {
    "ack": {"urgent": 600, "normal": 7200, "low": 86400},
    "resolve": {"urgent": 14400, "normal": 259200, "low": 604800},
    "ladder": ["grid", "community", "street", "department", "leadership"],
}
PHONE = "13812345678"


def number(n: int) -> str:
    return f"HZ-2026-{n:06d}"


async def _case(
    session: AsyncSession,
    n: int,
    *,
    grid: str,
    category: str,
    filed: datetime,
    status: str,
    level: str,
    unit: str,
    events: list[tuple[datetime, str, dict[str, Any]]],
    ack_due: datetime | None = None,
    resolve_due: datetime | None = None,
) -> None:
    case = Case(
        number=number(n),
        version=1,
        status=status,
        reporter_id=7001,
        reporter_name="陈阿姨",
        source_chat_id=-1002001,
        text=f"第{n}号: 路灯坏了, 电话 {PHONE} 陈阿姨",
        photos=[],
        lon=113.285,
        lat=23.115,
        category=category,
        confidence=0.9,
        priority="normal",
        grid_id=grid,
        level=level,
        current_unit_id=unit,
        policy=POLICY,
        ack_due_at=ack_due,
        resolve_due_at=resolve_due,
        created_at=filed,
        updated_at=max([filed, *(at for at, _, _ in events)]),
    )
    session.add(case)
    await session.flush()
    session.add(
        CaseReporter(
            case_id=case.id,
            reporter_id=7001,
            reporter_name="陈阿姨",
            source_chat_id=-1002001,
            text=case.text,
            at=filed,
        )
    )
    for at, kind, extra in events:
        session.add(
            CaseEvent(
                case_id=case.id,
                at=at,
                kind=kind,
                actor_id=extra.get("actor_id"),
                actor_name=extra.get("actor_name", "system"),
                unit_id=extra.get("unit_id"),
                note=extra.get("note"),
            )
        )
    await session.flush()


async def build(sessions: async_sessionmaker[AsyncSession]) -> None:
    system_ack = {"note": "ack_overdue"}
    async with sessions() as session, session.begin():
        t = T0
        await _case(
            session, 1, grid="baoyuzhi-1", category="municipal", filed=t, status="closed",
            level="grid", unit="baoyuzhi-1",
            events=[
                (t, "filed", {}),
                (t, "dispatched", {"unit_id": "baoyuzhi-1"}),
                (t + 30 * M, "acknowledged", {"actor_id": 5001, "unit_id": "baoyuzhi-1"}),
                (t + 2 * H, "resolved", {"actor_id": 5001, "unit_id": "baoyuzhi-1"}),
                (t + 3 * H, "closed", {"actor_id": 7001, "note": "good"}),
            ],
        )  # fmt: skip
        t = T0 + H
        await _case(
            session, 2, grid="baoyuzhi-1", category="traffic", filed=t, status="closed",
            level="street", unit="haizhuang",
            events=[
                (t, "dispatched", {"unit_id": "baoyuzhi-1"}),
                (T0 + 3 * H, "escalated", {"unit_id": "baoyuzhi", **system_ack}),
                (T0 + 4 * H, "acknowledged", {"actor_id": 5003, "unit_id": "baoyuzhi"}),
                (T0 + 5 * H, "resolved", {"actor_id": 5003, "unit_id": "baoyuzhi"}),
                (T0 + 6 * H, "reopened", {"actor_id": 7002, "unit_id": "haizhuang"}),
                (T0 + 7 * H, "acknowledged", {"actor_id": 5004, "unit_id": "haizhuang"}),
                (T0 + 8 * H, "resolved", {"actor_id": 5004, "unit_id": "haizhuang"}),
                (T0 + 9 * H, "closed", {"actor_id": 7002, "note": "ok"}),
            ],
        )  # fmt: skip
        t = T0 + 2 * H
        await _case(
            session, 3, grid="baoyuzhi-2", category="traffic", filed=t, status="acknowledged",
            level="department", unit="traffic-police", resolve_due=t + 3 * D,
            events=[
                (t, "dispatched", {"unit_id": "baoyuzhi-2"}),
                (t + 30 * M, "returned", {"actor_id": 5002, "unit_id": "baoyuzhi-2",
                                          "note": "不归我们管"}),
                (t + 30 * M, "escalated", {"actor_id": 5002, "unit_id": "baoyuzhi",
                                           "note": "不归我们管"}),
                (t + 150 * M, "escalated", {"unit_id": "haizhuang", **system_ack}),
                (t + 270 * M, "escalated", {"unit_id": "traffic-police", **system_ack}),
                (t + 5 * H, "acknowledged", {"actor_id": 5005, "unit_id": "traffic-police"}),
            ],
        )  # fmt: skip
        t = T0 + 3 * H
        await _case(
            session, 4, grid="baoyuzhi-2", category="municipal", filed=t, status="closed",
            level="community", unit="baoyuzhi",
            events=[
                (t, "dispatched", {"unit_id": "baoyuzhi-2"}),
                (t + 10 * M, "acknowledged", {"actor_id": 5002, "unit_id": "baoyuzhi-2"}),
                (t + 3 * D, "escalated", {"unit_id": "baoyuzhi", "note": "resolve_overdue"}),
                (t + 3 * D + H, "resolved", {"actor_id": 5003, "unit_id": "baoyuzhi"}),
                (t + 6 * D + H, "closed", {"note": "no_feedback"}),
            ],
        )  # fmt: skip
        t = T0 + 4 * H
        await _case(
            session, 5, grid="baoyuzhi-1", category="city_management", filed=t,
            status="dispatched", level="grid", unit="baoyuzhi-1", ack_due=t + 2 * H,
            resolve_due=t + 3 * D,
            events=[(t, "dispatched", {"unit_id": "baoyuzhi-1"})],
        )  # fmt: skip
        t = T0 - 10 * D
        await _case(
            session, 6, grid="baoyuzhi-1", category="municipal", filed=t, status="dispatched",
            level="grid", unit="baoyuzhi-1", ack_due=t + 2 * H, resolve_due=t + 3 * D,
            events=[(t, "dispatched", {"unit_id": "baoyuzhi-1"})],
        )  # fmt: skip
