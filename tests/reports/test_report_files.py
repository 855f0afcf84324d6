"""The written report (JSON, CSV, HTML), the Open311 / CSV export and both CLI commands."""

from __future__ import annotations

import asyncio
import base64
import csv
import dataclasses
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from org.file import OrgConfig
from org.view import OrgView
from reports import open311
from reports.indicators import REQUIRED_KEYS, EventRow, load_records
from reports.periods import parse_period
from reports.report import Report, load_report, write_csv, write_html, write_json
from storage.db import create_engine, migrate, sessionmaker
from storage.org_import import import_org, load_view
from tests.reports import history
from tests.reports.history import NOW, PERIOD, PHONE, number


@pytest.fixture
async def filled(
    sqlite_url: str, org_config: OrgConfig
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], OrgView]]:
    engine = create_engine(sqlite_url)
    await migrate(engine)
    maker = sessionmaker(engine)
    async with maker() as session, session.begin():
        await import_org(session, org_config)
    await history.build(maker)
    async with maker() as session:
        view = await load_view(session)
    assert view is not None
    try:
        yield maker, view
    finally:
        await engine.dispose()


async def report_of(filled: tuple[async_sessionmaker[AsyncSession], OrgView]) -> Report:
    maker, org = filled
    async with maker() as session:
        return await load_report(session, org, parse_period(PERIOD, NOW, org.timezone), NOW)


async def test_json_has_the_required_keys_everywhere(
    filled: tuple[async_sessionmaker[AsyncSession], OrgView],
) -> None:
    data = json.loads(write_json(await report_of(filled)))
    assert set(data) >= {"org", "units", "categories", "ranking", "overdue", "period"}
    assert "definitions" in data and "satisfaction_rate" in data["definitions"]
    for block in [data["org"], *data["units"].values(), *data["categories"].values()]:
        assert set(REQUIRED_KEYS) <= set(block)
        assert "trace" in block
    assert data["org"]["cases"] == 5
    assert data["org"]["closure_rate"] == pytest.approx(0.6)
    assert data["units"]["baoyuzhi-1"]["level"] == "grid"
    assert data["ranking"][0] == {
        "level": "grid",
        "rank": 1,
        "unit_id": "baoyuzhi-1",
        "name": "宝玉直第一网格",
        "score": 71.7,
        "cases": 3,
    }
    assert [o["case"] for o in data["overdue"]] == [number(6), number(5), number(3)]
    assert data["period"]["spec"] == PERIOD
    text = json.dumps(data, ensure_ascii=False)
    assert "陈阿姨" not in text and PHONE not in text and "7001" not in text


async def test_csv_has_one_row_per_scope(
    filled: tuple[async_sessionmaker[AsyncSession], OrgView],
) -> None:
    report = await report_of(filled)
    rows = list(csv.DictReader(io.StringIO(write_csv(report))))
    assert rows[0]["scope"] == "org" and rows[0]["cases"] == "5"
    assert rows[0]["closure_rate"] == "0.6" and rows[0]["mtta_s"] == "7800"
    grid = next(r for r in rows if r["id"] == "baoyuzhi-1")
    assert grid["ack_in_time_rate"] == "0.5" and grid["score"] == "71.7"
    assert len(rows) == 1 + len(report.units) + len(report.categories)


async def test_html_opens_offline_and_lists_the_cases(
    filled: tuple[async_sessionmaker[AsyncSession], OrgView],
) -> None:
    page = write_html(await report_of(filled))
    assert page.count("<svg") >= 2  # the main indicators and at least one ranking chart
    assert "<script" not in page and "<link" not in page and "src=" not in page
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert "及时签收率" in page and "综合评价" in page and "超期未办案件" in page
    # The numbers behind 满意率: C1 good, C2 bad and ok.
    assert f"{number(1)}, {number(2)}, {number(2)}" in page
    assert "<details>" in page
    assert "陈阿姨" not in page and PHONE not in page
    # The page carries its own CJK font, subset to its characters: it reads the same on a
    # machine without a Chinese font.
    found = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page)
    assert found is not None and 'font-family: "gridcall-cjk"' in page
    font = TTFont(io.BytesIO(base64.b64decode(found[1])))
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in "及时签收率综合评价超期未办案件")
    assert len(cmap) < 1000  # a subset, not the 16 MB font


async def test_open311_shape_and_privacy(
    filled: tuple[async_sessionmaker[AsyncSession], OrgView],
) -> None:
    maker, org = filled
    async with maker() as session:
        records = await load_records(session)
    services = open311.services(org)
    assert len(services) == 11
    traffic = next(s for s in services if s["service_code"] == "traffic")
    assert traffic["service_name"] == "交通出行"
    assert traffic["group"] == "交警大队"
    assert traffic["metadata"] is False and traffic["type"] == "realtime"
    assert traffic["keywords"] and traffic["description"]
    requests = open311.requests(records, org)
    assert [r["service_request_id"] for r in requests] == [number(i) for i in range(1, 7)]
    first = requests[0]
    assert set(first) >= {
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "requested_datetime", "updated_datetime",
        "expected_datetime", "lat", "long", "media_url", "address",
    }  # fmt: skip
    assert first["status"] == "closed" and first["media_url"] is None
    assert first["address"] == "宝玉直第一网格" and first["lat"] == 23.115
    third = requests[2]
    assert third["status"] == "open" and third["agency_responsible"] == "交警大队"
    assert third["expected_datetime"] == "2026-11-23T02:00:00+00:00"  # the resolve deadline
    fifth = requests[4]
    assert fifth["expected_datetime"] == "2026-11-20T06:00:00+00:00"  # the acknowledge one
    text = json.dumps(requests, ensure_ascii=False) + open311.cases_csv(records, org)
    assert PHONE not in text and "[phone]" in text
    assert "reporter" not in text and "7001" not in text
    # The name the resident typed into the report text is their business; the reporter
    # name column is never exported.
    assert all("陈阿姨" not in r["agency_responsible"] for r in requests)


def _database(tmp_path: Path, org_config: OrgConfig) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def go() -> None:
        engine = create_engine(url)
        try:
            await migrate(engine)
            maker = sessionmaker(engine)
            async with maker() as session, session.begin():
                await import_org(session, org_config)
            await history.build(maker)
        finally:
            await engine.dispose()

    asyncio.run(go())
    return url


def test_cli_report_and_export(tmp_path: Path, org_config: OrgConfig) -> None:
    env = {"GRIDCALL_DATABASE_URL": _database(tmp_path, org_config)}
    runner = CliRunner()
    result = runner.invoke(main, ["report", "--period", PERIOD, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["org"]["cases"] == 5 and set(REQUIRED_KEYS) <= set(data["units"]["baoyuzhi"])

    out = tmp_path / "report.html"
    args = ["report", "--period", PERIOD, "--format", "html", "--out", str(out)]
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "<svg" in out.read_text(encoding="utf-8")

    args = ["report", "--period", PERIOD, "--format", "csv", "--scope", "交警大队"]
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].startswith("org,,") and ",1," in result.stdout

    result = runner.invoke(main, ["report", "--period", "fortnight"], env=env)
    assert result.exit_code == 2 and "unknown period 'fortnight'" in result.output
    result = runner.invoke(main, ["report", "--scope", "月球"], env=env)
    assert result.exit_code == 2 and "no unit or category is called '月球'" in result.output

    result = runner.invoke(main, ["export", "--format", "open311", "--period", PERIOD], env=env)
    assert result.exit_code == 0, result.output
    both = json.loads(result.stdout)
    assert len(both["services"]) == 11 and len(both["requests"]) == 5

    folder = tmp_path / "open311"
    folder.mkdir()
    result = runner.invoke(main, ["export", "--out", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    assert len(json.loads((folder / "requests.json").read_text(encoding="utf-8"))) == 6
    assert json.loads((folder / "services.json").read_text(encoding="utf-8"))[0]["service_code"]

    result = runner.invoke(main, ["export", "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 6 and rows[0]["service_request_id"] == number(1)


async def test_open311_carries_every_merged_report_masked(
    filled: tuple[async_sessionmaker[AsyncSession], OrgView],
) -> None:
    """A platform reading the export sees every resident's words, not only the first's."""
    maker, org = filled
    async with maker() as session:
        first = (await load_records(session))[0]
    at = first.created_at
    merged = dataclasses.replace(
        first,
        text="3栋门口路灯坏了",
        events=(
            EventRow(at, "filed", None, None, None),
            EventRow(at, "merged", 7002, None, f"三号楼下那盏灯不亮，电话 {PHONE}"),
            EventRow(at, "merged", 7003, None, "快递柜旁边的灯黑了一周"),
        ),
    )
    duplicate = dataclasses.replace(
        first,
        status="duplicate",
        events=(EventRow(at, "merged_into", 5001, None, "HZ-2026-000001"),),
    )
    request, gone = open311.requests([merged, duplicate], org)
    assert request["description"] == (
        "3栋门口路灯坏了\n\n合并（又一位居民反映）: 三号楼下那盏灯不亮，电话 [phone]"
        "\n\n合并（又一位居民反映）: 快递柜旁边的灯黑了一周"
    )
    assert gone["status"] == "closed"
    assert gone["status_notes"].endswith("→ HZ-2026-000001")
    csv_text = open311.cases_csv([merged], org)
    assert "快递柜旁边的灯黑了一周" in csv_text and PHONE not in csv_text
