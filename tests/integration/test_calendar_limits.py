"""A hostile calendar: responses too big to hold, said up front or hidden in a gzip body.

Every kind of response has a byte limit, counted on the bytes as read (aiohttp inflates gzip
itself), so a 0.4 MB body that inflates to 400 MB ends the run with an error naming the limit,
and the client's memory stays near the limit, not near the inflated size.
"""

from __future__ import annotations

import contextlib
import logging
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from support.calendar import fast_settings
from villages_sync.calendar_api.client import CalendarError, scrape_calendar
from villages_sync.calendar_api.transport import (
    CALENDAR_PAGE_LIMIT,
    EVENTS_PAGE_LIMIT,
    TOKEN_SCRIPT_LIMIT,
)
from villages_sync.calendar_api.urls import EVENTS_PATH, SESSION_PATH, TOKEN_PATH

INFLATED_BYTES = 400 * 1024 * 1024
TOKEN_SCRIPT = b'const dp_AUTH_TOKEN = "Basic dmlsbGFnZXM6c2VjcmV0";'
PAGE = b'{"count": 1, "events": [{"id": 1, "title": "Bingo"}]}'

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """400 MB of JSON whitespace after an opening brace, gzipped: about 0.4 MB on the wire."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    block = b" " * (1024 * 1024)
    parts = [squeeze.compress(b"{")]
    parts += [squeeze.compress(block) for _ in range(INFLATED_BYTES // len(block))]
    parts.append(squeeze.compress(b"}") + squeeze.flush())
    return b"".join(parts)


def bomb(body: bytes) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    return handle


def plain(body: bytes) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    return handle


def chunked(body: bytes) -> Handler:
    """Sent without a Content-Length (chunked), so only reading finds it too big."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            for start in range(0, len(body), 1024 * 1024):
                await response.write(body[start : start + 1024 * 1024])
        return response

    return handle


def says_a_gigabyte(request_log: list[str]) -> Handler:
    """Declares 1 GB in Content-Length, then sends a few bytes: a client that trusts the
    header would wait for (or make room for) the rest."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = 1024**3
        await response.prepare(request)
        request_log.append(request.path)
        with contextlib.suppress(ConnectionResetError):
            await response.write(b"{" + b" " * 1024)
        return response

    return handle


StartHostile = Callable[[dict[str, Handler]], Awaitable[str]]


@pytest.fixture
async def start_hostile() -> AsyncIterator[StartHostile]:
    runners: list[web.AppRunner] = []

    async def start(routes: dict[str, Handler]) -> str:
        app = web.Application()
        for path, handler in {
            TOKEN_PATH: plain(TOKEN_SCRIPT),
            SESSION_PATH: plain(b"<html></html>"),
            EVENTS_PATH: plain(PAGE),
            **routes,
        }.items():
            app.router.add_get(path, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("path", "limit"),
    [(EVENTS_PATH, EVENTS_PAGE_LIMIT), (TOKEN_PATH, TOKEN_SCRIPT_LIMIT)],
    ids=["events page", "auth script"],
)
async def test_scrape_calendar_gzip_bomb_fails_naming_the_limit_in_bounded_memory(
    start_hostile: StartHostile, gzip_bomb: bytes, path: str, limit
) -> None:
    # Given a calendar whose response is 0.4 MB of gzip inflating to 400 MB
    assert len(gzip_bomb) < 0.5 * 1024 * 1024
    base_url = await start_hostile({path: bomb(gzip_bomb)})

    # When the scrape reads it, with every Python allocation traced
    tracemalloc.start()
    try:
        with pytest.raises(CalendarError) as raised:
            await scrape_calendar(fast_settings(base_url))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Then the run fails saying which limit, and held about the limit, not the 400 MB
    assert path in raised.value.url
    print(f"peak traced memory {peak / 1e6:.1f} MB")
    assert f"the {limit.kind} is larger than its limit of {limit.max_bytes} bytes" in str(
        raised.value
    )
    assert peak < 3 * limit.max_bytes, f"peak {peak / 1e6:.0f} MB"


async def test_scrape_calendar_oversized_content_length_is_refused_unread(
    start_hostile: StartHostile,
) -> None:
    # Given an events API that declares a 1 GB body
    served: list[str] = []
    base_url = await start_hostile({EVENTS_PATH: says_a_gigabyte(served)})

    # When
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(base_url))

    # Then refused on the header alone, once (a limit is not a transient failure to retry)
    assert f"Content-Length is {1024**3}" in raised.value.problem
    assert f"the events page is larger than its limit of {EVENTS_PAGE_LIMIT.max_bytes}" in (
        raised.value.problem
    )
    assert served == [EVENTS_PATH]


async def test_scrape_calendar_oversized_calendar_page_is_skipped_with_a_warning(
    start_hostile: StartHostile, gzip_bomb: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a calendar page (fetched only for its cookies) that inflates to 400 MB
    base_url = await start_hostile({SESSION_PATH: bomb(gzip_bomb)})

    # When
    with caplog.at_level(logging.WARNING):
        result = await scrape_calendar(fast_settings(base_url))

    # Then the scrape carries on without it, and the warning names the limit
    assert [e["id"] for e in result.events] == [1]
    problems = [getattr(r, "problem", "") for r in caplog.records]
    assert any(f"the {CALENDAR_PAGE_LIMIT.kind} is larger than its limit" in p for p in problems)


async def test_scrape_calendar_session_traces_see_every_body_read(
    start_hostile: StartHostile,
) -> None:
    # Given a session with a trace on the bodies it receives (as calendar check's exchange
    # log has), and an events page over its limit (uncompressed: 9 MiB of spaces)
    base_url = await start_hostile({EVENTS_PATH: chunked(b" " * (9 * 1024 * 1024))})
    seen: dict[str, int] = {}

    async def body_read(session, context, params) -> None:
        seen[params.url.path] = len(params.chunk)

    trace = aiohttp.TraceConfig()
    trace.on_response_chunk_received.append(body_read)

    # When the scrape reads through it
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), trace_configs=[trace]
    ) as session:
        with pytest.raises(CalendarError):
            await scrape_calendar(fast_settings(base_url), session=session)

    # Then the trace saw the token script and the calendar page whole, and the refused page
    # up to where reading stopped (within its limit)
    assert seen[TOKEN_PATH] == len(TOKEN_SCRIPT)
    assert seen[SESSION_PATH] == len(b"<html></html>")
    assert 0 < seen[EVENTS_PATH] <= EVENTS_PAGE_LIMIT.max_bytes
