"""`gridcall report` and `gridcall export`: files for people and for other systems.

Both read GRIDCALL_DATABASE_URL (migrated first, like every other command) and the org
imported into it; the time is the system clock, the period as in `reports.periods`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import SettingsError, load_settings
from org.view import OrgView
from reports.periods import Period, PeriodError, parse_period

T = TypeVar("T")


def _with_org(work: Callable[[AsyncSession, OrgView, datetime], Awaitable[T]]) -> T:
    """Run `work` against the configured database, or exit saying what is missing."""
    from storage.db import create_engine, migrate, sessionmaker
    from storage.org_import import load_view

    try:
        database_url = load_settings().database_url
    except SettingsError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)

    async def go() -> T:
        engine = create_engine(database_url)
        try:
            await migrate(engine)
            async with sessionmaker(engine)() as session:
                org = await load_view(session)
                if org is None:
                    click.echo(
                        "no org in the database: run `gridcall import-config ORG.yaml` first",
                        err=True,
                    )
                    sys.exit(1)
                return await work(session, org, datetime.now(UTC))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _period(spec: str, now: datetime, timezone: str) -> Period:
    try:
        return parse_period(spec, now, timezone)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None


def _emit(text: str, out: str | None, what: str) -> None:
    if out is None or out == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"{what} written to {out}", err=True)


def _emit_chunks(chunks: Iterable[str], out: str | None, what: str) -> None:
    """`_emit` for a text in pieces (`reports.report.write_chunks`), written as they come
    so that a yearly report is never held, nor encoded, whole."""
    if out is None or out == "-":
        last = ""
        for chunk in chunks:
            if chunk:
                click.echo(chunk, nl=False)
                last = chunk
        if not last.endswith("\n"):
            click.echo("")
        return
    with Path(out).open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.write(chunk)
    click.echo(f"{what} written to {out}", err=True)


@click.command("report")
@click.option(
    "--period",
    "period_spec",
    default="week",
    show_default=True,
    help="day|week|month|quarter|year, YYYY-MM, YYYY-MM-DD, YYYY-MM-DD..YYYY-MM-DD",
)
@click.option(
    "--format", "fmt", type=click.Choice(["html", "csv", "json"]), default="html", show_default=True
)
@click.option("--out", default=None, help="file to write (default: standard output)")
@click.option("--scope", default=None, help="a unit id or name, or a category: only its cases")
def report_command(period_spec: str, fmt: str, out: str | None, scope: str | None) -> None:
    """Indicators, a ranking of units (综合评价), charts and the overdue cases."""
    from reports.report import ScopeError, load_report, resolve_scope, write_chunks

    async def work(session: AsyncSession, org: OrgView, now: datetime) -> Iterator[str]:
        period = _period(period_spec, now, org.timezone)
        try:
            chosen = resolve_scope(org, scope)
        except ScopeError as exc:
            raise click.BadParameter(str(exc), param_hint="--scope") from None
        return write_chunks(await load_report(session, org, period, now, chosen), fmt)

    _emit_chunks(_with_org(work), out, f"{fmt} report")


@click.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["open311", "csv"]), default="open311", show_default=True
)
@click.option(
    "--period",
    "period_spec",
    default=None,
    help="only cases filed in this period (default: every case)",
)
@click.option(
    "--out",
    default=None,
    help="open311: a directory gets services.json and requests.json, any other "
    "path one document with both; csv: the file (default: standard output)",
)
def export_command(fmt: str, period_spec: str | None, out: str | None) -> None:
    """Cases as Open311 GeoReport v2 (services and requests) or CSV, for a city platform."""
    from reports import open311
    from reports.indicators import load_records

    async def work(session: AsyncSession, org: OrgView, now: datetime) -> dict[str, Any]:
        start = end = None
        if period_spec is not None:
            period = _period(period_spec, now, org.timezone)
            start, end = period.start, period.end
        records = await load_records(session, start, end)
        if fmt == "csv":
            return {"csv": open311.cases_csv(records, org)}
        return {"services": open311.services(org), "requests": open311.requests(records, org)}

    result = _with_org(work)
    if fmt == "csv":
        _emit(result["csv"], out, "csv export")
        return
    if out is not None and Path(out).is_dir():
        for name in ("services", "requests"):
            text = json.dumps(result[name], ensure_ascii=False, indent=2) + "\n"
            (Path(out) / f"{name}.json").write_text(text, encoding="utf-8")
        count = len(result["requests"])
        click.echo(f"services.json and requests.json ({count} requests) written to {out}", err=True)
        return
    _emit(json.dumps(result, ensure_ascii=False, indent=2) + "\n", out, "open311 export")
