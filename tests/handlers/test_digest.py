"""The digest is claimed per day: two workers at once, or one twice, write it once."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.clock import FakeClock
from handlers.context import Services
from handlers.digest import write_digest
from org.view import OrgView
from storage.models import JobRun, Outbox
from storage.subscriptions import Filters, add_subscription
from triage.classifier import classify

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


async def test_two_workers_write_one_digest(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView
) -> None:
    org = dataclasses.replace(org_view, settings={"digest": {"at": "10:00", "stuck_after": 86400}})
    services = Services(sessions=sessions, clock=FakeClock(NOW), org=org, classify=classify)
    async with sessions() as session, session.begin():
        add_subscription(session, 5009, 5009, Filters.of(), NOW)
        add_subscription(session, 5001, 5001, Filters.of(), NOW)  # a grid worker: no digest
    written = await asyncio.gather(
        write_digest(services, NOW, "2026-11-25"), write_digest(services, NOW, "2026-11-25")
    )
    assert sorted(written) == [0, 1]
    assert await write_digest(services, NOW, "2026-11-25") == 0
    async with sessions() as session:
        rows = (await session.execute(select(Outbox.chat_id, Outbox.text))).all()
        runs = (await session.execute(select(JobRun.name, JobRun.period))).all()
    assert rows == [(5009, "🌅 <b>早报 2026-11-25</b>\n订阅范围内没有新呼、超期或停滞的案件。")]
    assert runs == [("digest", "2026-11-25")]


async def test_no_digest_configured_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], org_view: OrgView
) -> None:
    services = Services(sessions=sessions, clock=FakeClock(NOW), org=org_view, classify=classify)
    assert await write_digest(services, NOW, "2026-11-25") == 0
