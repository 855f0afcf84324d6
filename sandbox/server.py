"""``SandboxServer``: a local Telegram-compatible Bot API server with a browser UI.

End-to-end tests point the real aiogram client at it and drive people's actions from Python;
``gridcall demo`` serves the same world to a person in a browser. One object owns the world
(:mod:`state`), the Bot API (:mod:`botapi`), the page (:mod:`web`) and fault injection
(:mod:`faults`), so tests configure everything in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Collection
from types import TracebackType
from typing import Any

from aiohttp import web

from sandbox.botapi import ApiRequest, BotApi
from sandbox.faults import FaultInjector, FloodLimiter
from sandbox.state import (
    DEFAULT_TOKEN,
    CallbackAnswer,
    SandboxChat,
    SandboxState,
    SandboxUser,
    SentMessage,
    as_chat_type,
)
from sandbox.web import SandboxWeb
from sandbox.webhook import WebhookDeliverer

JSONDict = dict[str, Any]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class SandboxServer:
    """The sandbox: start it, add people and chats, act as them, and inspect what the bot did."""

    #: A token the sandbox accepts; any ``digits:letters`` token works, the digits become the
    #: bot's id.
    default_token = DEFAULT_TOKEN

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "gridcall_bot",
        enforce_limits: bool = False,
        *,
        bot_first_name: str = "gridcall",
        privacy_mode: bool = False,
        now: Callable[[], float] = time.monotonic,
        clock: Callable[[], float] = time.time,
        webhook_retry_delay: float = 0.05,
        webhook_max_tries: int = 5,
    ) -> None:
        """Create a stopped server.

        ``now`` drives the flood limits (monotonic seconds) and ``clock`` the messages' Unix
        dates, so tests can control both. With ``privacy_mode`` the bot sees only commands,
        mentions and replies in groups where it is not an admin, like a Telegram bot whose
        privacy mode is on.

        Once the bot calls ``setWebhook`` with a local URL, updates are POSTed to it instead
        of waiting for ``getUpdates``; a failed delivery is retried after
        ``webhook_retry_delay`` seconds, at most ``webhook_max_tries`` times.
        """
        self.host = host
        self._requested_port = port
        self.state = SandboxState(
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            clock=clock,
            privacy_mode=privacy_mode,
        )
        self.faults = FaultInjector()
        self.limiter = FloodLimiter(now)
        self.botapi = BotApi(
            self.state, faults=self.faults, limiter=self.limiter, enforce_limits=enforce_limits
        )
        self.web = SandboxWeb(self.state)
        self.webhooks = WebhookDeliverer(
            self.state, retry_delay=webhook_retry_delay, max_tries=webhook_max_tries
        )
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        """The aiohttp application (Bot API + page), for embedding or aiohttp's test client."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        self.botapi.register(app)
        self.web.register(app)
        app.cleanup_ctx.append(self._deliver_webhooks)
        return app

    async def _deliver_webhooks(self, app: web.Application) -> AsyncIterator[None]:
        """Run webhook delivery for as long as the application runs."""
        task = asyncio.create_task(self.webhooks.run(), name="sandbox-webhooks")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def start(self) -> None:
        """Listen on ``host:port``; port 0 picks a free port (see :attr:`port`)."""
        if self._runner is not None:
            raise RuntimeError("the sandbox server is already running")
        self.state.closing = False
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Release waiting long polls and stop listening."""
        if self._runner is None:
            return
        self.state.closing = True
        self.state.touch(visible=False)
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox server is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running server (the page is at ``/``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base for ``TelegramAPIServer.from_base`` (and ``GRIDCALL_TELEGRAM_API_URL``)."""
        return self.base_url

    # -- the world ----------------------------------------------------------------------------

    @property
    def bot_id(self) -> int:
        """The bot's user id: the digits of the last token used (of the default token before)."""
        return self.state.bot_id

    @property
    def bot_username(self) -> str:
        return self.state.bot_username

    def add_user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        role_label: str = "",
        last_name: str | None = None,
        language_code: str | None = None,
        started_bot: bool = True,
    ) -> SandboxUser:
        """Add a person; ``role_label`` (e.g. ``"居民 resident"``) is shown in the page."""
        return self.state.add_user(
            SandboxUser(
                id=user_id,
                first_name=first_name,
                username=username,
                last_name=last_name,
                role_label=role_label,
                language_code=language_code,
                started_bot=started_bot,
            )
        )

    def add_chat(
        self,
        chat_id: int,
        title: str,
        type: str = "supergroup",
        members: Collection[int] = (),
        *,
        admins: Collection[int] = (),
        username: str | None = None,
        bot_is_admin: bool = True,
    ) -> SandboxChat:
        """Add a group, supergroup or channel the bot is in (private chats exist on demand)."""
        admin_ids = {int(a) for a in admins}
        return self.state.add_chat(
            SandboxChat(
                id=chat_id,
                type=as_chat_type(type),
                title=title,
                members={int(m) for m in members} | admin_ids,
                admins=admin_ids,
                username=username,
                bot_is_admin=bot_is_admin,
            )
        )

    def kick_bot(self, chat_id: int) -> None:
        """Remove the bot from a group: its sends there fail with 403 like in Telegram."""
        chat = self.state.find_chat(chat_id)
        if chat is None:
            raise KeyError(chat_id)
        chat.bot_is_member = False
        self.state.touch()

    def block_bot(self, user_id: int, blocked: bool = True) -> None:
        """The person blocks (or unblocks) the bot: private sends fail with 403."""
        self.state.user(user_id).blocked_bot = blocked
        self.state.touch()

    def user_sends(
        self,
        user_id: int,
        chat_id: int,
        text: str | None = None,
        *,
        reply_to: int | None = None,
        photo: str | None = None,
        caption: str | None = None,
        location: tuple[float, float] | None = None,
    ) -> JSONDict:
        """A person posts; returns the Telegram ``Message`` dict the bot receives.

        ``location`` is ``(longitude, latitude)``; ``photo`` is a file id (the largest size of
        the ``photo`` array carries it). Raises ``SandboxInputError`` for unknown people or
        chats and ``NotAMemberError`` for people outside the chat.
        """
        message = self.state.user_sends(
            user_id,
            chat_id,
            text,
            reply_to=reply_to,
            photo=photo,
            caption=caption,
            location=location,
        )
        return self.state.message_dict(message)

    def user_presses(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """A person presses a button (any ``data``, even forged); returns the callback query id."""
        return self.state.user_presses(user_id, chat_id, message_id, data)

    def enqueue_raw_update(self, obj: JSONDict) -> int:
        """Queue an arbitrary update; returns its ``update_id``.

        Note that aiogram parses a whole getUpdates batch at once: an update that does not
        match Telegram's schema makes every poll fail until it is confirmed.
        """
        return self.state.enqueue_update(dict(obj))

    def drain_updates(self) -> list[JSONDict]:
        """Take every pending update out of the queue, confirmed, as a test that delivers them
        itself (to several webhook workers, say) would; nothing else will deliver them."""
        pending = self.state.updates
        self.state.updates = []
        for update in pending:
            self.state.confirm_update(int(update["update_id"]))
        return pending

    def messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Every message (people's and the bot's) in send order."""
        return self.state.messages(chat_id)

    def bot_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """The bot's messages (including deleted ones, flagged) in send order."""
        return [m for m in self.state.messages(chat_id) if m.from_bot]

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """``(callback_query_id, text, show_alert)`` for every answerCallbackQuery."""
        return self.state.callback_answers

    # -- waiting ------------------------------------------------------------------------------

    def describe(self) -> str:
        """The bot's messages, pending updates and failed API calls, for failure messages."""
        failed = [r for r in self.requests if r.status != 200][-10:]
        lines = [
            self.state.describe(),
            f"pending updates: {self.pending_update_count()}",
        ]
        if failed:
            lines.append("failed Bot API calls (last 10):")
            lines += [f"  {r.method} → {r.status} {r.description}" for r in failed]
        if self.state.webhook_url or self.webhook_deliveries:
            lines.append(
                f"webhook {self.state.webhook_url or '(deleted)'}: last deliveries "
                f"{self.webhook_deliveries[-10:]}, dropped {self.webhook_dropped}, last error "
                f"{self.state.webhook_last_error_message!r}"
            )
        return "\n".join(lines)

    async def wait_for(
        self,
        predicate: Callable[[SandboxServer], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test-facing contract
    ) -> None:
        """Wait until ``predicate(server)`` holds, re-checking on every change of the sandbox.

        Raises ``TimeoutError`` describing everything the bot sent so far.
        """
        if not await self.state.wait_until(lambda: predicate(self), timeout):
            raise TimeoutError(f"condition not met within {timeout}s\n{self.describe()}")

    async def wait_for_bot_message(
        self,
        chat_id: int | None = None,
        contains: str | None = None,
        *,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - same contract as wait_for
    ) -> SentMessage:
        """The first bot message (in ``chat_id``, containing ``contains`` in its plain text)
        among those sent after the first ``after`` bot messages of that chat."""

        def match() -> SentMessage | None:
            for message in self.bot_messages(chat_id)[after:]:
                if contains is None or contains in message.plain_text:
                    return message
            return None

        await self.wait_for(lambda _: match() is not None, timeout)
        found = match()
        assert found is not None
        return found

    def pending_update_count(self) -> int:
        """Updates the bot has not confirmed with a later getUpdates offset."""
        return self.state.pending_update_count()

    async def wait_updates_consumed(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test-facing contract
    ) -> None:
        """Wait until the bot's getUpdates offset has moved past every queued update.

        With aiogram this means the updates were fetched and the next poll started; their
        handlers may still be running.
        """
        if not await self.state.wait_until(lambda: self.pending_update_count() == 0, timeout):
            raise TimeoutError(
                f"{self.pending_update_count()} update(s) not consumed within {timeout}s "
                f"(bot polling now: {self.state.active_polls > 0}, webhook: "
                f"{self.state.webhook_url or 'none'})\n{self.describe()}"
            )

    # -- faults, limits, requests -------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int = 5,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Fail the next ``count`` calls of ``method`` (``"*"``: any) with ``status``."""
        self.faults.fail_next(
            method, status, retry_after=retry_after, count=count, description=description
        )

    @property
    def webhook_deliveries(self) -> list[tuple[int, int | None]]:
        """``(update_id, HTTP status)`` of every webhook POST, in order; the status is None
        when the bot did not answer at all (connection refused, timeout)."""
        return self.webhooks.deliveries

    @property
    def webhook_dropped(self) -> list[int]:
        """Ids of updates the sandbox gave up on after ``webhook_max_tries`` failed tries."""
        return self.webhooks.dropped

    def lose_next_webhook_ack(self, count: int = 1) -> None:
        """Ignore the bot's next ``count`` 2xx webhook answers, as if the connection broke
        after the bot committed: the same update is delivered again."""
        self.webhooks.lose_next_acks(count)

    @property
    def requests(self) -> list[ApiRequest]:
        """Every Bot API request received, in order (method, params, status, description)."""
        return self.botapi.requests

    def calls(self, method: str) -> list[JSONDict]:
        """Parameters of every call of ``method`` (case-insensitive), failed ones included."""
        return [r.params for r in self.requests if r.method.lower() == method.lower()]

    @property
    def enforce_limits(self) -> bool:
        return self.botapi.enforce_limits

    @enforce_limits.setter
    def enforce_limits(self, value: bool) -> None:
        self.botapi.enforce_limits = value

    @property
    def flood_rejections(self) -> int:
        """How many sends were refused with 429 by the enforced limits."""
        return self.limiter.rejections

    def duplicates(self) -> list[tuple[int, str]]:
        """``(chat_id, text)`` the bot sent more than once (one entry per extra copy)."""
        return self.state.duplicates()

    def assert_no_duplicates(self, allowed: Collection[str] = ()) -> None:
        """Fail loudly if the bot repeated a message, except texts listed in ``allowed``."""
        repeated = [(c, t) for c, t in self.duplicates() if t not in allowed]
        if repeated:
            listing = "\n".join(f"  chat {c}: {t!r}" for c, t in repeated)
            raise AssertionError(f"the bot sent duplicate messages:\n{listing}")
