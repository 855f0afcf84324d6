"""The Open311 GeoReport v2 API over real HTTP, on SQLite and PostgreSQL, against the small
hand-made history of tests/reports/history.py (six cases; C6 filed ten days before the
others; C1, C2 and C4 closed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from xml.etree import ElementTree

import aiohttp
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.open311_api import Open311Api, keys_problem, parse_keys
from org.file import OrgConfig
from storage.db import create_engine, migrate, sessionmaker
from storage.org_import import import_org
from tests.reports import history
from tests.reports.history import NOW, PHONE, number

KEY = "district-dashboard-0123456789"
OTHER_KEY = "city-12345-platform-abcdefgh"


class Client:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def get(self, path: str, key: str | None = KEY, **params: str) -> tuple[int, Any]:
        query = {**params, **({"api_key": key} if key is not None else {})}
        async with self.http.get(self.base + path, params=query) as response:
            body = await response.read()
            if response.content_type == "text/xml":
                return response.status, ElementTree.fromstring(body)
            return response.status, json.loads(body)


@pytest.fixture
async def api(database_url: str, org_config: OrgConfig) -> AsyncIterator[Client]:
    engine = create_engine(database_url)
    await migrate(engine)
    sessions = sessionmaker(engine)
    async with sessions() as session, session.begin():
        await import_org(session, org_config)
    await history.build(sessions)
    server = Open311Api(sessions, [KEY, OTHER_KEY], lambda: NOW)
    port = await server.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            yield Client(http, f"http://127.0.0.1:{port}/open311/v2")
    finally:
        await server.stop()
        await engine.dispose()


def ids(requests: list[dict[str, Any]]) -> list[str]:
    return [r["service_request_id"] for r in requests]


async def test_only_callers_with_a_key_get_anything(api: Client) -> None:
    refused = [{"code": 403, "description": "a valid api_key is required"}]
    assert await api.get("/requests.json", key=None) == (403, refused)
    assert await api.get("/requests.json", key=KEY[:-1] + "x") == (403, refused)
    assert await api.get("/services.json", key="") == (403, refused)
    status, errors = await api.get("/requests.xml", key=None)
    assert status == 403 and errors.tag == "errors"
    assert errors.findtext("error/description") == "a valid api_key is required"
    async with api.http.get(api.base + "/services.json", headers={"X-Api-Key": OTHER_KEY}) as r:
        assert r.status == 200 and len(await r.json()) == 11


async def test_requests_newest_first_in_a_90_day_window_and_filtered(api: Client) -> None:
    status, everything = await api.get("/requests.json")
    assert status == 200
    assert ids(everything) == [number(n) for n in (5, 4, 3, 2, 1, 6)]
    assert [r["status"] for r in everything] == [
        "open",
        "closed",
        "open",
        "closed",
        "closed",
        "open",
    ]

    _, open_ = await api.get("/requests.json", status="open")
    assert ids(open_) == [number(5), number(3), number(6)]
    _, traffic = await api.get("/requests.json", service_code="traffic,municipal", status="closed")
    assert ids(traffic) == [number(4), number(2), number(1)]
    # A window in the org's time (no offset given: Asia/Shanghai) or with an offset.
    _, window = await api.get(
        "/requests.json", start_date="2026-11-20T09:00", end_date="2026-11-20T10:00:00+08:00"
    )
    assert ids(window) == [number(3), number(2)]
    # Ids override every other parameter, as GeoReport says.
    _, chosen = await api.get(
        "/requests.json", service_request_id=f"{number(6)},{number(1)},HZ-0", status="open"
    )
    assert sorted(ids(chosen)) == [number(1), number(6)]

    status, one = await api.get(f"/requests/{number(3)}.json")
    assert status == 200 and ids(one) == [number(3)]
    assert one[0]["agency_responsible"] == "交警大队"
    assert one[0]["expected_datetime"] == "2026-11-23T02:00:00+00:00"


async def test_residents_stay_private_in_json_and_xml(api: Client) -> None:
    _, requests = await api.get("/requests.json")
    status, xml = await api.get("/requests.xml")
    assert status == 200 and xml.tag == "service_requests"
    assert [e.findtext("service_request_id") for e in xml.findall("request")] == ids(requests)
    assert xml.findtext("request/media_url") == ""
    text = json.dumps(requests, ensure_ascii=False) + ElementTree.tostring(xml, "unicode")
    assert PHONE not in text and "[phone]" in text
    assert "reporter" not in text and "7001" not in text

    _, services = await api.get("/services.xml")
    assert len(services.findall("service")) == 11
    traffic = next(s for s in services if s.findtext("service_code") == "traffic")
    assert (traffic.findtext("service_name"), traffic.findtext("metadata")) == ("交通出行", "false")


@pytest.mark.parametrize(
    ("path", "params", "status", "description"),
    [
        (
            "/requests.json",
            {"start_date": "yesterday"},
            400,
            "start_date must be a W3C date and time, e.g. 2026-11-01T00:00:00+08:00",
        ),
        (
            "/requests.json",
            {"start_date": "2026-11-21T00:00Z", "end_date": "2026-11-20T00:00Z"},
            400,
            "start_date is after end_date",
        ),
        (
            "/requests.json",
            {"status": "pending"},
            400,
            "status must be open or closed, not 'pending'",
        ),
        (
            "/requests.json",
            {"service_code": "ufo"},
            400,
            "unknown service_code 'ufo': see services.json",
        ),
        ("/requests.csv", {}, 400, "unknown format 'csv': use .json or .xml"),
        ("/requests/HZ-2026-999999.json", {}, 404, "no service request 'HZ-2026-999999'"),
        (
            "/services/traffic.json",
            {},
            404,
            "service 'traffic' has no attributes (metadata is false)",
        ),
        ("/cases.json", {}, 404, "no such resource: see /open311/v2/services.json"),
    ],
)
async def test_bad_questions_get_a_georeport_error(
    api: Client, path: str, params: dict[str, str], status: int, description: str
) -> None:
    assert await api.get(path, **params) == (status, [{"code": status, "description": description}])


async def test_filing_through_the_api_is_refused_with_a_pointer_to_the_chats(api: Client) -> None:
    url = api.base + "/requests.json"
    data = {"api_key": KEY, "service_code": "traffic", "description": "<b>路灯</b>坏了"}
    async with api.http.post(url, data=data, params={"api_key": KEY}) as response:
        assert response.status == 400
        [error] = await response.json()
    assert "filed by residents in their chats" in error["description"]
    _, everything = await api.get("/requests.json")
    assert len(everything) == 6  # nothing was filed


def test_keys_must_be_set_and_long() -> None:
    assert parse_keys(" a , ,b ") == ["a", "b"]
    assert keys_problem([KEY]) is None
    assert "is not set" in (keys_problem([]) or "")
    assert keys_problem([KEY, "short"]) == (
        "GRIDCALL_OPEN311_API_KEYS: key 2 must be 16 or more characters of A-Z a-z 0-9 _ -"
    )
    for value in ("", "short"):
        result = CliRunner().invoke(main, ["open311"], env={"GRIDCALL_OPEN311_API_KEYS": value})
        assert result.exit_code == 1
        assert "GRIDCALL_OPEN311_API_KEYS" in result.output and "short" not in result.output
    result = CliRunner().invoke(main, ["open311", "--listen", "nowhere"])
    assert result.exit_code == 2 and "is not HOST:PORT" in result.output
