"""The `gridcall` command line: demo, run, classify, check-config, import-config, migrate,
report, export, open311."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import click

from bot.report_commands import export_command, report_command
from bot.settings import Settings, SettingsError, load_settings
from org.file import OrgConfig, OrgFileError, load_org
from triage.cli import triage_group

DEMO_ORG = Path(__file__).parent / "demo_org.yaml"


def _load_or_exit(path: str | Path) -> OrgConfig:
    try:
        return load_org(path)
    except OrgFileError as exc:
        click.echo(str(exc), err=True)
        click.echo(f"{len(exc.errors)} error(s) in {path}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"cannot read {path}: {exc.strerror}", err=True)
        sys.exit(1)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


def _logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@click.group()
def main() -> None:
    """gridcall — 有呼必应: grid governance in the chats people already use."""


@main.command("check-config")
@click.argument("org_file", type=click.Path(dir_okay=False))
def check_config(org_file: str) -> None:
    """Validate ORG_FILE; name the line and field of every error."""
    org = _load_or_exit(org_file)
    units = org.all_units()
    grids = sum(1 for u in units if u.level == "grid")
    click.echo(
        f"{org_file}: OK — {org.name}: {len(units)} units ({grids} grids), "
        f"{len(org.departments)} departments, {len(org.people)} people"
    )


@main.command("import-config")
@click.argument("org_file", type=click.Path(dir_okay=False))
def import_config(org_file: str) -> None:
    """Validate ORG_FILE and load it into GRIDCALL_DATABASE_URL (re-loading updates it)."""
    from storage.db import create_engine, migrate, sessionmaker
    from storage.org_import import import_org

    org = _load_or_exit(org_file)
    settings = _settings()

    async def go() -> dict[str, int]:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
            async with sessionmaker(engine)() as session, session.begin():
                return await import_org(session, org)
        finally:
            await engine.dispose()

    counts = asyncio.run(go())
    click.echo(f"imported {org.name}: {counts['units']} units, {counts['people']} people")


@main.command()
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    from storage.db import create_engine
    from storage.db import migrate as run_migrations

    database_url = _settings().database_url

    async def go() -> None:
        engine = create_engine(database_url)
        try:
            await run_migrations(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())
    click.echo("database is up to date")


@main.command()
@click.option(
    "--eval",
    "eval_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="score a labelled JSONL file instead: accuracy, macro-F1, confusion matrix",
)
def classify(eval_file: str | None) -> None:
    """Read one report per line on stdin; write one JSON object per line."""
    from triage.cli import classify_stream
    from triage.evaluate import run_eval

    if eval_file is not None:
        sys.exit(run_eval(eval_file, sys.stdout))
    classify_stream(sys.stdin, sys.stdout)


main.add_command(triage_group)
main.add_command(report_command)
main.add_command(export_command)


@triage_group.command("export-corrections")
@click.option("--out", "out_file", type=click.File("w", encoding="utf-8"), default="-")
def export_corrections(out_file: TextIO) -> None:
    """Write staff corrections of categories as labelled JSONL (new training examples)."""
    from sqlalchemy import select

    from storage.db import create_engine, migrate, sessionmaker
    from storage.models import Case, TriageCorrection

    database_url = _settings().database_url

    async def go() -> int:
        engine = create_engine(database_url)
        try:
            await migrate(engine)
            async with sessionmaker(engine)() as session:
                rows = await session.execute(
                    select(TriageCorrection, Case.number)
                    .join(Case, Case.id == TriageCorrection.case_id)
                    .order_by(TriageCorrection.id)
                )
                count = 0
                for correction, number in rows:
                    record = {
                        "text": correction.text,
                        "label": correction.new_category,
                        "previous": correction.old_category,
                        "case": number,
                        "by": correction.by_name,
                        "at": correction.at.isoformat(),
                    }
                    out_file.write(json.dumps(record, ensure_ascii=False) + "\n")
                    count += 1
                return count
        finally:
            await engine.dispose()

    count = asyncio.run(go())
    click.echo(f"{count} correction(s) exported", err=True)


def _listen_address(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, int] | None:
    """``HOST:PORT`` (IPv6 in brackets) → (host, port), or a usage error saying what is wrong."""
    if value is None:
        return None
    host, sep, port_text = value.strip().rpartition(":")
    if not sep or not host or not port_text:
        raise click.BadParameter(f"{value!r} is not HOST:PORT (e.g. 0.0.0.0:8443 or [::]:8443)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise click.BadParameter(f"write an IPv6 host in brackets, e.g. [{host}]:{port_text}")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise click.BadParameter(f"port {port_text!r} is not a number from 1 to 65535")
    return host, int(port_text)


@main.command()
@click.option("--config", "org_file", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--mode",
    type=click.Choice(["polling", "webhook"]),
    default="polling",
    show_default=True,
    help="polling: one worker asks Telegram for updates. webhook: Telegram POSTs them to "
    "/webhook/telegram (needs GRIDCALL_WEBHOOK_SECRET; GRIDCALL_WEBHOOK_URL, when set, is "
    "registered with setWebhook), so several workers can serve one address.",
)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    default=None,
    callback=_listen_address,
    help="webhook mode: where to serve POST /webhook/telegram and GET /healthz "
    "[default: 127.0.0.1:8080]",
)
def run(org_file: str, mode: str, listen: tuple[str, int] | None) -> None:
    """Run against Telegram (or GRIDCALL_TELEGRAM_API_URL): long polling, or a webhook."""
    from aiogram.utils.token import TokenValidationError, validate_token

    from bot.app import AppConfig, GridcallApp
    from triage.llm import LLMConfig

    settings = _settings()
    _logging(settings.log_level)
    org = _load_or_exit(org_file)
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    if not token:
        click.echo("GRIDCALL_TELEGRAM_TOKEN is not set: get a token from @BotFather", err=True)
        sys.exit(1)
    try:
        validate_token(token)
    except TokenValidationError:
        click.echo("GRIDCALL_TELEGRAM_TOKEN does not look like a bot token (123456:ABC…)", err=True)
        sys.exit(1)
    if mode == "webhook":
        from bot.telegram.webhook import secret_problem

        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        problem = secret_problem(secret)
        if problem is not None:
            click.echo(problem, err=True)
            sys.exit(1)
        url = settings.webhook_url
        if url and not url.lower().startswith(("https://", "http://")):
            click.echo(f"GRIDCALL_WEBHOOK_URL must be an https:// URL, got {url!r}", err=True)
            sys.exit(1)
    elif listen is not None:
        raise click.UsageError("--listen is used only with --mode webhook")
    host, port = listen or ("127.0.0.1", 8080)
    llm = None
    if settings.llm_url and settings.llm_model:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        llm = LLMConfig(settings.llm_url, settings.llm_model, key, settings.llm_timeout)
    config = AppConfig(
        token=token,
        api_url=settings.telegram_api_url,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        redis_prefix=settings.redis_prefix,
        llm=llm,
        mode="webhook" if mode == "webhook" else "polling",
        listen_host=host,
        listen_port=port,
        webhook_secret=(
            settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        ),
        webhook_url=settings.webhook_url or None,
        outbox_lease=timedelta(seconds=settings.outbox_lease),
    )

    async def go() -> None:
        app = GridcallApp(config)
        try:
            await app.start(org)
            await app.run_forever()
        finally:
            await app.stop()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        click.echo("stopped")


@main.command("open311")
@click.option(
    "--listen",
    default="127.0.0.1:8311",
    show_default=True,
    callback=_listen_address,
    help="where to serve /open311/v2/services.json, requests.json, requests/ID.json",
)
def open311_command(listen: tuple[str, int]) -> None:
    """Serve the cases as Open311 GeoReport v2 (read only) for a city platform: JSON or
    XML, each request with a key from GRIDCALL_OPEN311_API_KEYS."""
    from datetime import UTC, datetime

    from bot.open311_api import Open311Api, keys_problem, parse_keys
    from storage.db import create_engine, migrate, sessionmaker

    settings = _settings()
    _logging(settings.log_level)
    keys = parse_keys(
        settings.open311_api_keys.get_secret_value() if settings.open311_api_keys else None
    )
    problem = keys_problem(keys)
    if problem is not None:
        click.echo(problem, err=True)
        sys.exit(1)
    host, port = listen

    async def go() -> None:
        engine = create_engine(settings.database_url)
        api = Open311Api(sessionmaker(engine), keys, lambda: datetime.now(UTC))
        try:
            await migrate(engine)
            bound = await api.start(host, port)
            logging.getLogger("bot.open311_api").info(
                "Open311 GeoReport v2 at http://%s:%s/open311/v2/", host, bound
            )
            await asyncio.Event().wait()  # until interrupted
        finally:
            await api.stop()
            await engine.dispose()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        click.echo("stopped")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--config", "org_file", default=str(DEMO_ORG), type=click.Path(dir_okay=False))
@click.option("--db", "database_url", default=None, help="default: a fresh SQLite file")
def demo(host: str, port: int, org_file: str, database_url: str | None) -> None:
    """Run the bot with the local sandbox chat: no Telegram, no accounts, no Redis."""
    from bot.demo import run_demo

    _logging(_settings().log_level)
    org = _load_or_exit(org_file)
    if database_url is None:
        folder = Path(tempfile.mkdtemp(prefix="gridcall-demo-"))
        database_url = f"sqlite+aiosqlite:///{folder / 'gridcall.db'}"
    try:
        asyncio.run(run_demo(org, host=host, port=port, database_url=database_url))
    except KeyboardInterrupt:
        click.echo("stopped")


if __name__ == "__main__":
    main()
