"""The core: one inbound event in, one committed transaction (or none) out.

The adapter calls `Core.handle` for every update. The update id is recorded in the same
transaction as its effects, so a redelivered update (a crash before the platform heard our
acknowledgement) is recognised and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons, commands, conversation, feedback, intake, subscriptions
from handlers.context import Services, Tx
from handlers.events import InboundEvent, Reply
from storage import conversations, updates
from storage.models import Conversation
from triage.classifier import Triage

log = logging.getLogger(__name__)


async def first_delivery(session: AsyncSession, event: InboundEvent, tx: Tx) -> bool:
    """Record the update id; False if it was already handled."""
    if event.update_id is None:
        return True
    return await updates.first_delivery(session, event.platform, event.update_id, tx.now)


class Core:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.handling = 0
        # Work a handler left for after its commit (a /stats answer), one at a time so that
        # several heavy questions never crowd out the updates.
        self.jobs: set[asyncio.Task[None]] = set()
        self._one_job = asyncio.Semaphore(1)

    @property
    def in_flight(self) -> int:
        """Updates being handled and jobs they left, still running."""
        return self.handling + len(self.jobs)

    async def handle(self, event: InboundEvent) -> Reply:
        self.handling += 1
        try:
            return await self._handle(event)
        finally:
            self.handling -= 1

    def _start_job(self, job: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            async with self._one_job:
                try:
                    await job()
                except Exception:
                    log.exception("a job left by an update failed; its answer is lost")

        task = asyncio.create_task(run(), name="after-commit")
        self.jobs.add(task)
        task.add_done_callback(self.jobs.discard)

    async def stop(self) -> None:
        """Cancel the jobs still running (the service is stopping)."""
        for task in list(self.jobs):
            task.cancel()
        for task in list(self.jobs):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pretriage(self, event: InboundEvent) -> dict[tuple[str, bool], Triage]:
        """Ask the slow triage (if configured) before the transaction, so a model's latency
        never holds a database lock."""
        triage_async = self.services.triage_async
        if triage_async is None or event.is_button or event.command not in (None, "report"):
            return {}
        text = intake.report_text(event, self.services.bot_username)
        addressed = event.reply_to_bot or event.mentions_bot or event.command == "report"
        if not text:
            return {}
        return {(text, addressed): await triage_async(text, addressed=addressed)}

    async def _handle(self, event: InboundEvent) -> Reply:
        services = self.services
        pretriaged = await self._pretriage(event)
        admins = await subscriptions.ask_admins(services, event)  # the platform, not the db
        async with services.sessions() as session, session.begin():
            tx = Tx(
                session=session,
                now=services.clock.now(),
                services=services,
                pretriaged=pretriaged,
                admins=admins,
            )
            if not await first_delivery(session, event, tx):
                log.info("update %s already handled; ignoring", event.update_id)
                return Reply(handled=False)
            answer = await route(tx, event)
        if services.on_deadline is not None:
            for case_id, due in tx.deadlines:
                await services.on_deadline(case_id, due)
        if services.on_order_deadline is not None:
            for target_id, due in tx.order_deadlines:
                await services.on_order_deadline(target_id, due)
        if tx.sent:
            services.on_outbox()
        for job in tx.after_commit:
            self._start_job(job)
        return answer


async def pending_conversation(tx: Tx, event: InboundEvent) -> Conversation | None:
    if event.user_id is None:
        return None
    row = await conversations.waiting(tx.session, event.chat_id, event.user_id)
    if row is not None and row.expires_at < tx.now:
        await conversation.forget(tx, row)
        return None
    return row


async def route(tx: Tx, event: InboundEvent) -> Reply:
    """Decide what the event is: a press, an answer, a command, a report, or chatter."""
    if event.is_button:
        return await buttons.on_press(tx, event)
    if event.user_id is None:
        if event.command == "subscribe":  # a channel post: say how to subscribe a channel
            await subscriptions.anonymous(tx, event)
            return Reply()
        return Reply(handled=False)  # channel posts and anonymous admins: nothing to do
    pending = await pending_conversation(tx, event)
    if event.command is not None and event.command != "report":
        handler = commands.COMMANDS.get(event.command)
        if handler is not None:
            await handler(tx, event)
        elif event.is_private or event.mentions_bot or "@" in (event.text.split() or [""])[0]:
            await intake.reply(tx, event, "unknown_command", command=event.command)
        return Reply()
    if pending is not None and event.command is None:
        if pending.action == "choose_place":
            if event.location is not None:
                payload = dict(pending.payload)
                payload["location"] = list(event.location)
                grid = tx.org.grid_for_location(*event.location)
                if grid is not None:
                    await intake.file_from_pending(tx, event, payload, grid)
                else:
                    await intake.ask_place(tx, event, payload)
                return Reply()
            # New words replace the pending report: treat them as a fresh report below.
        elif pending.action == "feedback_reason":
            # In a group a resident's next words may be a new report: only a reply to the
            # bot's question (or anything in a private chat) is the reason.
            if event.is_private or event.reply_to_bot:
                await feedback.on_reason(tx, event, pending, event.text.strip())
                return Reply()
        else:
            await conversation.on_answer(tx, event, pending)
            return Reply()
    addressed = event.reply_to_bot or event.mentions_bot or event.command == "report"
    grid = tx.org.grid_for_chat(event.chat_id)
    if grid is not None:
        await intake.report_in_group(tx, event, grid, addressed)
    elif event.is_private:
        await intake.report_in_private(tx, event)
    elif event.chat_id in tx.org.staff_chats:
        if event.command == "report":
            await intake.reply(tx, event, "staff_chat_no_reports")
    elif addressed:
        await intake.reply(tx, event, "unknown_chat", chat_id=event.chat_id)
    return Reply()
