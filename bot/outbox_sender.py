"""The outbox sender: delivers committed messages within the platform's limits.

Rows are claimed with a lease (a crashed sender's rows are picked up again when the lease
runs out), sent through a `Transport`, and marked sent with the platform's message ids. A
long message is sent in parts and each part's id is recorded as it goes, so a retry never
repeats a part that already arrived. Time comes from the injected clock: a 429's
`retry_after` becomes the row's `not_before`, not a sleep.

**Pacing.** The sender walks chats, not rows: each chat with something due asks the
`RateLimiter` for a slot (one message per chat every 1 s / 3 s, 30 a second overall). A chat
that must wait is skipped as a whole until then, so a flooded chat never holds up the
others; when the bot's overall allowance is used up the pass stops until it frees. With
several workers the limiter is shared through Redis (`use_redis`), and falls back to this
process's own count while Redis is down.

**Bundles.** A typhoon floods a street and hundreds report at once: one card per case into
the grid's chat is bounded by 20 a minute, so the 200th case would be seen 10 minutes late.
Instead, when a chat's pacing has said "not yet" while cards were waiting, the cards due at
its next slot go out as ONE bundle message — a header ("N 个新呼") and one line per case,
each with its own 接单 button so every case stays actionable — and cards that arrive while
that bundle is still the chat's newest message are appended by editing it (an edit uses a
slot too). Only rows with a `bundle_line` are bundled — case cards, and the escalation
alerts leaders subscribed to (a line linking the case's timeline, no button); a chat
without backlog gets its messages one by one, exactly as before. A bundle is itself an
outbox row whose text is rebuilt from its members at each delivery; a revision number tells
a delivery whether it showed the latest members, so concurrent appends are never lost.

Pressing 接单 in a bundle makes the handler edit "the card" — which is the bundle message.
That edit is turned into a new message (the acknowledged card, with its next buttons, as a
reply to the bundle) and the bundle marks the case ✅, instead of the whole list being
replaced by one card.

**Failures.** A 429 waits on the clock, 5xx/timeouts back off and retry up to
`max_attempts`, a 403/400 gives up at once; a row given up on is marked failed and then
reported to `on_failed` with whether the chat itself is unreachable, so the domain can move
the case on to someone who can be reached.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from redis.asyncio import Redis
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.ratelimit import (
    FailoverRateLimiter,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    SendLimits,
    Slot,
)
from bot.splitting import LIMIT, split_html
from bot.transport import PermanentError, RetryAfter, TransientError, Transport
from escalation.clock import Clock, sleep_until_or_woken
from storage import outbox
from storage.models import Outbox
from templates.render import Renderer

__all__ = [
    "FailedDelivery",
    "MemoryRateLimiter",
    "OutboxSender",
    "RateLimiter",
    "SendLimits",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Telegram's limit for a photo's caption.
CAPTION_LIMIT = 1024
#: Room left in a bundle's 4096 characters for its header.
HEADER_ALLOWANCE = 200


@dataclass
class FailedDelivery:
    """A row the sender gave up on, for the hook that decides what its case does next.

    `unreachable` is True when the chat itself cannot be written to (the bot was removed or
    blocked, the chat is gone): the case should move on to someone who can be reached. A
    row delivered through a bundle is reported on its own, with its own case.
    """

    row_id: int
    chat_id: int
    case_id: int | None
    error: str
    unreachable: bool


OnFailed = Callable[[FailedDelivery], Awaitable[None]]


@dataclass(frozen=True)
class _BundleJob:
    """What one delivery of a bundle shows, read in the transaction that claimed it."""

    id: int
    chat_id: int
    rev: int
    message_id: int | None
    text: str
    buttons: list[Any]
    shown: list[int]
    attempts: int


class OutboxSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        clock: Clock,
        limits: SendLimits | None = None,
        *,
        limiter: RateLimiter | None = None,
        renderer: Renderer | None = None,
        on_failed: OnFailed | None = None,
        max_attempts: int = 8,
        lease: timedelta = timedelta(seconds=60),
        idle_poll: timedelta = timedelta(seconds=5),
        bundling: bool = True,
        bundle_max: int = 40,
        bundle_idle: timedelta = timedelta(minutes=2),
    ) -> None:
        """`bundle_max` cases per bundle (40 lines and buttons fit one message well);
        a bundle untouched for `bundle_idle` is not appended to any more, so a case arriving
        after a quiet spell gets a message of its own (an edit does not notify anyone)."""
        self.sessions = sessions
        self.transport = transport
        self.clock = clock
        self.limits = limits or SendLimits()
        self.limiter: RateLimiter = limiter or MemoryRateLimiter(self.limits)
        self.renderer = renderer or Renderer("zh")
        self.on_failed = on_failed
        self.max_attempts = max_attempts
        self.lease = lease
        self.idle_poll = idle_poll
        self.bundling = bundling
        self.bundle_max = bundle_max
        self.bundle_idle = bundle_idle
        self.chat_batch = 1000  # chats looked at per pass
        self.chat_turns = 20  # messages to one chat per pass, if its pacing allows
        self._wake = asyncio.Event()
        self._hints: dict[int, datetime] = {}  # chat -> not before (what the limiter said)
        self._global_wait: datetime | None = None
        self._backlog: set[int] = set()  # chats whose pacing said "not yet" with rows due
        self.busy = False
        self.sent = 0  # rows delivered (alone, or first shown in a bundle)
        self.failed = 0  # rows given up on
        self.messages = 0  # messages (parts) sent
        self.edits = 0  # messages edited (cards and bundles)
        self.bundles = 0  # bundle messages sent

    @property
    def redis_fallbacks(self) -> int:
        """How many Redis outages made this sender pace in-process."""
        limiter = self.limiter
        return limiter.fallbacks if isinstance(limiter, FailoverRateLimiter) else 0

    def use_redis(
        self, redis: Redis, *, bot: int | str, prefix: str = "gridcall:ratelimit"
    ) -> None:
        """Share the limits with every worker of this bot through Redis (with fallback)."""
        shared = RedisRateLimiter(redis, self.limits, bot=bot, prefix=prefix)
        self.limiter = FailoverRateLimiter(shared, MemoryRateLimiter(self.limits))

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            wake_at = await self.drain()
            await sleep_until_or_woken(self.clock, wake_at, self._wake)

    async def drain(self) -> datetime:
        """Send everything that may go now; returns when to look again."""
        self.busy = True
        try:
            start = self.clock.now()
            wake_at = start + self.idle_poll
            async with self.sessions() as session:
                chats = await outbox.due_chats(session, start, limit=self.chat_batch)
            for chat_id in chats:
                back = await self._serve_chat(chat_id)
                if back is not None:
                    wake_at = min(wake_at, back)
                if self._global_wait is not None and self._global_wait > self.clock.now():
                    wake_at = min(wake_at, self._global_wait)
                    break
            if len(chats) >= self.chat_batch:
                wake_at = min(wake_at, self.clock.now())
            # Read after sending: a failed row's retry time was only just written.
            async with self.sessions() as session:
                nxt = await outbox.next_due_at(session, after=start)
            if nxt is not None:
                wake_at = min(wake_at, nxt)
            return wake_at
        finally:
            self.busy = False

    async def has_work(self, now: datetime) -> bool:
        """Whether something could be sent right now (not just due but held by pacing)."""
        if self._global_wait is not None and self._global_wait > now:
            return False
        async with self.sessions() as session:
            chats = await outbox.due_chats(session, now, limit=self.chat_batch)
        return any((hint := self._hints.get(c)) is None or hint <= now for c in chats)

    # -- choosing what a chat gets -------------------------------------------------------------

    async def _serve_chat(self, chat_id: int) -> datetime | None:
        """Give one chat what its pacing allows; returns when it wants to go again."""
        for _ in range(self.chat_turns):
            now = self.clock.now()
            if self._global_wait is not None and self._global_wait > now:
                return self._global_wait
            hint = self._hints.get(chat_id)
            if hint is not None and hint > now:
                self._backlog.add(chat_id)
                return hint
            async with self.sessions() as session:
                rows = await outbox.due_rows(session, chat_id, now, limit=2 * self.bundle_max + 8)
            if not rows:
                self._backlog.discard(chat_id)
                self._hints.pop(chat_id, None)
                return None
            slot = await self.limiter.acquire(chat_id, now)
            if not slot.granted:
                self._refused(slot)
                return slot.at
            self._hints.pop(chat_id, None)
            try:
                await self._serve(chat_id, rows, slot)
            except DBAPIError as exc:
                # A deadlock or a locked SQLite file between workers racing on one chat
                # (possible only while Redis is down): what was claimed comes back when its
                # lease runs out; this chat waits a little, the others go on.
                log.warning("chat %s: database conflict while sending (%s)", chat_id, exc)
                self._hints[chat_id] = self.clock.now() + timedelta(seconds=1)
                return self._hints[chat_id]
        return self.clock.now()

    def _refused(self, slot: Slot) -> None:
        self._backlog.add(slot.chat_id)
        if slot.scope == "global":
            self._global_wait = slot.at
        else:
            self._hints[slot.chat_id] = slot.at

    def _bundleable(self, rows: Sequence[Outbox]) -> list[Outbox]:
        if not self.bundling:
            return []
        return [
            r
            for r in rows
            if r.kind == "send"
            and r.status == "pending"
            and r.bundle_line
            and not r.platform_message_ids
        ]

    async def _serve(self, chat_id: int, rows: Sequence[Outbox], slot: Slot) -> None:
        """One slot of one chat: a bundle, an append to one, or a single row."""
        first = rows[0]
        backlogged = chat_id in self._backlog
        candidates = self._bundleable(rows) if backlogged else []
        if first.kind == "bundle":
            await self._deliver_bundle(first.id, slot, candidates)
            return
        if candidates and candidates[0] is first:
            now = self.clock.now()
            async with self.sessions() as session:
                target = await outbox.open_bundle(session, chat_id)
            fresh = target is not None and (target.sent_at or target.created_at) >= (
                now - self.bundle_idle
            )
            if (
                target is not None
                and fresh
                and target.status != "failed"
                and await self._deliver_bundle(target.id, slot, candidates)
            ):
                return
            if len(candidates) >= 2 and await self._new_bundle(chat_id, candidates, slot):
                return
        await self._deliver_single(first.id, slot)

    def _fit(self, current: Sequence[Outbox], candidates: Sequence[Outbox]) -> list[Outbox]:
        """The candidates that still fit a bundle: at most `bundle_max` cases and one
        message's worth of text."""
        room = self.bundle_max - len(current)
        used = HEADER_ALLOWANCE + sum(outbox.plain_length(m.bundle_line or "") + 3 for m in current)
        take: list[Outbox] = []
        for row in candidates:
            size = outbox.plain_length(row.bundle_line or "") + 3  # newline and a ✅ later
            if len(take) >= room or used + size > LIMIT:
                break
            take.append(row)
            used += size
        return take

    # -- bundles ------------------------------------------------------------------------------

    async def _new_bundle(self, chat_id: int, candidates: Sequence[Outbox], slot: Slot) -> bool:
        """Create a bundle of the waiting cards and send it; False if others took them."""
        now = self.clock.now()
        async with self.sessions() as session:
            await session.begin()
            bundle = outbox.new_bundle(chat_id, now, self.lease)
            session.add(bundle)
            await session.flush()
            take = self._fit([], candidates)
            got = await outbox.gather(session, bundle.id, [r.id for r in take], now)
            if len(got) < 2:  # another sender took them meanwhile: not worth a bundle
                await session.rollback()
                return False
            await outbox.close_bundles(session, chat_id, keep=bundle.id)
            job = await self._prepare(session, bundle)
            await session.commit()
        await self._transmit_bundle(job, slot)
        return True

    async def _deliver_bundle(self, bundle_id: int, slot: Slot, extra: Sequence[Outbox]) -> bool:
        """Append `extra` (if the bundle is open and has room) and deliver the bundle.

        False when nothing was done (the bundle is full, or not ours to deliver and nothing
        was appended), so the caller can use the slot otherwise.
        """
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            bundle = await outbox.lock(session, bundle_id)
            if bundle is None or bundle.kind != "bundle" or bundle.status == "failed":
                return False
            appended = False
            if extra and bundle.bundle_open:
                current = [m for m in await outbox.members(session, bundle_id)]
                take = self._fit(current, extra)
                if not take:
                    bundle.bundle_open = False  # full: the next cards start a new one
                else:
                    got = await outbox.gather(session, bundle_id, [r.id for r in take], now)
                    if got:
                        outbox.touch_bundle(bundle, now)
                        appended = True
            due = (bundle.status == "pending" and bundle.not_before <= now) or (
                bundle.status == "sending"
                and bundle.claimed_until is not None
                and bundle.claimed_until <= now
            )
            if not due:
                return appended
            bundle.status = "sending"
            bundle.claimed_until = now + self.lease
            bundle.attempts += 1
            job = await self._prepare(session, bundle)
        await self._transmit_bundle(job, slot)
        return True

    async def _prepare(self, session: AsyncSession, bundle: Outbox) -> _BundleJob:
        """Render the bundle from its members, as of this transaction."""
        shown = [m for m in await outbox.members(session, bundle.id) if m.status == "bundled"]
        # Case cards carry a 接单 button; leaders' escalation alerts are lines only; a
        # residents' group gets its receipts (已受理) this way during a burst.
        kinds = [outbox.line_kind(m.bundle_kind, m.bundle_button) for m in shown]
        header = self.renderer.render(
            "bundle",
            calls=kinds.count("call"),
            alerts=kinds.count("alert"),
            receipts=kinds.count("receipt"),
        )
        text = header + "\n\n" + "\n".join(m.bundle_line or "" for m in shown)
        buttons = [b for m in shown if (b := outbox.as_buttons(m.bundle_button)) is not None]
        keyboard = [[list(b) for b in buttons[i : i + 2]] for i in range(0, len(buttons), 2)]
        bundle.text = text
        bundle.buttons = keyboard
        return _BundleJob(
            id=bundle.id,
            chat_id=bundle.chat_id,
            rev=bundle.bundle_rev,
            message_id=bundle.edit_message_id,
            text=text,
            buttons=keyboard,
            shown=[m.id for m in shown],
            attempts=bundle.attempts,
        )

    async def _transmit_bundle(self, job: _BundleJob, slot: Slot) -> None:
        try:
            if job.message_id is None:
                message_id = await self._call(
                    slot, self.transport.send_text(job.chat_id, job.text, buttons=job.buttons)
                )
            else:
                message_id = job.message_id
                await self._call(
                    slot,
                    self.transport.edit_text(
                        job.chat_id, job.message_id, job.text, buttons=job.buttons
                    ),
                )
        except RetryAfter as exc:
            await self._retry_after(job.id, job.chat_id, exc)
            return
        except TransientError as exc:
            await self._retry_or_fail(job.id, job.chat_id, None, job.attempts, str(exc), True)
            return
        except PermanentError as exc:
            if job.message_id is not None and not exc.unreachable:
                # The bundle message is gone or can no longer be edited: post it anew.
                log.warning("bundle %s: edit refused (%s); sending it again", job.id, exc)
                await self._update(
                    job.id,
                    status="pending",
                    not_before=self.clock.now(),
                    edit_message_id=None,
                    platform_message_ids=[],
                    last_error=str(exc),
                )
                return
            await self._fail(job.id, job.chat_id, None, str(exc), exc.unreachable, True)
            return
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            bundle = await outbox.lock(session, job.id)
            if bundle is None:
                return
            bundle.edit_message_id = message_id
            bundle.platform_message_ids = [message_id]
            bundle.sent_at = now
            bundle.claimed_until = None
            bundle.last_error = None
            if bundle.bundle_rev == job.rev:
                bundle.status = "sent"
            else:  # appended to meanwhile: deliver again at the next slot
                bundle.status = "pending"
                bundle.not_before = now
            if job.message_id is None:
                bundle.bundle_open = True
                await outbox.close_bundles(session, job.chat_id, keep=job.id)
            self.sent += await outbox.mark_shown(session, job.id, job.shown, now)
        if job.message_id is None:
            self.messages += 1
            self.bundles += 1
        else:
            self.edits += 1

    # -- single rows --------------------------------------------------------------------------

    async def _deliver_single(self, row_id: int, slot: Slot) -> None:
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            if not await outbox.claim(session, row_id, now, self.lease):
                return
            row = await session.get(Outbox, row_id)
            if row is None:
                return
            await session.refresh(row)  # `attempts` now counts this try
            bundle: Outbox | None = None
            if row.kind == "edit" and row.edit_message_id is not None:
                bundle = await outbox.bundle_with_message(session, row.chat_id, row.edit_message_id)
        await self._deliver(row, slot, bundle)

    async def _deliver(self, row: Outbox, slot: Slot, bundle: Outbox | None) -> None:
        """Send or edit one row. An edit aimed at a bundle is sent as a new message in reply
        to it (see the module docstring)."""
        ids = list(row.platform_message_ids or [])
        photo = row.photo if row.kind == "photo" else None
        # A photo's caption holds 1024 characters; the rest of a longer text follows it.
        parts = split_html(row.text, CAPTION_LIMIT if photo else LIMIT)
        current: Slot | None = slot
        try:
            if row.kind == "edit" and row.edit_message_id is not None and bundle is None:
                await self._call(
                    slot,
                    self.transport.edit_text(
                        row.chat_id, row.edit_message_id, parts[0], buttons=row.buttons
                    ),
                )
                self.edits += 1
            else:
                for index in range(len(ids), len(parts)):
                    if current is None:  # the next part needs a slot of its own
                        current = await self.limiter.acquire(row.chat_id, self.clock.now())
                        if not current.granted:
                            self._refused(current)
                            async with self.sessions() as session, session.begin():
                                await outbox.release(session, row.id, current.at)
                            return
                    last = index == len(parts) - 1
                    reply_to = row.reply_to_message_id
                    if bundle is not None:
                        reply_to = bundle.edit_message_id
                    if photo is not None and index == 0:
                        sending = self.transport.send_photo(
                            row.chat_id, photo, caption=parts[0], reply_to_message_id=reply_to
                        )
                    else:
                        sending = self.transport.send_text(
                            row.chat_id,
                            parts[index],
                            buttons=row.buttons if last else (),
                            reply_to_message_id=reply_to if index == 0 else None,
                            force_reply=row.force_reply and last,
                        )
                    message_id = await self._call(current, sending)
                    current = None
                    ids.append(message_id)
                    self.messages += 1
                    await self._record_part(row, ids)
        except RetryAfter as exc:
            await self._retry_after(row.id, row.chat_id, exc)
            return
        except TransientError as exc:
            await self._retry_or_fail(row.id, row.chat_id, row.case_id, row.attempts, str(exc))
            return
        except PermanentError as exc:
            await self._fail(row.id, row.chat_id, row.case_id, str(exc), exc.unreachable)
            return
        self.sent += 1
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            done = await session.get(Outbox, row.id)
            if done is not None:
                done.status = "sent"
                done.sent_at = now
                done.last_error = None
            if bundle is not None and row.case_id is not None:
                await outbox.pull_out(session, bundle.id, row.case_id, now)

    async def _record_part(self, row: Outbox, ids: list[int]) -> None:
        """Keep each part's id as it arrives; the first part of a new message also makes it
        the chat's newest, so bundles above it are no longer appended to."""
        async with self.sessions() as session, session.begin():
            current = await session.get(Outbox, row.id)
            if current is not None:
                current.platform_message_ids = list(ids)
            if len(ids) == 1:
                await outbox.close_bundles(session, row.chat_id)

    # -- helpers ------------------------------------------------------------------------------

    async def _call(self, slot: Slot, call: Awaitable[T]) -> T:
        """Make one platform request on a slot, then count it from when it finished."""
        try:
            return await call
        finally:
            await self.limiter.settle(slot, self.clock.now())

    async def _retry_after(self, row_id: int, chat_id: int, exc: RetryAfter) -> None:
        until = self.clock.now() + timedelta(seconds=exc.seconds)
        await self.limiter.block(chat_id, until)
        self._hints[chat_id] = max(until, self._hints.get(chat_id, until))
        log.warning("chat %s: flood limit, retry after %ss", chat_id, exc.seconds)
        await self._update(
            row_id, status="pending", not_before=until, claimed_until=None, last_error=str(exc)
        )

    async def _retry_or_fail(
        self,
        row_id: int,
        chat_id: int,
        case_id: int | None,
        attempts: int,
        error: str,
        bundle: bool = False,
    ) -> None:
        if attempts >= self.max_attempts:
            log.error("outbox %s to chat %s gave up after %s tries", row_id, chat_id, attempts)
            await self._fail(row_id, chat_id, case_id, error, False, bundle)
            return
        backoff = timedelta(seconds=min(300, 2 ** (attempts - 1)))
        log.warning("outbox %s: transient failure (%s), retry in %s", row_id, error, backoff)
        await self._update(
            row_id,
            status="pending",
            not_before=self.clock.now() + backoff,
            claimed_until=None,
            last_error=error,
        )

    async def _fail(
        self,
        row_id: int,
        chat_id: int,
        case_id: int | None,
        error: str,
        unreachable: bool,
        bundle: bool = False,
    ) -> None:
        """Mark the row (and a bundle's unseen members) failed, then tell `on_failed`."""
        log.error("outbox %s to chat %s failed for good: %s", row_id, chat_id, error)
        failures: list[FailedDelivery] = []
        async with self.sessions() as session, session.begin():
            row = await session.get(Outbox, row_id)
            if row is not None:
                row.status = "failed"
                row.last_error = error
                row.claimed_until = None
            if bundle:
                for member_id, member_case in await outbox.fail_members(session, row_id, error):
                    failures.append(
                        FailedDelivery(member_id, chat_id, member_case, error, unreachable)
                    )
            else:
                failures.append(FailedDelivery(row_id, chat_id, case_id, error, unreachable))
        self.failed += len(failures)
        if self.on_failed is None:
            return
        for failure in failures:
            try:
                await self.on_failed(failure)
            except Exception:  # the hook's trouble must not stop the sending
                log.exception("on_failed hook raised for outbox row %s", failure.row_id)

    async def _update(self, row_id: int, **values: object) -> None:
        async with self.sessions() as session, session.begin():
            row = await session.get(Outbox, row_id)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)
