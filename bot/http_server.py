"""One aiohttp application on one port, started and stopped with the service: the webhook
(`bot/telegram/webhook.py`) and the Open311 API (`bot/open311_api.py`)."""

from __future__ import annotations

from aiohttp import web


class HttpServer:
    """Subclasses say what they serve (`build_app`); this class owns the listening.

    `shutdown_timeout` is how long requests being handled get to finish at `stop`."""

    shutdown_timeout = 10.0

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def build_app(self) -> web.Application:
        raise NotImplementedError

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port) and return the bound port."""
        runner = web.AppRunner(
            self.build_app(), access_log=None, shutdown_timeout=self.shutdown_timeout
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        """Stop listening, giving requests being handled `shutdown_timeout` to finish."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
