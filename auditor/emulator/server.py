"""Running the emulator: in a background thread (tests, in-process) or in the foreground."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from auditor.emulator.app import Emulator
from auditor.emulator.config import EmulatorConfig
from auditor.emulator.counters import Counters
from auditor.fleet import Fleet

SHUTDOWN_TIMEOUT_S = 0.5


async def start_site(emulator: Emulator, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Start serving ``emulator`` on ``host:port`` (0: any free port); returns the runner and URL."""
    runner = web.AppRunner(emulator.app(), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


async def serve_until(
    emulator: Emulator,
    host: str,
    port: int,
    ready: Callable[[str], None],
    stopped: Callable[[], Awaitable[object]],
) -> None:
    """Serve until ``stopped()`` returns, calling ``ready(url)`` once the socket is bound."""
    runner, url = await start_site(emulator, host, port)
    try:
        ready(url)
        await stopped()
    finally:
        await runner.cleanup()


class EmulatorServer:
    """The emulator on ``127.0.0.1:<free port>`` in a daemon thread with its own event loop.

    Use as a context manager (``with EmulatorServer(fleet) as server:``) or call
    ``start()``/``stop()``. ``endpoint_url`` is valid once started; ``start()`` raises
    whatever the server raised while binding.
    """

    def __init__(
        self,
        fleet: Fleet,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.counters = Counters()
        self.emulator = Emulator(fleet, self.config, self.counters)
        self._host = host
        self._port = port
        self._url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    @property
    def endpoint_url(self) -> str:
        if self._url is None:
            raise RuntimeError("EmulatorServer is not running")
        return self._url

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("EmulatorServer already started")
        self._thread = threading.Thread(target=self._run, name="auditor-emulator", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            raise self._failure
        return self

    def stop(self) -> None:
        """Stop serving and join the thread; safe to call twice."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop_event.set)
        thread.join()
        self._thread = None
        self._url = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # handed to start(), which re-raises it
            self._failure = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()

        def ready(url: str) -> None:
            self._url = url
            self._ready.set()

        await serve_until(self.emulator, self._host, self._port, ready, self._stop_event.wait)
