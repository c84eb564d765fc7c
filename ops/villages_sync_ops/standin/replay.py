"""A recorded calendar served back: each request answered as the recording answered it.

The recording is a VCR.py cassette (``calendar record``) or a run's raw pages (``runs
capture``): ``recordings.load_recording`` tells them apart.

Requests match on method, path and query (the host of the recording does not matter, so a
scrape of the real site's three hosts replays under one base URL, as the stand-in does).
A request recorded N times is answered N times, in recorded order (a 500 then its retried
200); after that, and for a request the recording never saw, a 404 naming the request: what
a server does for a page it does not have, so a sync reports a calendar problem.
Binds 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import defaultdict, deque
from pathlib import Path

from aiohttp import web
from yarl import URL

from villages_sync_ops.calendar_api.cassettes import Interaction, RecordedAnswer
from villages_sync_ops.calendar_api.recordings import load_recording

# Recomputed by the server for the body it sends, or describing a connection that is gone.
_NOT_REPLAYED = frozenset(
    {"content-length", "transfer-encoding", "content-encoding", "connection", "date", "server"}
)

RequestKey = tuple[str, str, tuple[tuple[str, str], ...]]


def request_key(method: str, url: URL) -> RequestKey:
    return method.upper(), url.path, tuple(sorted(url.query.items()))


class ReplayCalendar:
    """``await start()`` returns its base URL; ``await stop()`` ends it."""

    def __init__(self, interactions: list[Interaction]) -> None:
        self.answers: dict[RequestKey, deque[RecordedAnswer]] = defaultdict(deque)
        for interaction in interactions:
            key = request_key(interaction.method, URL(interaction.uri))
            self.answers[key].append(interaction.answer)
        self.unmatched: list[str] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    @classmethod
    def from_file(cls, path: Path) -> ReplayCalendar:
        return cls(load_recording(path))

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if host != "127.0.0.1":
            raise ValueError("the replay binds 127.0.0.1 only")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _answer(self, request: web.Request) -> web.Response:
        queue = self.answers.get(request_key(request.method, request.rel_url))
        if not queue:
            what = f"{request.method} {request.rel_url}"
            self.unmatched.append(what)
            seen = "answered as often as recorded" if queue is not None else "not recorded"
            return web.Response(status=404, text=f"replay: {what} {seen}\n")
        answer = queue.popleft()
        headers = [(k, v) for k, v in answer.headers if k.lower() not in _NOT_REPLAYED]
        response = web.Response(status=answer.status, body=answer.body)
        for name, value in headers:
            response.headers.add(name, value)
        return response


class RunningReplay:
    """``with RunningReplay(path) as base_url:`` a replay on its own loop in a thread."""

    def __init__(self, path: Path, *, port: int = 0) -> None:
        self.replay = ReplayCalendar.from_file(path)  # a bad cassette fails here, before a port
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self.replay.start(port=self._port), self._loop)
        try:
            return future.result(timeout=30)
        except BaseException:
            self._shut()
            raise

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.replay.stop(), self._loop).result(timeout=30)
        self._shut()

    def _shut(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()


def serve_replay(path: Path, interactions: list[Interaction], port: int) -> None:
    """Serve a recording's interactions on 127.0.0.1:``port`` until interrupted."""

    async def run() -> None:
        replay = ReplayCalendar(interactions)
        recorded = sum(len(q) for q in replay.answers.values())
        base_url = await replay.start(port=port)
        print(
            f"replaying {path} ({recorded} recorded answers) at {base_url} (Ctrl-C to stop)",
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            await replay.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
