"""就近派单: within a grid, the case goes to the worker on duty with the fewest open cases,
the nearest one when that is a tie; with nobody on duty the grid's staff chat takes it."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.status import ACTIVE
from org.view import OrgView, PersonView
from storage.models import Case
from triage.duplicates import distance_m

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def choose_assignee(
    session: AsyncSession,
    org: OrgView,
    grid_id: str,
    place: tuple[float, float] | None,
    now: datetime,
) -> PersonView | None:
    grid = org.units.get(grid_id)
    if grid is None or not grid.rota:
        return None
    weekday = WEEKDAYS[now.astimezone(ZoneInfo(org.timezone)).weekday()]
    on_duty = [p for i in grid.on_duty(weekday) if (p := org.person(i)) is not None]
    if not on_duty:
        return None
    ids = [p.telegram_id for p in on_duty]
    loads = dict(
        (
            await session.execute(
                select(Case.assignee_id, func.count())
                .where(Case.assignee_id.in_(ids), Case.status.in_(ACTIVE))
                .group_by(Case.assignee_id)
            )
        ).all()
    )

    def rank(person: PersonView) -> tuple[int, float, int]:
        near = math.inf
        if place is not None and person.location is not None:
            near = distance_m(place, person.location)
        return (int(loads.get(person.telegram_id, 0)), near, person.telegram_id)

    return min(on_duty, key=rank)
