"""/stats [scope] [period]: the indicators of a unit or category as a short table and a chart.

Scope is a unit (id or name) or a category (code or name); period as in `reports.periods`
(default: the last 7 days), in either order. Leaders and admins may ask about anything and
get the whole org by default; other staff get their own unit by default and may ask only
about their units and what is under them; residents are refused.

Reading the record and drawing the chart take a while (seconds for a year of a district:
see BENCHMARKS.md, "Reports"), so the command's transaction only checks the question and
answers refusals; the figures are worked out after the commit, by a job the core runs
beside the updates (`Tx.after_commit`), and the answer is written in a transaction of its
own. So that a crash in between loses nothing silently, the command's transaction also
leaves a stand-in reply, due `ANSWER_GRACE` later, saying the figures could not be worked
out; the answer replaces it, and only if the answer never comes does the asker get it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Tx
from handlers.events import InboundEvent
from org.view import OrgView, PersonView
from reports import i18n
from reports.indicators import RATE_KEYS, descendants, load_records
from reports.periods import Period, PeriodError, looks_like_period, parse_period, period_name
from reports.report import Scope, ScopeError, resolve_scope, scope_indicators
from storage.outbox import OutgoingMessage, enqueue, replace_pending
from templates.render import Renderer

log = logging.getLogger(__name__)

DEFAULT_PERIOD = "week"
# How long an answer may take before the stand-in "could not be worked out" goes instead:
# well beyond a year of a district behind a queue of such questions (BENCHMARKS.md).
ANSWER_GRACE = timedelta(minutes=15)
# Whose own unit is the default scope, when a person belongs to several: the widest.
LEVEL_ORDER = ("leadership", "street", "department", "community", "grid")


@dataclass(frozen=True)
class StatsAnswer:
    """What to say: a template and its context, and the chart when there is one."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    photo: bytes | None = None


def own_scope(org: OrgView, person: PersonView) -> Scope | None:
    units = [org.units[u] for u in person.units if u in org.units]
    if not units:
        return None
    unit = min(
        units,
        key=lambda u: (LEVEL_ORDER.index(u.level) if u.level in LEVEL_ORDER else 9, u.id),
    )
    return Scope("unit", unit.id, unit.name)


def may_see(org: OrgView, person: PersonView, scope: Scope) -> bool:
    if person.is_leader:
        return True
    if scope.kind != "unit":
        return False
    return any(scope.key in descendants(org, unit) for unit in person.units)


def parse_args(args: str) -> tuple[str | None, str]:
    """(period spelling or None, scope words) from the command's arguments."""
    period: str | None = None
    words: list[str] = []
    for token in args.split():
        if period is None and looks_like_period(token):
            period = token
        else:
            words.append(token)
    return period, " ".join(words)


@dataclass(frozen=True)
class StatsQuery:
    """A /stats question that passed every check: what to compute, for whom."""

    scope: Scope
    period: Period


def check(org: OrgView, event: InboundEvent, now: datetime) -> StatsAnswer | StatsQuery:
    """Who asks, about what and when — cheap, so it runs in the command's transaction; a
    refusal is the answer, anything else is a query to compute afterwards."""
    person = org.person(event.user_id)
    if person is None or not person.is_staff:
        return StatsAnswer("stats_staff_only")
    period_spec, scope_text = parse_args(event.command_args)
    try:
        period = parse_period(period_spec or DEFAULT_PERIOD, now, org.timezone)
    except PeriodError as exc:
        return StatsAnswer("stats_bad_period", {"period": exc.spec, "code": exc.code})
    if scope_text:
        try:
            scope = resolve_scope(org, scope_text)
        except ScopeError:
            return StatsAnswer("stats_unknown_scope", {"scope": scope_text})
    else:
        found = Scope("org", "", org.name) if person.is_leader else own_scope(org, person)
        if found is None:
            return StatsAnswer("stats_staff_only")
        scope = found
    if not may_see(org, person, scope):
        return StatsAnswer("stats_not_allowed", {"scope": scope.name})
    return StatsQuery(scope, period)


async def figures_of(
    session: AsyncSession, org: OrgView, r: Renderer, query: StatsQuery
) -> StatsAnswer:
    """The table and the chart. The arithmetic over a year of cases and the drawing run in
    a thread, so the event loop (other people's updates) keeps going meanwhile."""
    scope, period = query.scope, query.period
    records = await load_records(session, period.start, period.end)
    indicators = await asyncio.to_thread(scope_indicators, records, org, scope)
    start, end = period.local_bounds()
    figures = indicators.figures()
    rows = {
        key: f"{i18n.percent(indicators.rate(key))} "
        f"({len(indicators.fractions[key].numerator)}/{len(indicators.fractions[key].denominator)})"
        for key in RATE_KEYS
    }
    context: dict[str, Any] = {
        "scope": scope.name,
        "period": period_name(period.spec, r.language),
        "start": start,
        "end": end,
        "cases": indicators.cases,
        "rows": rows,
        "mtta": i18n.duration(figures["mtta_s"], r.language),
        "mtta_p90": i18n.duration(figures["mtta_p90_s"], r.language),
        "mttr": i18n.duration(figures["mttr_s"], r.language),
        "mttr_p90": i18n.duration(figures["mttr_p90_s"], r.language),
    }
    if not indicators.cases:
        return StatsAnswer("stats", context)
    from reports.charts import bar_chart

    words = i18n.text(r.language)
    rates = [indicators.rate(k) for k in RATE_KEYS]
    photo = await asyncio.to_thread(
        bar_chart,
        f"{scope.name} · {period_name(period.spec, r.language)}",
        [words[k] for k in RATE_KEYS],
        [None if v is None else 100 * v for v in rates],
    )
    return StatsAnswer("stats", context, photo)


async def compute_answer(
    session: AsyncSession, org: OrgView, r: Renderer, event: InboundEvent, now: datetime
) -> StatsAnswer:
    """The whole answer to one /stats command, checks and figures (the benchmark's entry)."""
    checked = check(org, event, now)
    if isinstance(checked, StatsAnswer):
        return checked
    return await figures_of(session, org, r, checked)


def _message(r: Renderer, event: InboundEvent, answer: StatsAnswer) -> OutgoingMessage:
    """The reply to a /stats command. One key whatever it says, so that the answer can take
    the place of the stand-in written with the command."""
    return OutgoingMessage(
        key=f"reply:{event.chat_id}:{event.message_id}:stats",
        chat_id=event.chat_id,
        text=r.render(answer.template, **answer.context),
        reply_to_message_id=event.message_id,
        photo=answer.photo,
    )


async def command(tx: Tx, event: InboundEvent) -> None:
    """A refusal is answered at once; the figures are worked out after the commit (see
    `Tx.after_commit`), so a year of a district's cases never holds a lock or the updates
    queued behind this one. If the answer never comes (a crash, an error), the stand-in
    written here tells the asker to ask again."""
    checked = check(tx.org, event, tx.now)
    if isinstance(checked, StatsAnswer):
        await tx.send(_message(tx.r, event, checked))
        return
    services = tx.services
    stand_in = _message(tx.r, event, StatsAnswer("stats_failed"))
    await enqueue(tx.session, stand_in, tx.now, not_before=tx.now + ANSWER_GRACE)

    async def answer() -> None:
        r = services.renderer
        try:
            async with services.sessions() as session:
                found = await figures_of(session, services.org, r, checked)
        except Exception:
            log.exception("/stats in chat %s could not be worked out", event.chat_id)
            found = StatsAnswer("stats_failed")
        message = _message(r, event, found)
        now = services.clock.now()
        async with services.sessions() as session, session.begin():
            if not await replace_pending(session, message, now):
                # The stand-in already went (the answer took longer than the grace).
                await enqueue(session, replace(message, key=f"{message.key}:late"), now)
        services.on_outbox()

    tx.after_commit.append(answer)
