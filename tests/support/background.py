"""Serving a stand-in from its own thread and event loop, like a remote host."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Self

from aiohttp import web


class BackgroundServer:
    """Serves an aiohttp app from its own thread and event loop.

    A stand-in in the test's own loop would hang whenever the code under test makes a blocking call
    (PyJWKClient, requests, subprocess.run of the CLI); in its own thread it behaves like a remote host.
    """

    def __init__(self, make_app: Callable[[], web.Application], *, host: str = "127.0.0.1") -> None:
        self._make_app = make_app
        self._host = host
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """http://host:port without a trailing slash."""
        if self._port is None:
            raise RuntimeError("the server is not started")
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        """Start the thread and bind a free port."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="standin-http", daemon=True)
        self._thread.start()
        self._port = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._serve(), self._loop))

    async def _serve(self) -> int:
        self._runner = web.AppRunner(self._make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        return self._runner.addresses[0][1]

    async def close(self) -> None:
        """Stop serving and end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 5)
        loop.close()
        self._loop = self._thread = self._runner = None
        self._port = None


class ServedInBackground:
    """Lifecycle of a stand-in whose HTTP server is `self._server` (a BackgroundServer)."""

    _server: BackgroundServer

    async def start(self) -> None:
        """Start listening on 127.0.0.1 on a free port."""
        await self._server.start()

    async def close(self) -> None:
        """Stop listening."""
        await self._server.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
