"""Exports for a city platform (12345, a dashboard): Open311 GeoReport v2 and CSV.

GeoReport v2 (http://wiki.open311.org/GeoReport_v2) has two documents: the service list
(`services.json`: one service per category code) and the service requests
(`requests.json`: one per case). Our mapping:

- service_code = category code; service_name in the org's language; group = the department
  that owns the category (or 社区 / community for `other`); keywords from the lexicon.
- service_request_id = case number; status `closed` for closed/duplicate/rejected cases,
  else `open`; status_notes = the lifecycle status and current level; agency_responsible =
  the name of the unit that has the case now; expected_datetime = the pending deadline
  (acknowledge if not yet acknowledged, else resolve); address = the grid's name;
  description = the report text with phone numbers masked, followed by every other
  resident's report merged into the case (合并), each on its own paragraph, masked the same
  way, so that a platform reading the export sees every word residents wrote; a case a
  worker merged into another names that case in status_notes; media_url null.

Residents stay private: no reporter name or id is exported, and phone numbers in the text
are masked whatever the org's settings (the text leaves the grid's chat by definition).

The same documents are served live by `bot/open311_api.py`; the query rules of GeoReport's
`GET requests` (ids override everything, a 90-day default window, at most 1,000 results,
newest first) are here, so that the API stays a thin adapter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.status import FINISHED
from org.view import OrgView
from reports.indicators import CASE_COLUMNS, EVENT_COLUMNS, CaseRecord, EventRow, record_of
from storage.models import Case, CaseEvent
from templates.render import Renderer
from triage.categories import CATEGORY_INFO, Category, category_name
from triage.keywords import CATEGORY_KEYWORDS
from triage.llm import mask_phones

SHOWN_EVENTS = ("merged", "merged_into")
"""The events a request shows: other residents' reports, and where a duplicate went."""
KEYWORDS_PER_SERVICE = 6


def _keywords(code: Category) -> str:
    words = sorted(CATEGORY_KEYWORDS.get(code, {}).items(), key=lambda kv: (-kv[1], kv[0]))
    return ",".join(word for word, _ in words[:KEYWORDS_PER_SERVICE])


def services(org: OrgView) -> list[dict[str, Any]]:
    """The GeoReport service list: one service per category code."""
    out: list[dict[str, Any]] = []
    zh = org.language.startswith("zh")
    for code in Category:
        department = org.department_for(str(code))
        group = department.name if department else ("社区" if zh else "Community")
        other = category_name(code, "en" if zh else "zh")
        out.append(
            {
                "service_code": str(code),
                "service_name": category_name(code, org.language),
                "description": f"{category_name(code, org.language)} ({other}); "
                f"default priority {CATEGORY_INFO[code].priority}",
                "metadata": False,
                "type": "realtime",
                "keywords": _keywords(code),
                "group": group,
            }
        )
    return out


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def request_of(record: CaseRecord, org: OrgView) -> dict[str, Any]:
    """One GeoReport service request for a case."""
    r = Renderer("zh" if org.language.startswith("zh") else "en", org.timezone)
    unit = org.units.get(record.current_unit_id)
    grid = org.units.get(record.grid_id)
    expected = record.ack_due_at if record.status == "dispatched" else None
    expected = expected or (record.resolve_due_at if record.status not in FINISHED else None)
    notes = f"{r.label('status', record.status)} · {r.label('level', record.level)}"
    description = [mask_phones(record.text)]
    for event in record.events:
        if event.kind == "merged" and event.note:
            description.append(f"{r.label('event', 'merged')}: {mask_phones(event.note)}")
        elif event.kind == "merged_into" and event.note:
            notes += f" → {event.note}"
    return {
        "service_request_id": record.number,
        "status": "closed" if record.status in FINISHED else "open",
        "status_notes": notes,
        "service_name": category_name(record.category, org.language),
        "service_code": record.category,
        "description": "\n\n".join(description),
        "agency_responsible": unit.name if unit else record.current_unit_id,
        "service_notice": None,
        "requested_datetime": _iso(record.created_at),
        "updated_datetime": _iso(record.updated_at),
        "expected_datetime": _iso(expected),
        "address": grid.name if grid else record.grid_id,
        "address_id": record.grid_id,
        "zipcode": None,
        "lat": record.lat,
        "long": record.lon,
        "media_url": None,
    }


def requests(records: Sequence[CaseRecord], org: OrgView) -> list[dict[str, Any]]:
    return [request_of(r, org) for r in records]


CSV_COLUMNS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_code",
    "service_name",
    "description",
    "agency_responsible",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "lat",
    "long",
)


def cases_csv(records: Sequence[CaseRecord], org: OrgView) -> str:
    """One row per case, the same fields as the GeoReport requests."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = request_of(record, org)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()


# --- GET requests: the query -------------------------------------------------------------

MAX_REQUESTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
STATUSES = ("open", "closed")


class QueryError(ValueError):
    """A question the API answers with a GeoReport error: its HTTP code and description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class RequestQuery:
    """GeoReport's `GET requests` parameters, checked. With `ids`, everything else is
    ignored, as the specification says."""

    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None  # "open", "closed", or None for both


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in (value or "").split(",") if v.strip()))


def _moment(params: Mapping[str, str], name: str, timezone: str) -> datetime | None:
    value = params.get(name)
    if value is None or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise QueryError(
            400, f"{name} must be a W3C date and time, e.g. 2026-11-01T00:00:00+08:00"
        ) from None
    if moment.tzinfo is None:  # no offset given: the org's own clock
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def parse_query(params: Mapping[str, str], now: datetime, timezone: str) -> RequestQuery:
    """Check the parameters; unknown ones (jurisdiction_id, api_key …) are ignored."""
    ids = _listed(params.get("service_request_id"))
    if ids:
        return RequestQuery(ids=ids[:MAX_REQUESTS])
    codes = _listed(params.get("service_code"))
    known = {str(code) for code in Category}
    for code in codes:
        if code not in known:
            raise QueryError(400, f"unknown service_code {code!r}: see services.json")
    statuses = _listed(params.get("status"))
    for status in statuses:
        if status not in STATUSES:
            raise QueryError(400, f"status must be open or closed, not {status!r}")
    start = _moment(params, "start_date", timezone)
    end = _moment(params, "end_date", timezone)
    if end is None:
        end = now if start is None else max(now, start)
    if start is None:
        start = end - DEFAULT_WINDOW
    if start > end:
        raise QueryError(400, "start_date is after end_date")
    return RequestQuery(
        codes=codes,
        start=start,
        end=end,
        status=statuses[0] if len(statuses) == 1 else None,
    )


async def find_requests(session: AsyncSession, query: RequestQuery) -> list[CaseRecord]:
    """The cases a query asks for, newest first, at most `MAX_REQUESTS`, each with only
    the events a request shows (the reports merged into it, the case it was merged into),
    read in one second query."""
    stmt = select(*CASE_COLUMNS)
    if query.ids:
        stmt = stmt.where(Case.number.in_(query.ids))
    else:
        if query.start is not None:
            stmt = stmt.where(Case.created_at >= query.start)
        if query.end is not None:
            stmt = stmt.where(Case.created_at <= query.end)
        if query.codes:
            stmt = stmt.where(Case.category.in_(query.codes))
        if query.status == "closed":
            stmt = stmt.where(Case.status.in_(FINISHED))
        elif query.status == "open":
            stmt = stmt.where(Case.status.not_in(FINISHED))
    stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_REQUESTS)
    conn = await session.connection()
    rows = (await conn.execute(stmt)).all()
    shown: dict[int, list[EventRow]] = {row.id: [] for row in rows}
    if shown:
        events = await conn.execute(
            select(*EVENT_COLUMNS)
            .where(CaseEvent.case_id.in_(list(shown)), CaseEvent.kind.in_(SHOWN_EVENTS))
            .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
        )
        for event in events.all():
            shown[event[0]].append(EventRow(*event[1:]))
    return [record_of(row, tuple(shown[row.id])) for row in rows]


def as_xml(root: str, item: str, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """GeoReport's XML form of a list (`services`/`service`, `service_requests`/`request`,
    `errors`/`error`): one element per field, booleans as true/false, null as empty."""
    top = ElementTree.Element(root)
    for row in rows:
        element = ElementTree.SubElement(top, item)
        for key, value in row.items():
            field = ElementTree.SubElement(element, key)
            if isinstance(value, bool):
                field.text = "true" if value else "false"
            elif value is not None:
                field.text = str(value)
    body = ElementTree.tostring(top, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'.encode()
