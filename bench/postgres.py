"""Throwaway PostgreSQL databases for the benchmarks (as `tests/conftest.py` makes for the
tests): created on the admin connection, dropped afterwards whatever happened."""

from __future__ import annotations

import os
import uuid
from typing import Final

ADMIN_DSN: Final = os.environ.get(
    "GRIDCALL_BENCH_POSTGRES_DSN",
    os.environ.get("GRIDCALL_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


async def create_database() -> tuple[str, str]:
    """(name, SQLAlchemy URL) of a new empty database; raises if PostgreSQL is unreachable."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"gridcall_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return name, f"{base}/{name}"


async def drop_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
