"""An asyncio event loop in a daemon thread, for the stand-ins' synchronous users (the CLI, the
local pipeline, tests): ``run(coroutine)`` waits for its result; ``close()`` stops the loop and
joins the thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundLoop:
    def __init__(self, name: str) -> None:
        self.loop: asyncio.AbstractEventLoop | None = asyncio.new_event_loop()
        self._thread: threading.Thread | None = threading.Thread(
            target=self.loop.run_forever, name=name, daemon=True
        )
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        assert self.loop is not None, "the loop is closed"
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout)

    def close(self) -> None:
        if self.loop is None:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.loop.close()
        self.loop = None
        self._thread = None
