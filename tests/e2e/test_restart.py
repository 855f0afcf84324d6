"""A restart in the middle of a climb loses no deadline and sends nothing twice, with the
in-process index (rebuilt from the database) and with the Redis index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis.asyncio import Redis

from org.file import OrgConfig
from tests.conftest import REDIS_URL
from tests.e2e.harness import Harness

RESIDENTS_CHAT, GRID, COMMUNITY, STREET = -1002001, -1001003, -1001002, -1001001
CHEN = 7001


@pytest.mark.parametrize("index", ["memory", "redis"])
async def test_restart_mid_climb(
    database_url: str, org_config: OrgConfig, redis: Redis, index: str
) -> None:
    redis_url = REDIS_URL if index == "redis" else None
    async with Harness(org_config, database_url, redis_url=redis_url) as h:
        await h.say(CHEN, RESIDENTS_CHAT, "@gridcall_bot 楼下垃圾堆了一个星期没人清")
        await h.advance(timedelta(hours=2))
        assert len(h.texts(COMMUNITY)) == 1

        # Stop while the community's deadline runs; time passes while the bot is down.
        await h.stop_app()
        h.clock.advance(timedelta(hours=3))
        await h.start_app()  # rebuilds the index; the overdue deadline fires at once

        assert len(h.texts(STREET)) == 1
        await h.restart()  # a second restart with nothing due sends nothing
        counts = {chat: len(texts) for chat, texts in h.all_texts().items()}
        # The clock jumped past each reminder (催办) together with its deadline, so no
        # reminder is sent late.
        assert counts == {RESIDENTS_CHAT: 1, GRID: 1, COMMUNITY: 1, STREET: 1}
        assert h.server.duplicates() == []


async def test_pending_outbox_rows_survive_a_restart(
    sqlite_url: str, org_config: OrgConfig
) -> None:
    """A message committed while the API was failing is delivered after a restart, once."""
    async with Harness(org_config, sqlite_url) as h:
        h.server.fail_next("sendMessage", status=500, count=2)
        h.server.user_sends(CHEN, RESIDENTS_CHAT, "@gridcall_bot 路灯坏了三天")
        await h.server.wait_updates_consumed()
        await h.restart()
        await h.advance(timedelta(seconds=10))  # past the sender's back-off
        assert len(h.texts(RESIDENTS_CHAT)) == 1
        assert len(h.texts(GRID)) == 1
        assert h.server.duplicates() == []
