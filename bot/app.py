"""Wiring: the running service assembled from its parts.

`GridcallApp` owns the database engine, the aiogram bot, and three loops — polling, the
deadline scheduler and the outbox sender. In webhook mode an HTTP server (see
`bot.telegram.webhook`) takes the poller's place, so that several workers can share one
address. Tests build it with a fake clock and no rate limits and call `settle()` to wait
until everything that can happen now has happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import metrics
from bot.outbox_sender import FailedDelivery, OutboxSender, SendLimits
from bot.telegram.chats import AiogramChatDirectory
from bot.telegram.polling import ALLOWED_UPDATES, Poller
from bot.telegram.router import build_router
from bot.telegram.transport import AiogramTransport
from bot.telegram.webhook import WEBHOOK_PATH, WebhookServer, secret_problem
from escalation.batch import PreparedBatch, fire_batch, prepare_batch
from escalation.clock import Clock, SystemClock
from escalation.daily import DailyRunner
from escalation.engine import fire_due
from escalation.orders import fire_due as fire_order_due
from escalation.redis_index import FailoverDeadlineIndex, RedisDeadlineIndex
from escalation.scheduler import DeadlineIndex, MemoryDeadlineIndex, Scheduler
from handlers.context import Services
from handlers.core import Core
from handlers.delivery import on_delivery_failed
from handlers.digest import digest_runner
from handlers.notify import CaseNotifier
from handlers.orders import OrderMessages
from org.file import OrgConfig
from storage import cases
from storage import orders as order_store
from storage.db import create_engine, migrate, sessionmaker
from storage.org_import import import_org, load_view
from templates.render import Renderer
from triage.classifier import classify
from triage.llm import LLMConfig, LLMTriager

log = logging.getLogger(__name__)


@dataclass
class AppConfig:
    token: str
    api_url: str
    database_url: str
    redis_url: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    limits: SendLimits = field(default_factory=SendLimits)
    poll_timeout: int = 25
    llm: LLMConfig | None = None
    # "polling": one worker asks Telegram for updates. "webhook": Telegram POSTs them to
    # `listen_host:listen_port` + /webhook/telegram, so several workers can share one address.
    mode: Literal["polling", "webhook"] = "polling"
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080  # 0: any free port (see GridcallApp.webhook_port)
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_url: str | None = None  # registered with setWebhook at start when set
    # Namespace of this bot's Redis keys, so two bots (or test runs) can share one Redis.
    redis_prefix: str = "gridcall"
    # How long a sender holds an outbox row it claimed (see `Settings.outbox_lease`).
    outbox_lease: timedelta = timedelta(seconds=60)


class GridcallApp:
    def __init__(self, config: AppConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.tasks: list[asyncio.Task[None]] = []
        self.engine: AsyncEngine | None = None
        self.redis: Redis | None = None
        self.poller: Poller | None = None
        self.webhook: WebhookServer | None = None
        self.webhook_port: int | None = None
        self.digest: DailyRunner | None = None  # the morning digest, if the org file has one

    async def prepare(self, org: OrgConfig | None = None) -> None:
        """Migrate the database and load (or re-load) the org file into it."""
        self.engine = create_engine(self.config.database_url)
        await migrate(self.engine)
        self.sessions: async_sessionmaker[AsyncSession] = sessionmaker(self.engine)
        if org is not None:
            async with self.sessions() as session, session.begin():
                await import_org(session, org)

    async def _pending_deadlines(self) -> list[tuple[int, datetime]]:
        """What the deadline index is (re)built from: the cases table."""
        async with self.sessions() as session:
            return await cases.pending_deadlines(session)

    async def _pending_order_deadlines(self) -> list[tuple[int, datetime]]:
        """What the order index is (re)built from: the order targets table."""
        async with self.sessions() as session:
            return await order_store.pending_deadlines(session)

    def _order_scheduler(self) -> Scheduler:
        """A second scheduler, for orders (令): fire = one target's due step, sweep = the
        targets whose `next_due_at` passed, rebuild = from `order_targets`."""
        self.order_index: DeadlineIndex
        if self.redis is not None:
            self.order_index = FailoverDeadlineIndex(
                RedisDeadlineIndex(self.redis, key=f"{self.config.redis_prefix}:deadlines:orders"),
                rebuild=self._pending_order_deadlines,
            )
        else:
            self.order_index = MemoryDeadlineIndex()
        messages = OrderMessages(self.services)

        async def fire(target_id: int, now: datetime) -> datetime | None:
            due = await fire_order_due(self.sessions, target_id, self.services.org, now, messages)
            self.sender.wake()
            return due

        async def sweep(now: datetime) -> list[int]:
            async with self.sessions() as session:
                return await order_store.due_target_ids(session, now)

        return Scheduler(
            self.order_index,
            self.clock,
            fire,
            sweep,
            self._pending_order_deadlines,
            on_committed=self.sender.wake,
            sweep_grace=timedelta(seconds=2) if self.redis is not None else timedelta(0),
        )

    async def start(self, org: OrgConfig | None = None) -> None:
        if self.config.mode == "webhook":
            problem = secret_problem(self.config.webhook_secret)
            if problem is not None:
                raise ValueError(problem)
        await self.prepare(org)
        async with self.sessions() as session:
            view = await load_view(session)
        if view is None:
            raise RuntimeError("no org in the database: pass --config ORG.yaml")

        self.bot = Bot(
            self.config.token,
            session=AiohttpSession(api=TelegramAPIServer.from_base(self.config.api_url)),
        )
        me = await self.bot.get_me()
        self.sender = OutboxSender(
            self.sessions,
            AiogramTransport(self.bot),
            self.clock,
            self.config.limits,
            renderer=Renderer(view.language, view.timezone),
            lease=self.config.outbox_lease,
        )
        self.index: DeadlineIndex
        if self.config.redis_url:
            self.redis = Redis.from_url(self.config.redis_url)
            self.index = FailoverDeadlineIndex(
                RedisDeadlineIndex(self.redis, key=f"{self.config.redis_prefix}:deadlines:ack"),
                rebuild=self._pending_deadlines,
            )
            # Every worker of this bot shares Telegram's limits (in-process while Redis is down).
            self.sender.use_redis(
                self.redis, bot=me.id, prefix=f"{self.config.redis_prefix}:ratelimit"
            )
        else:
            self.index = MemoryDeadlineIndex()
        self.services = Services(
            sessions=self.sessions,
            clock=self.clock,
            org=view,
            classify=classify,
            bot_username=me.username or "gridcall_bot",
            on_outbox=self.sender.wake,
        )
        self.llm: LLMTriager | None = None
        if self.config.llm is not None:
            self.llm = LLMTriager(self.config.llm, classify)
            self.services.triage_async = self.llm.classify
        # Who administers a chat (subscriptions to groups and channels): Telegram knows.
        self.services.chats = AiogramChatDirectory(self.bot)
        notifier = CaseNotifier(self.services)

        async def on_failed(failed: FailedDelivery) -> None:
            # A message that can never arrive: the case moves on, the admins hear of it.
            await on_delivery_failed(self.services, failed)

        self.sender.on_failed = on_failed

        async def fire(case_id: int, now: datetime) -> datetime | None:
            due = await fire_due(self.sessions, case_id, self.services.org, now, notifier)
            self.sender.wake()
            return due

        async def sweep(now: datetime) -> list[int]:
            async with self.sessions() as session:
                return await cases.due_case_ids(session, now)

        rebuild = self._pending_deadlines

        async def fire_many(
            ids: list[int],
            now: datetime,
            on_commit: Callable[[dict[int, datetime | None]], Awaitable[None]],
        ) -> dict[int, datetime | None]:
            return await fire_batch(
                self.sessions, ids, self.services.org, now, notifier, on_commit=on_commit
            )

        async def prepare_many(ids: list[int], at: datetime) -> PreparedBatch:
            return await prepare_batch(self.sessions, ids, self.services.org, at, notifier)

        self.scheduler = Scheduler(
            self.index,
            self.clock,
            fire,
            sweep,
            rebuild,
            fire_batch=fire_many,
            prepare_batch=prepare_many,
            on_committed=self.sender.wake,
            # A shared index: an overdue case may be in another worker's hands right now.
            sweep_grace=timedelta(seconds=2) if self.redis is not None else timedelta(0),
        )
        self.services.on_deadline = self.scheduler.schedule
        restored = await self.scheduler.start()
        log.info("deadline index rebuilt: %s running deadlines", restored)
        self.order_scheduler = self._order_scheduler()
        self.services.on_order_deadline = self.order_scheduler.schedule
        restored = await self.order_scheduler.start()
        log.info("order deadline index rebuilt: %s running deadlines", restored)

        self.core = Core(self.services)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(build_router(self.core, me.id, self.services.bot_username))
        self.tasks = [
            asyncio.create_task(self.scheduler.run(), name="scheduler"),
            asyncio.create_task(self.order_scheduler.run(), name="order-scheduler"),
            asyncio.create_task(self.sender.run(), name="outbox"),
        ]
        self.digest = digest_runner(self.services, self.clock)
        if self.digest is not None:
            self.tasks.append(asyncio.create_task(self.digest.run(), name="digest"))
        if self.config.mode == "webhook":
            await self._serve_webhook()
        else:
            # A webhook left set (by webhook workers) makes getUpdates fail with 409.
            await self.bot.delete_webhook(drop_pending_updates=False)
            self.poller = Poller(self.bot, self.dispatcher, timeout=self.config.poll_timeout)
            self.tasks.append(asyncio.create_task(self.poller.run(), name="polling"))

    async def _serve_webhook(self) -> None:
        """Listen for Telegram's POSTs; no poller. The address is registered only when a URL
        is configured: with several workers, one registration (by any of them) is enough."""
        assert self.config.webhook_secret is not None  # checked in start()
        self.webhook = WebhookServer(
            self.bot,
            self.dispatcher,
            self.config.webhook_secret,
            bot_username=self.services.bot_username,
            routes=metrics.routes(self),
        )
        self.webhook_port = await self.webhook.start(
            self.config.listen_host, self.config.listen_port
        )
        log.info("serving %s on %s:%s", WEBHOOK_PATH, self.config.listen_host, self.webhook_port)
        if self.config.webhook_url:
            await self.set_webhook(self.config.webhook_url)

    async def set_webhook(self, url: str) -> None:
        """Ask Telegram to POST updates to ``url`` with our secret token. Pending updates are
        kept: they are delivered to the webhook instead of being lost."""
        await self.bot.set_webhook(
            url,
            secret_token=self.config.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        log.info("webhook registered with Telegram: %s", url)

    async def stop(self) -> None:
        # The webhook stops first: updates being handled finish (and commit) while the
        # database and the bot's session are still open. The webhook stays registered with
        # Telegram, because other workers behind the same address keep serving it.
        if self.webhook is not None:
            await self.webhook.stop()
            self.webhook = None
        if hasattr(self, "core"):
            await self.core.stop()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        if hasattr(self, "bot"):
            await self.bot.session.close()
        if self.redis is not None:
            await self.redis.aclose()
        if getattr(self, "llm", None) is not None:
            await self.llm.close()  # type: ignore[union-attr]
        if self.engine is not None:
            await self.engine.dispose()

    async def idle(self) -> bool:
        """True when nothing can happen until time moves or someone writes."""
        if self.core.in_flight or self.scheduler.busy or self.sender.busy:
            return False
        if self.order_scheduler.busy:
            return False
        if self.webhook is not None and self.webhook.in_flight:
            return False
        now = self.clock.now()
        if self.digest is not None and self.digest.due(now):  # due, or being written
            return False
        nxt = await self.index.next_due()
        if nxt is not None and nxt <= now:
            return False
        if await self.sender.has_work(now):  # due rows held back by pacing are not work
            return False
        nxt = await self.order_index.next_due()
        if nxt is not None and nxt <= now:
            return False
        async with self.sessions() as session:
            if await cases.due_case_ids(session, now, limit=1):
                return False
            if await order_store.due_target_ids(session, now, limit=1):
                return False
        return True

    async def run_forever(self) -> None:
        for task in asyncio.as_completed(self.tasks):
            await task  # a loop that dies takes the service down, loudly
