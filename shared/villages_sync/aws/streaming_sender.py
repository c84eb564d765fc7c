"""The producer's sender: SendMessageBatch calls made in order, one at a time in a worker
thread, while the event loop goes on fetching and normalising the calendar's pages. Apart from
``queue`` so that the functions that only send sweep requests do not import asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable


class StreamingSender:
    """Sends calls in order, one at a time in a worker thread, while the event loop goes on
    fetching and normalising. ``send(bodies)`` returns the SendMessageBatch calls it made."""

    def __init__(self, send: Callable[[list[str]], int], started: float) -> None:
        self.send = send
        self.started = started
        self.waiting: deque[list[str]] = deque()
        self.task: asyncio.Task[None] | None = None
        self.calls = 0
        self.first_sent_seconds: float | None = None

    def push(self, batches: list[list[str]]) -> None:
        self.waiting.extend(batch for batch in batches if batch)
        if self.task is not None and self.task.done():
            self.task.result()  # a failed send fails the run here
            self.task = None
        if self.waiting and self.task is None:
            self.task = asyncio.ensure_future(self._send_waiting())

    async def wait_below(self, count: int) -> None:
        while len(self.waiting) > count and self.task is not None:
            await asyncio.shield(self.task)  # shielded: a cancelled page must not stop sends
            self.push([])

    async def drain(self) -> None:
        while self.task is not None:
            await asyncio.shield(self.task)
            self.push([])

    async def stop(self) -> None:
        self.waiting.clear()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.task)

    async def _send_waiting(self) -> None:
        while self.waiting:
            batch = self.waiting.popleft()
            self.calls += await asyncio.to_thread(self.send, batch)
            if self.first_sent_seconds is None:
                self.first_sent_seconds = round(time.monotonic() - self.started, 3)
