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
  description = the report text with phone numbers masked; media_url null.

Residents stay private: no reporter name or id is exported, and phone numbers in the text
are masked whatever the org's settings (the text leaves the grid's chat by definition).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from escalation.routing import OrgView
from reports.indicators import CaseRecord
from templates.render import Renderer
from triage.categories import CATEGORY_INFO, Category, category_name
from triage.keywords import CATEGORY_KEYWORDS
from triage.llm import mask_phones

CLOSED = ("closed", "duplicate", "rejected")
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
    expected = expected or (record.resolve_due_at if record.status not in CLOSED else None)
    return {
        "service_request_id": record.number,
        "status": "closed" if record.status in CLOSED else "open",
        "status_notes": f"{r.label('status', record.status)} · {r.label('level', record.level)}",
        "service_name": category_name(record.category, org.language),
        "service_code": record.category,
        "description": mask_phones(record.text),
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
