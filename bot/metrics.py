"""Operational figures in Prometheus' text format, for a district's monitoring.

Counters are read from the running parts (core, scheduler, sender, poller, webhook) at
scrape time rather than kept twice, so a number here is always what the part itself saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import GridcallApp


def _figures(app: GridcallApp) -> Iterable[tuple[str, str, float]]:
    """(name, help, value) of every figure the running app can give."""
    core = getattr(app, "core", None)
    if core is not None:
        yield "gridcall_updates_in_flight", "Updates being handled now.", core.in_flight
    scheduler = getattr(app, "scheduler", None)
    if scheduler is not None:
        yield "gridcall_deadlines_fired_total", "Deadlines and reminders handled.", scheduler.fired
        fallbacks = getattr(scheduler.index, "fallbacks", 0)
        yield (
            "gridcall_deadline_index_fallbacks_total",
            "Times the shared deadline index (Redis) failed and the database sweep took over.",
            fallbacks,
        )
    sender = getattr(app, "sender", None)
    if sender is not None:
        yield "gridcall_outbox_sent_total", "Outbox rows delivered.", sender.sent
        yield "gridcall_outbox_failed_total", "Outbox rows given up on.", sender.failed
        yield (
            "gridcall_ratelimit_redis_fallbacks_total",
            "Times shared pacing (Redis) failed and the worker paced alone.",
            getattr(sender, "redis_fallbacks", 0),
        )
        yield "gridcall_bundles_total", "Burst bundles sent.", getattr(sender, "bundles", 0)
    webhook = getattr(app, "webhook", None)
    if webhook is not None:
        yield "gridcall_webhook_handled_total", "Webhook updates committed.", webhook.handled
        yield "gridcall_webhook_failed_total", "Webhook updates answered 500.", webhook.failed
        yield "gridcall_webhook_rejected_total", "Webhook requests refused.", webhook.rejected
    poller = getattr(app, "poller", None)
    if poller is not None:
        yield (
            "gridcall_updates_skipped_total",
            "Malformed or poison updates skipped.",
            len(poller.skipped),
        )
        yield (
            "gridcall_database_outage_retries",
            "Consecutive updates left unconfirmed because the database was down.",
            poller.outages,
        )


def render(app: GridcallApp) -> str:
    lines: list[str] = []
    for name, help_text, value in _figures(app):
        kind = "counter" if name.endswith("_total") else "gauge"
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value:g}"]
    return "\n".join(lines) + "\n"


def routes(app: GridcallApp) -> web.RouteTableDef:
    table = web.RouteTableDef()

    @table.get("/metrics")
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=render(app), content_type="text/plain", charset="utf-8")

    return table
