"""The written report: indicators for the org, every unit and category, a ranking of units
(综合评价), the overdue open cases, and writers for JSON, CSV and an offline HTML page.

Ranking (综合评价): among units of one level that have cases in the period, a score 0-100
= the weighted mean of ack_in_time_rate 25, resolved_in_time_rate 25, satisfaction_rate 25,
closure_rate 15, (1 - reopen_rate) 5 and (1 - return_rate) 5, each rate taken as 0..1 and
the mean scaled to 100. A part whose rate is None (nothing to measure) is skipped and the
remaining weights renormalised; a unit with no measurable part has no score and ranks last.

Overdue: open cases (dispatched or acknowledged) — whenever they were filed — that have
missed a deadline and not yet made up for it: status dispatched and an acknowledge deadline
missed (an ack_overdue event since the last 返工, or `ack_due_at` in the past), or a resolve
deadline missed (a resolve_overdue event since the last 返工, or `resolve_due_at` in the
past). "How late" counts from the first such deadline.

Reports name cases by number only: no report text, reporter name or phone number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from cases.status import ACTIVE
from org.levels import LEVELS
from org.view import OrgView, UnitView
from reports import i18n
from reports.indicators import (
    DEFINITIONS,
    RATE_KEYS,
    TIME_KEYS,
    CaseFacts,
    CaseRecord,
    Indicators,
    compute,
    descendants,
    facts_of,
    load_records,
    missed,
    units_of_case,
)
from reports.periods import Period
from templates.render import Renderer
from triage.categories import Category, category_name

WEIGHTS: dict[str, float] = {
    "ack_in_time_rate": 25,
    "resolved_in_time_rate": 25,
    "satisfaction_rate": 25,
    "closure_rate": 15,
    "reopen_rate": 5,
    "return_rate": 5,
}
INVERTED = ("reopen_rate", "return_rate")
WEB = Path(__file__).resolve().parent.parent / "templates" / "web"


class ScopeError(ValueError):
    """A scope that names no unit or category."""


@dataclass(frozen=True)
class Scope:
    kind: str  # org | unit | category
    key: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.key, "name": self.name}


def category_names(code: str) -> set[str]:
    names = {code, category_name(code, "zh"), category_name(code, "en")}
    names |= {Renderer(lang).label("category", code) for lang in ("zh", "en")}
    return {n.lower() for n in names}


def resolve_scope(org: OrgView, text: str | None) -> Scope:
    """A unit (by id or name) or a category (by code or name in either language); nothing
    means the whole org."""
    wanted = (text or "").strip()
    if not wanted:
        return Scope("org", "", org.name)
    unit = org.units.get(wanted) or next(
        (u for u in sorted(org.units.values(), key=lambda u: u.id) if u.name == wanted), None
    )
    if unit is not None:
        return Scope("unit", unit.id, unit.name)
    for code in Category:
        if wanted.lower() in category_names(code):
            return Scope("category", str(code), category_name(code, org.language))
    raise ScopeError(f"no unit or category is called {wanted!r}")


def in_scope(record: CaseRecord, org: OrgView, scope: Scope) -> bool:
    if scope.kind == "org":
        return True
    if scope.kind == "category":
        return record.category == scope.key
    return scope.key in units_of_case(record, org)


def scope_indicators(records: Sequence[CaseRecord], org: OrgView, scope: Scope) -> Indicators:
    return compute(facts_of(r) for r in records if in_scope(r, org, scope))


# --- ranking -------------------------------------------------------------------------------


def score(indicators: Indicators) -> float | None:
    """综合评价 (see the module docstring)."""
    total = weight = 0.0
    for key, w in WEIGHTS.items():
        rate = indicators.rate(key)
        if rate is None:
            continue
        total += w * ((1 - rate) if key in INVERTED else rate)
        weight += w
    return round(100 * total / weight, 1) if weight else None


@dataclass(frozen=True)
class RankRow:
    level: str
    rank: int
    unit_id: str
    name: str
    score: float | None
    cases: int

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "rank": self.rank,
            "unit_id": self.unit_id,
            "name": self.name,
            "score": self.score,
            "cases": self.cases,
        }


def ranking(units: dict[str, Indicators], org: OrgView) -> list[RankRow]:
    rows: list[RankRow] = []
    for level in LEVELS:
        scored = [
            (score(ind), uid)
            for uid, ind in units.items()
            if ind.cases and uid in org.units and org.units[uid].level == level
        ]
        scored.sort(key=lambda p: (p[0] is None, -(p[0] or 0.0), p[1]))
        for rank, (value, uid) in enumerate(scored, start=1):
            rows.append(RankRow(level, rank, uid, org.units[uid].name, value, units[uid].cases))
    return rows


# --- overdue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueRow:
    number: str
    category: str
    unit_id: str
    unit_name: str
    level: str
    deadline: str  # ack | resolve
    due: datetime
    late_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.number,
            "category": self.category,
            "unit_id": self.unit_id,
            "unit_name": self.unit_name,
            "level": self.level,
            "deadline": self.deadline,
            "due": self.due.isoformat(),
            "late_s": self.late_s,
        }


def overdue_of(record: CaseRecord, org: OrgView, now: datetime) -> OverdueRow | None:
    """The first deadline this open case missed and has not made up for, if any."""
    if record.status not in ACTIVE:
        return None
    last_reopen = max((i for i, e in enumerate(record.events) if e.kind == "reopened"), default=-1)
    since = record.events[last_reopen + 1 :]
    candidates: list[tuple[datetime, str]] = []
    if record.status == "dispatched":
        candidates += [(e.at, "ack") for e in since if missed(e, "ack_overdue")]
        if record.ack_due_at is not None and record.ack_due_at < now:
            candidates.append((record.ack_due_at, "ack"))
    candidates += [(e.at, "resolve") for e in since if missed(e, "resolve_overdue")]
    if record.resolve_due_at is not None and record.resolve_due_at < now:
        candidates.append((record.resolve_due_at, "resolve"))
    if not candidates:
        return None
    due, which = min(candidates)
    unit = org.units.get(record.current_unit_id)
    return OverdueRow(
        number=record.number,
        category=record.category,
        unit_id=record.current_unit_id,
        unit_name=unit.name if unit else record.current_unit_id,
        level=record.level,
        deadline=which,
        due=due,
        late_s=(now - due).total_seconds(),
    )


# --- the report ----------------------------------------------------------------------------


@dataclass
class Report:
    org_name: str
    language: str
    timezone: str
    period: Period
    generated_at: datetime
    scope: Scope
    org: Indicators
    units: dict[str, Indicators]
    categories: dict[str, Indicators]
    ranking: list[RankRow]
    overdue: list[OverdueRow]
    unit_views: dict[str, UnitView] = field(default_factory=dict)

    def unit_name(self, unit_id: str) -> str:
        unit = self.unit_views.get(unit_id)
        return unit.name if unit else unit_id


def build_report(
    records: Sequence[CaseRecord],
    open_records: Sequence[CaseRecord],
    org: OrgView,
    period: Period,
    now: datetime,
    scope: Scope | None = None,
) -> Report:
    """Everything a report shows, from the cases filed in the period (`records`) and the
    cases open now (`open_records`, for the overdue list)."""
    scope = scope or Scope("org", "", org.name)
    chosen = [r for r in records if in_scope(r, org, scope)]
    facts = {r.number: facts_of(r) for r in chosen}
    members: dict[str, list[str]] = {}
    for record in chosen:
        for uid in units_of_case(record, org):
            members.setdefault(uid, []).append(record.number)
    if scope.kind == "unit":
        listed = descendants(org, scope.key) | set(members)
    elif scope.kind == "category":
        listed = set(members)
    else:
        listed = set(org.units) | set(members)
    units = {uid: compute(facts[n] for n in members.get(uid, [])) for uid in sorted(listed)}
    codes = {str(c) for c in Category} if scope.kind == "org" else set()
    by_category: dict[str, list[CaseFacts]] = {}
    for record in chosen:
        by_category.setdefault(record.category, []).append(facts[record.number])
    codes |= set(by_category)
    categories = {code: compute(by_category.get(code, ())) for code in sorted(codes)}
    overdue = [
        row
        for r in open_records
        if in_scope(r, org, scope) and (row := overdue_of(r, org, now)) is not None
    ]
    overdue.sort(key=lambda row: (-row.late_s, row.number))
    return Report(
        org_name=org.name,
        language=org.language,
        timezone=org.timezone,
        period=period,
        generated_at=now,
        scope=scope,
        org=compute(facts.values()),
        units=units,
        categories=categories,
        ranking=ranking(units, org),
        overdue=overdue,
        unit_views=dict(org.units),
    )


async def load_report(
    session: AsyncSession, org: OrgView, period: Period, now: datetime, scope: Scope | None = None
) -> Report:
    records = await load_records(session, period.start, period.end)
    open_records = await load_records(session, statuses=ACTIVE)
    return build_report(records, open_records, org, period, now, scope)


# --- writers -------------------------------------------------------------------------------


def to_json(report: Report) -> dict[str, Any]:
    units: dict[str, Any] = {}
    for uid, ind in report.units.items():
        view = report.unit_views.get(uid)
        units[uid] = {
            "name": report.unit_name(uid),
            "level": view.level if view else None,
            "parent_id": view.parent_id if view else None,
            **ind.to_json(),
            "score": score(ind) if ind.cases else None,
        }
    return {
        "org": {"name": report.org_name, **report.org.to_json(), "score": score(report.org)},
        "units": units,
        "categories": {
            code: {"name": category_name(code, report.language), **ind.to_json()}
            for code, ind in report.categories.items()
        },
        "ranking": [row.to_json() for row in report.ranking],
        "overdue": [row.to_json() for row in report.overdue],
        "period": report.period.to_json(),
        "scope": report.scope.to_json(),
        "generated_at": report.generated_at.isoformat(),
        "definitions": DEFINITIONS,
    }


def write_json(report: Report) -> str:
    return dumps_indented(to_json(report))


class _Unsupported(TypeError):
    """A value `dumps_indented` does not write itself: `json.dumps` writes the whole."""


_encode_str = json.encoder.encode_basestring  # ensure_ascii=False, C-accelerated


def dumps_indented(value: Any) -> str:
    """Exactly `json.dumps(value, ensure_ascii=False, indent=2)`, several times faster.

    With an indent the standard library falls back to its pure-Python encoder, and a yearly
    report's trace is millions of case numbers: here a list of strings is joined in one go.
    Anything but dicts with string keys, lists, tuples, strings, numbers, booleans and None
    goes to `json.dumps`, so the text is always the same."""
    out: list[str] = []
    try:
        _dump(value, "\n", out)
    except _Unsupported:
        return json.dumps(value, ensure_ascii=False, indent=2)
    return "".join(out)


def _dump(value: Any, newline: str, out: list[str]) -> None:
    """Append `value` to `out`; `newline` is a newline and the current indent."""
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        if all(type(item) is str for item in value):
            out.append("[" + inner + ("," + inner).join(map(_encode_str, value)) + newline + "]")
            return
        separator = "[" + inner
        for item in value:
            out.append(separator)
            _dump(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        separator = "{" + inner
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unsupported(key)
            out.append(separator + _encode_str(key) + ": ")
            _dump(item, inner, out)
            separator = "," + inner
        out.append(newline + "}")
    else:
        raise _Unsupported(value)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


CSV_COLUMNS = ("scope", "id", "name", "level", "cases", *RATE_KEYS, *TIME_KEYS, "score")


def write_csv(report: Report) -> str:
    """One row per scope: the org, every unit, every category."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def row(kind: str, key: str, name: str, level: str, ind: Indicators) -> None:
        figures = ind.figures()
        values = [_csv_number(figures[k]) for k in (*RATE_KEYS, *TIME_KEYS)]
        value = score(ind) if ind.cases else None
        writer.writerow([kind, key, name, level, ind.cases, *values, _csv_number(value)])

    row("org", "", report.org_name, "", report.org)
    for uid, ind in report.units.items():
        view = report.unit_views.get(uid)
        row("unit", uid, report.unit_name(uid), view.level if view else "", ind)
    for code, ind in report.categories.items():
        row("category", code, category_name(code, report.language), "", ind)
    return out.getvalue()


def _csv_number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(WEB),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


#: Where the embedded font goes; replaced once the page (and so its characters) is known.
FONT_FACE_SLOT = "/* gridcall: font-face */"


def write_html(report: Report) -> str:
    """A page that opens offline: inline CSS, inline SVG charts, no external URL."""
    from reports.charts import bar_chart, inline_svg
    from reports.fonts import font_face_css

    t = i18n.text(report.language)
    labels = Renderer("zh" if report.language.startswith("zh") else "en", report.timezone)
    rates = [report.org.rate(k) for k in RATE_KEYS]
    charts = [
        (
            t["rates_chart"],
            bar_chart(
                f"{report.scope.name} · {t['rates_chart']}",
                [t[k] for k in RATE_KEYS],
                [None if v is None else 100 * v for v in rates],
                fmt="svg",
            ),
        )
    ]
    for level in LEVELS:
        rows = [r for r in report.ranking if r.level == level]
        if rows:
            charts.append(
                (
                    f"{t['scores_chart']} · {labels.label('level', level)}",
                    bar_chart(
                        f"{t['scores_chart']} · {labels.label('level', level)}",
                        [r.name for r in rows],
                        [r.score for r in rows],
                        fmt="svg",
                        suffix="",
                    ),
                )
            )
    svgs = [(title, Markup(inline_svg(svg, f"c{i}"))) for i, (title, svg) in enumerate(charts)]
    tz = ZoneInfo(report.timezone)
    start, end = report.period.local_bounds()

    def table(ind: Indicators) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for key in RATE_KEYS:
            fraction = ind.fractions[key]
            rows.append(
                {
                    "name": t[key],
                    "value": i18n.percent(fraction.rate),
                    "numerator": list(fraction.numerator),
                    "denominator": list(fraction.denominator),
                }
            )
        for key, pairs in (("mtta_s", ind.ack_times), ("mttr_s", ind.resolve_times)):
            p90_key = f"{key.removesuffix('_s')}_p90_s"
            rows.append(
                {
                    "name": t[key],
                    "value": f"{i18n.duration(ind.figures()[key], report.language)}"
                    f" (P90 {i18n.duration(ind.figures()[p90_key], report.language)})",
                    "numerator": None,
                    "denominator": [n for n, _ in pairs],
                }
            )
        return rows

    def figures(ind: Indicators) -> dict[str, str]:
        out = {k: i18n.percent(ind.rate(k)) for k in RATE_KEYS}
        out["mtta_s"] = i18n.duration(ind.mtta_s, report.language)
        out["mttr_s"] = i18n.duration(ind.mttr_s, report.language)
        value = score(ind) if ind.cases else None
        out["score"] = "—" if value is None else f"{value:.1f}"
        return out

    units = [
        {
            "id": uid,
            "name": report.unit_name(uid),
            "level": labels.label("level", report.unit_views[uid].level)
            if uid in report.unit_views
            else "",
            "cases": ind.cases,
            "figures": figures(ind),
        }
        for uid, ind in report.units.items()
    ]
    categories = [
        {
            "id": code,
            "name": category_name(code, report.language),
            "cases": ind.cases,
            "figures": figures(ind),
        }
        for code, ind in report.categories.items()
    ]
    overdue = [
        {
            "number": row.number,
            "category": category_name(row.category, report.language),
            "unit": row.unit_name,
            "level": labels.label("level", row.level),
            "deadline": t[row.deadline],
            "due": row.due.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "late": i18n.duration(row.late_s, report.language),
        }
        for row in report.overdue
    ]
    ranking_rows = [
        {
            "level": labels.label("level", row.level),
            "rank": row.rank,
            "name": row.name,
            "score": "—" if row.score is None else f"{row.score:.1f}",
            "cases": row.cases,
        }
        for row in report.ranking
    ]
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            t=t,
            lang="zh-CN" if report.language.startswith("zh") else "en",
            org_name=report.org_name,
            scope=report.scope,
            period=report.period,
            start=start,
            end=end,
            generated=report.generated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            summary=table(report.org),
            cases=report.org.cases,
            charts=svgs,
            ranking=ranking_rows,
            units=units,
            categories=categories,
            overdue=overdue,
            rate_keys=RATE_KEYS,
            definitions=DEFINITIONS,
            font_face=FONT_FACE_SLOT,
        )
    )
    # The page's own characters decide the font subset it carries (see reports.fonts).
    return page.replace(FONT_FACE_SLOT, font_face_css(page), 1)


def write(report: Report, fmt: str) -> str:
    if fmt == "json":
        return write_json(report)
    if fmt == "csv":
        return write_csv(report)
    if fmt == "html":
        return write_html(report)
    raise ValueError(f"unknown report format {fmt!r}: use html, csv or json")


def write_chunks(report: Report, fmt: str) -> Iterator[str]:
    """`write(report, fmt)` in pieces that join to the same text. A yearly JSON report of
    a district is close to 200 MB: written piece by piece it is never held whole, nor
    encoded whole, which halves the command's peak memory."""
    if fmt != "json":
        yield write(report, fmt)
        return
    out: list[str] = []
    try:
        _dump(to_json(report), "\n", out)
    except _Unsupported:
        yield write_json(report)
        return
    yield from out
