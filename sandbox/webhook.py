"""Webhook delivery: the sandbox POSTs queued updates to the URL given to ``setWebhook``.

Telegram, once a webhook is set, stops answering ``getUpdates`` and instead POSTs each update
to the URL, one at a time per bot and in order, with the ``X-Telegram-Bot-Api-Secret-Token``
header; it forgets an update only when the bot answers 2xx and otherwise retries it later.
The sandbox does the same so the bot's webhook mode is tested against the behaviour it has
to survive: redelivery after a 500, a refused connection, a lost acknowledgement. The
back-off is a parameter (tiny in tests) and the number of tries is bounded, after which the
update is dropped and recorded, so a broken bot cannot stall a test forever.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from urllib.parse import urlsplit

import aiohttp

from sandbox.state import JSONDict, SandboxState

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def is_local_url(url: str) -> bool:
    """True for ``http(s)://`` URLs on a loopback host.

    The sandbox only ever delivers to the machine it runs on: it is a test and demo tool and
    must not send people's updates across the internet. For the same reason it accepts plain
    ``http://`` for such URLs, where Telegram would insist on HTTPS.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class WebhookDeliverer:
    """Delivers the state's pending updates to its webhook URL, one at a time, in order."""

    def __init__(
        self,
        state: SandboxState,
        *,
        retry_delay: float = 0.05,
        max_tries: int = 5,
        timeout: float = 30.0,
    ) -> None:
        """``retry_delay`` seconds pass between tries of one update (Telegram waits longer and
        longer; tests want it short); after ``max_tries`` failed tries the update is dropped.
        ``timeout`` bounds one POST, like Telegram's own wait for the bot's answer."""
        if max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        self.state = state
        self.retry_delay = retry_delay
        self.max_tries = max_tries
        self.timeout = timeout
        #: Every POST made, in order: ``(update_id, status)``.
        self.deliveries: list[tuple[int, int | None]] = []
        #: Ids of updates given up on after ``max_tries`` failed tries.
        self.dropped: list[int] = []
        self._lose_acks = 0
        self._tries: tuple[int, int] | None = None  # (update_id, failed tries so far)

    def lose_next_acks(self, count: int = 1) -> None:
        """Treat the next ``count`` 2xx answers as lost (as if the connection broke after the
        bot answered), so the same update is delivered again."""
        if count < 1:
            raise ValueError("count must be at least 1")
        self._lose_acks += count

    async def run(self) -> None:
        """Deliver forever; cancel the task to stop."""
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                update = self._next_deliverable()
                if update is None:
                    # Nothing to do until something changes (an update, a new URL).
                    await self.state.signal.wait(3600.0)
                    continue
                await self._deliver(http, update)

    def _next_deliverable(self) -> JSONDict | None:
        state = self.state
        if not state.webhook_url:
            return None
        update = state.next_update()
        if update is None:
            return None
        if not is_local_url(state.webhook_url):
            refusal = "sandbox delivers webhooks only to local addresses"
            if state.webhook_last_error_message != refusal:
                state.webhook_last_error_date = int(state.clock())
                state.webhook_last_error_message = refusal
                state.touch(visible=False)  # for waiters; unchanged next time, so no loop
            return None
        return update

    async def _deliver(self, http: aiohttp.ClientSession, update: JSONDict) -> None:
        state = self.state
        update_id = int(update["update_id"])
        headers = {"Content-Type": "application/json"}
        if state.webhook_secret:
            headers[SECRET_HEADER] = state.webhook_secret
        status: int | None = None
        error: str | None = None
        try:
            async with http.post(
                state.webhook_url, data=json.dumps(update).encode(), headers=headers
            ) as response:
                status = response.status
                await response.read()
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason or ''}"
        except TimeoutError:
            error = "Read timeout expired"
        except (aiohttp.ClientError, OSError) as exc:
            error = f"Connection failed: {exc}"
        self.deliveries.append((update_id, status))
        if error is None and self._lose_acks:
            self._lose_acks -= 1
            error = "Read timeout expired"
        if error is None:
            self._tries = None
            state.confirm_update(update_id)
            return
        state.webhook_last_error_date = int(state.clock())
        state.webhook_last_error_message = error.strip()
        tries = (self._tries[1] if self._tries and self._tries[0] == update_id else 0) + 1
        if tries >= self.max_tries:
            log.warning("webhook: update %s dropped after %s tries (%s)", update_id, tries, error)
            self._tries = None
            self.dropped.append(update_id)
            state.confirm_update(update_id)
            return
        self._tries = (update_id, tries)
        state.touch(visible=False)
        await asyncio.sleep(self.retry_delay)
