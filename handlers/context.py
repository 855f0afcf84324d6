"""What every handler needs: the services of the running bot and the transaction in hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from escalation.clock import Clock
from org.view import OrgView
from storage.outbox import OutgoingMessage, enqueue
from templates.render import Renderer
from triage.classifier import Triage


class ClassifyFn(Protocol):
    def __call__(self, text: str, *, addressed: bool = False) -> Triage: ...


class ChatDirectory(Protocol):
    """What only the chat platform knows about its chats (implemented by the adapter)."""

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether the person administers the group or channel (False if the bot cannot
        see it)."""
        ...


@dataclass
class Services:
    """Long-lived collaborators, wired once in `bot/app.py` (or a test)."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    org: OrgView
    classify: ClassifyFn
    bot_username: str = "gridcall_bot"
    on_outbox: Callable[[], None] = lambda: None
    on_deadline: Callable[[int, datetime | None], Awaitable[None]] | None = None
    # The order scheduler's `schedule` (order target id, due): see escalation/orders.py.
    on_order_deadline: Callable[[int, datetime | None], Awaitable[None]] | None = None
    # An optional slower triage (a language model) consulted before the transaction opens.
    triage_async: Callable[..., Awaitable[Triage]] | None = None
    # Who administers which chat (a subscription to a group or channel); asked before the
    # transaction opens, like the slow triage. None: nobody counts as an administrator.
    chats: ChatDirectory | None = None

    @property
    def renderer(self) -> Renderer:
        return Renderer(self.org.language, self.org.timezone)


@dataclass
class Tx:
    """One database transaction of one handler: every write, event and outgoing message of a
    state change goes through it and commits (or not) together."""

    session: AsyncSession
    now: datetime
    services: Services
    deadlines: list[tuple[int, datetime | None]] = field(default_factory=list)
    # (order target id, next due): indexed by the order scheduler after the commit.
    order_deadlines: list[tuple[int, datetime | None]] = field(default_factory=list)
    sent: int = 0
    pretriaged: dict[tuple[str, bool], Triage] = field(default_factory=dict)
    # (chat id, user id) -> administers it: the platform's answers, asked before the
    # transaction (see handlers.subscriptions.ask_admins).
    admins: dict[tuple[int, int], bool] = field(default_factory=dict)
    # Work to start once this transaction has committed, beside the updates (the figures
    # of a /stats answer): it must not hold the transaction, and may be lost in a crash.
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def classify(self, text: str, *, addressed: bool) -> Triage:
        """The answer computed before the transaction, if any, else the local classifier."""
        found = self.pretriaged.get((text, addressed))
        return found if found is not None else self.services.classify(text, addressed=addressed)

    @property
    def org(self) -> OrgView:
        return self.services.org

    @property
    def r(self) -> Renderer:
        return self.services.renderer

    async def send(self, message: OutgoingMessage) -> None:
        await enqueue(self.session, message, self.now)
        self.sent += 1
