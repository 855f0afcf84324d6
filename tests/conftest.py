"""Shared fixtures: real SQLite, real PostgreSQL, real Redis, a fake clock, the test org.

PostgreSQL and Redis are required, not optional: when they cannot be reached the tests that
need them fail with a message saying how to start them (CI starts them in `.ci/run`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.clock import FakeClock
from org.file import OrgConfig, load_org
from org.view import OrgView
from storage.db import create_engine, migrate, sessionmaker
from storage.org_import import import_org, load_view

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_ADMIN_DSN = os.environ.get(
    "GRIDCALL_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("GRIDCALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def org_config() -> OrgConfig:
    return load_org(FIXTURES / "org.yaml")


async def _postgres_database() -> tuple[str, str]:
    name = f"gridcall_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is required at {POSTGRES_ADMIN_DSN} ({exc}); "
            "start it (`bash .ci/run` does) or set GRIDCALL_TEST_POSTGRES_DSN",
            pytrace=False,
        )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return name, f"{base}/{name}"


async def _drop_postgres_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'gridcall.db'}"
        return
    name, url = await _postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'gridcall.db'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    name, url = await _postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def sessions(
    database_url: str, org_config: OrgConfig
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database (via Alembic) with the test org imported."""
    engine = create_engine(database_url)
    await migrate(engine)
    maker = sessionmaker(engine)
    async with maker() as session, session.begin():
        await import_org(session, org_config)
    try:
        yield maker
    finally:
        await engine.dispose()


@pytest.fixture
async def org_view(sessions: async_sessionmaker[AsyncSession]) -> OrgView:
    async with sessions() as session:
        view = await load_view(session)
    assert view is not None
    return view


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        pytest.fail(
            f"Redis is required at {REDIS_URL} ({exc}); start it (`bash .ci/run` does)",
            pytrace=False,
        )
    prefix = f"gridcall-test-{uuid.uuid4().hex[:8]}"
    client.test_prefix = prefix  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        keys = [k async for k in client.scan_iter(f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
