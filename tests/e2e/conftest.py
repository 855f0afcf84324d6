from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from org.file import OrgConfig
from tests.e2e.harness import Harness


@pytest.fixture
async def harness(database_url: str, org_config: OrgConfig) -> AsyncIterator[Harness]:
    async with Harness(org_config, database_url) as h:
        yield h


@pytest.fixture
async def sqlite_harness(sqlite_url: str, org_config: OrgConfig) -> AsyncIterator[Harness]:
    async with Harness(org_config, sqlite_url) as h:
        yield h
