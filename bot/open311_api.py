"""Open311 GeoReport v2 over HTTP, read only: what `gridcall export` writes, served live.

A city platform (12345, a district dashboard) polls `GET /open311/v2/requests.json` for the
cases and `services.json` for the categories; `requests/{id}.json` answers one case. JSON
and XML as GeoReport has them; errors as its list of `{code, description}`. The mapping, the
privacy rules (no reporter, phone numbers masked) and the query rules live in
`reports/open311.py`; this module is only the HTTP adapter.

Closed by default: every request needs one of the keys in `GRIDCALL_OPEN311_API_KEYS`
(GeoReport's `api_key` parameter, or an `X-Api-Key` header), compared in constant time — the
cases are the district's internal record, even masked. Reports are filed in the chats, so
`POST requests` is refused with a pointer there rather than half-supported.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.http_server import HttpServer
from org.view import OrgView
from reports import open311
from storage.org_import import load_view
from triage.categories import Category

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
HEALTH_PATH = "/healthz"
MIN_KEY_LENGTH = 16
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
#: Which list element wraps each kind of document in XML.
XML_NAMES = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def keys_problem(keys: Sequence[str]) -> str | None:
    """Why these keys cannot protect the API, or None. Never repeats a key."""
    if not keys:
        return (
            "GRIDCALL_OPEN311_API_KEYS is not set: the Open311 API serves only callers with a "
            "key (comma-separated, each 16+ characters of A-Z a-z 0-9 _ -; e.g. "
            "`openssl rand -hex 24`)"
        )
    for n, key in enumerate(keys, start=1):
        if len(key) < MIN_KEY_LENGTH or not _KEY_RE.match(key):
            return (
                f"GRIDCALL_OPEN311_API_KEYS: key {n} must be {MIN_KEY_LENGTH} or more "
                "characters of A-Z a-z 0-9 _ -"
            )
    return None


def parse_keys(value: str | None) -> list[str]:
    return [key.strip() for key in (value or "").split(",") if key.strip()]


class Open311Api(HttpServer):
    """The aiohttp application; `now` is the injected clock (the default 90-day window)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keys: Sequence[str],
        now: Callable[[], datetime],
    ) -> None:
        problem = keys_problem(keys)
        if problem is not None:
            raise ValueError(problem)
        super().__init__()
        self.sessions = sessions
        self._keys = [key.encode() for key in keys]
        self.now = now
        self.refused = 0

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get(HEALTH_PATH, self.health)
        app.router.add_get(PREFIX + "/services.{fmt}", self.services)
        app.router.add_get(PREFIX + "/services/{code}.{fmt}", self.service_definition)
        app.router.add_get(PREFIX + "/requests.{fmt}", self.requests)
        app.router.add_post(PREFIX + "/requests.{fmt}", self.create_request)
        app.router.add_get(PREFIX + "/requests/{id}.{fmt}", self.request)
        return app

    # -- the guard: key, format, errors ------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        given = (request.query.get("api_key") or request.headers.get("X-Api-Key") or "").encode()
        # Compare with every key, so the time taken says nothing about which one is close.
        matches = [hmac.compare_digest(given, key) for key in self._keys]
        return bool(given) and any(matches)

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        fmt = request.match_info.get("fmt", "json")
        if request.path == HEALTH_PATH:
            response: web.StreamResponse = await handler(request)
            return response
        if fmt not in ("json", "xml"):
            return _error(400, f"unknown format {fmt!r}: use .json or .xml", "json")
        if not self._authorised(request):
            self.refused += 1
            return _error(403, "a valid api_key is required", fmt)
        try:
            response = await handler(request)
        except open311.QueryError as exc:
            return _error(exc.code, exc.description, fmt)
        except web.HTTPException as exc:
            if exc.status == 404:
                return _error(404, "no such resource: see /open311/v2/services.json", fmt)
            if exc.status == 405:
                return _error(405, f"{request.method} is not served here", fmt)
            raise
        return response

    # -- the documents -----------------------------------------------------------------------

    async def _org(self, session: AsyncSession) -> OrgView:
        org = await load_view(session)
        if org is None:
            raise open311.QueryError(503, "no org has been imported yet")
        return org

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def services(self, request: web.Request) -> web.Response:
        async with self.sessions() as session:
            org = await self._org(session)
        return _document("services", open311.services(org), request.match_info["fmt"])

    async def service_definition(self, request: web.Request) -> web.Response:
        code = request.match_info["code"]
        if code not in {str(category) for category in Category}:
            raise open311.QueryError(404, f"unknown service_code {code!r}: see services.json")
        raise open311.QueryError(404, f"service {code!r} has no attributes (metadata is false)")

    async def requests(self, request: web.Request) -> web.Response:
        async with self.sessions() as session:
            org = await self._org(session)
            query = open311.parse_query(request.query, self.now(), org.timezone)
            records = await open311.find_requests(session, query)
        return _document("requests", open311.requests(records, org), request.match_info["fmt"])

    async def request(self, request: web.Request) -> web.Response:
        number = request.match_info["id"]
        async with self.sessions() as session:
            org = await self._org(session)
            query = open311.RequestQuery(ids=(number,))
            records = await open311.find_requests(session, query)
        if not records:
            raise open311.QueryError(404, f"no service request {number!r}")
        return _document("requests", open311.requests(records, org), request.match_info["fmt"])

    async def create_request(self, request: web.Request) -> web.Response:
        raise open311.QueryError(
            400,
            "service requests are filed by residents in their chats with the bot; "
            "this API is read only",
        )


def _document(kind: str, rows: list[dict[str, Any]], fmt: str, status: int = 200) -> web.Response:
    if fmt == "xml":
        root, item = XML_NAMES[kind]
        return web.Response(
            body=open311.as_xml(root, item, rows),
            status=status,
            content_type="text/xml",
            charset="utf-8",
        )
    return web.Response(
        text=json.dumps(rows, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def _error(code: int, description: str, fmt: str) -> web.Response:
    return _document("errors", [{"code": code, "description": description}], fmt, status=code)
