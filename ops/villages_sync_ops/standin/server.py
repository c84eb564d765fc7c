"""A stand-in for The Villages calendar: the three paths of docs/calendar-contract.md
under one base URL.

For tests, demos and benchmarks. Binds 127.0.0.1 only. ``Faults`` (mutable while it runs)
makes it misbehave the ways the real site might: capped pages, inclusive ``endRow``, 5xx
bursts, 429 with ``Retry-After``, a rotated token, data changing mid-scrape, bad bodies,
slow answers and off-site redirects.

Over 400 lines for a reason: the three paths share one state (the events, the token, the
faults, the request log), and ``RunningCalendar`` is that same server run on a thread for
synchronous code; the tests, the demo and the benchmarks import both from here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from aiohttp import web
from villages_sync.calendar_api.urls import EVENTS_PATH, SESSION_PATH, TOKEN_PATH
from villages_sync.settings import DEFAULT_TIMEZONE

from villages_sync_ops.standin.background import BackgroundLoop
from villages_sync_ops.standin.dataset import api_order, generate_events, mutate_events

# The spellings docs/calendar-contract.md records ("Token"): dp_AUTH_TOKEN; an object literal's
# Authorization key, as written or in lower case inside a template literal; and the credential
# held in a template variable (the literal elsewhere), which a client cannot read.
TokenStyle = Literal["dp_auth", "object", "object_lower", "template_variable"]
DEFAULT_TOKEN = base64.b64encode(b"villages-calendar:stand-in").decode()
SESSION_COOKIE = "tv_calendar_session"
Mutation = Callable[[list[dict]], list[dict]] | tuple[int, int]


@dataclass
class Faults:
    """How the stand-in misbehaves. "Requests" here count requests to the events path."""

    latency_seconds: float = 0.0  # added to every events request
    page_cap: int | None = None  # most rows one page returns, whatever endRow asks
    end_row_inclusive: bool = False  # rows startRow..endRow both included
    fail_first_n: int = 0  # the first N requests answer status_for_failures
    status_for_failures: int = 500
    rate_limit_first_n: int = 0  # then the next N answer 429 with Retry-After
    retry_after_seconds: float = 1.0
    rotate_token_after_requests: int | None = None  # after N requests the token changes
    mutate_after_requests: int | None = None  # after N requests the data set changes once
    mutation: Mutation = (5, 5)  # a function of the events, or (added, removed) counts
    truncated_json: bool = False  # a body cut in half
    wrong_shape: bool = False  # {"data": [...], "total": N}
    html_body: bool = False  # an HTML error page with status 200
    empty: bool = False  # {"events": [], "count": 0}
    down: bool = False  # every path answers 503
    timeout_first_n: int = 0  # the first N requests hang for timeout_hang_seconds
    timeout_hang_seconds: float = 30.0
    redirect_offsite: bool = False  # 302 to redirect_target
    redirect_target: str = "http://offsite.invalid/events/"
    reject_all_tokens: bool = False  # 401 whatever the token
    script_without_token: bool = False  # main.js carries no credential
    count_offset: int = 0  # added to the reported count (-3: three rows served beyond it)
    clamp_past_end: bool = False  # a startRow past the last row answers the last page


class RecordedRequest(NamedTuple):
    path: str
    query: dict[str, str]
    status: int


class StandInCalendar:
    """The stand-in site. ``await start()`` returns its base URL; ``await stop()`` ends it."""

    def __init__(
        self,
        events: list[dict],
        *,
        faults: Faults | None = None,
        token: str = DEFAULT_TOKEN,
        token_style: TokenStyle = "dp_auth",
    ) -> None:
        self.faults = faults if faults is not None else Faults()
        self.token = token
        self.token_style: TokenStyle = token_style
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self.in_flight = 0
        self.max_in_flight = 0
        self.events_requests_without_cookie = 0
        self.last_events_headers: dict[str, str] = {}
        self._events: list[dict] = []
        self._events_requests = 0
        self._failures_served = 0
        self._rate_limits_served = 0
        self._hangs_served = 0
        self._rotated = False
        self._mutated = False
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.set_events(events)

    # --- control ---------------------------------------------------------------------------

    @property
    def events(self) -> list[dict]:
        return list(self._events)

    def set_events(self, events: list[dict]) -> None:
        """Replace the data set; served in API order (by start, then id)."""
        self._events = sorted(events, key=api_order)
        self._matching_cache: dict[tuple[str, ...], list[dict]] = {}

    def rotate_token(self) -> str:
        """A new token (same style); the old one is refused from now on."""
        digest = hashlib.sha256(f"{self.token}:rotated".encode()).digest()
        if self.token_style != "dp_auth":
            self.token = digest[:12].hex()
        else:
            self.token = base64.b64encode(digest[:18]).decode()
        return self.token

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if host != "127.0.0.1":
            raise ValueError("the stand-in binds 127.0.0.1 only")
        app = web.Application()
        app.router.add_get(TOKEN_PATH, self._script)
        app.router.add_get(SESSION_PATH, self._page)
        app.router.add_get(EVENTS_PATH, self._events_api)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        return self.base_url

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- the three paths -------------------------------------------------------------------

    async def _script(self, request: web.Request) -> web.StreamResponse:
        if self.faults.down:
            return self._record(request, web.Response(status=503, text="down"))
        return self._record(
            request, web.Response(text=self._script_text(), content_type="application/javascript")
        )

    def _script_text(self) -> str:
        if self.faults.script_without_token:
            credential = 'headers:{"Content-Type":"application/json"}'
        elif self.token_style == "object":
            credential = (
                f'headers:{{Authorization:"Basic {self.token}","Content-Type":"application/json"}}'
            )
        elif self.token_style == "object_lower":
            credential = f"headers:{{authorization:`Basic {self.token}`}}"
        elif self.token_style == "template_variable":
            credential = f'k="{self.token}",h={{authorization:`Basic ${{k}}`}}'

        else:
            credential = f"dp_AUTH_TOKEN = 'Basic {self.token}'"
        return (
            '!function(){"use strict";var e={apiBase:"https://api.v2.thevillages.com"},'
            f"t=function(n){{return n&&n.ok}};const {credential};"
            "window.myvillagesAuth={init:function(){return t(e)}}}();\n"
        )

    async def _page(self, request: web.Request) -> web.StreamResponse:
        if self.faults.down:
            return self._record(request, web.Response(status=503, text="down"))
        response = web.Response(
            text="<!doctype html><html><head><title>Calendar</title></head>"
            '<body><div id="app"></div></body></html>',
            content_type="text/html",
        )
        response.set_cookie(SESSION_COOKIE, secrets.token_hex(8), path="/", httponly=True)
        return self._record(request, response)

    async def _events_api(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._record(request, await self._answer_events(request))
        finally:
            self.in_flight -= 1

    async def _answer_events(self, request: web.Request) -> web.StreamResponse:
        faults = self.faults
        served_before = self._events_requests
        self._events_requests += 1
        if SESSION_COOKIE not in request.cookies:
            self.events_requests_without_cookie += 1
        self.last_events_headers = {
            k: v for k, v in request.headers.items() if k.lower() != "authorization"
        }
        if faults.latency_seconds:
            await self._pause(faults.latency_seconds)
        if faults.down:
            return web.Response(status=503, text="down")
        if faults.redirect_offsite:
            return web.Response(status=302, headers={"Location": faults.redirect_target})
        if self._hangs_served < faults.timeout_first_n:
            self._hangs_served += 1
            await self._pause(faults.timeout_hang_seconds)
            return web.Response(status=504, text="too late")
        if self._failures_served < faults.fail_first_n:
            self._failures_served += 1
            return web.Response(status=faults.status_for_failures, text="server error")
        if self._rate_limits_served < faults.rate_limit_first_n:
            self._rate_limits_served += 1
            retry_after = f"{faults.retry_after_seconds:g}"
            return web.Response(status=429, text="slow down", headers={"Retry-After": retry_after})
        self._apply_scheduled_changes(served_before)
        if (
            faults.reject_all_tokens
            or request.headers.get("Authorization") != f"Basic {self.token}"
        ):
            return web.Response(status=401, text="unauthorised")
        return self._events_body(request)

    def _apply_scheduled_changes(self, served_before: int) -> None:
        faults = self.faults
        after = faults.rotate_token_after_requests
        if after is not None and not self._rotated and served_before >= after:
            self._rotated = True
            self.rotate_token()
        after = faults.mutate_after_requests
        if after is not None and not self._mutated and served_before >= after:
            self._mutated = True
            if callable(faults.mutation):
                self.set_events(faults.mutation(self.events))
            else:
                added, removed = faults.mutation
                self.set_events(
                    mutate_events(
                        self._events, seed=served_before, added=added, removed=removed, changed=0
                    )
                )

    def _matching(self, query: Any) -> list[dict]:
        """The events a query's filters select, computed once per filter combination and data
        set: filtering every event on every page made the stand-in, not the client under test,
        the bottleneck of large scrapes (O(events) per page)."""
        key = tuple(query.get(name, "") for name in _FILTER_PARAMETERS)
        matching = self._matching_cache.get(key)
        if matching is None:
            matching = [e for e in self._events if _matches(e, query)]
            self._matching_cache[key] = matching
        return matching

    def _events_body(self, request: web.Request) -> web.StreamResponse:
        faults = self.faults
        try:
            start_row = int(request.query.get("startRow", "0"))
            end_row = int(request.query.get("endRow", str(start_row + 24)))
        except ValueError:
            return web.Response(status=400, text="startRow and endRow must be whole numbers")
        if start_row < 0 or end_row < start_row:
            return web.Response(status=400, text="bad row range")
        matching = self._matching(request.query)
        if faults.empty:
            matching = []
        stop = end_row + 1 if faults.end_row_inclusive else end_row
        if faults.clamp_past_end and matching and start_row >= len(matching):
            start_row, stop = max(0, len(matching) - (stop - start_row)), len(matching)
        rows = matching[start_row:stop]
        if faults.page_cap is not None:
            rows = rows[: faults.page_cap]
        if faults.html_body:
            return web.Response(
                text="<!DOCTYPE html><html><body>Maintenance</body></html>",
                content_type="text/html",
            )
        payload: dict[str, Any] = (
            {"data": rows, "total": len(matching)}
            if faults.wrong_shape
            else {"events": rows, "count": max(0, len(matching) + faults.count_offset)}
        )
        body = json.dumps(payload)
        if faults.truncated_json:
            body = body[: max(1, len(body) // 2)]
        return web.Response(text=body, content_type="application/json")

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the stand-in stops (so stop() never waits on a hang)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _record(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        self.requests.append(RecordedRequest(request.path, dict(request.query), response.status))
        return response


_FILTER_PARAMETERS = ("cancelled", "categories", "locationCategories")  # what _matches reads


def _matches(event: dict, query: Any) -> bool:
    if query.get("cancelled", "").lower() == "false" and event.get("cancelled"):
        return False
    categories = _csv(query.get("categories"))
    if categories and event.get("category") not in categories:
        return False
    places = _csv(query.get("locationCategories"))
    if places:
        location = event.get("location") or {}
        names = {str(location.get("category", "")).lower(), str(location.get("title", "")).lower()}
        if not names & {p.lower() for p in places}:
            return False
    return True


def _csv(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


class StandInBaseUrl(str):
    """The base URL of a running stand-in (a plain ``str`` for the client and settings), which
    also reaches the stand-in from synchronous code: ``.calendar``, ``.faults``, ``.requests``,
    ``.set_events()``."""

    calendar: StandInCalendar
    _loop: asyncio.AbstractEventLoop

    @property
    def base_url(self) -> str:
        return str(self)

    @property
    def faults(self) -> Faults:
        return self.calendar.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self.calendar.requests)

    def set_events(self, events: list[dict]) -> None:
        self._call(self.calendar.set_events, events)

    def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        async def run() -> Any:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)


class RunningCalendar:
    """``with RunningCalendar(events) as base_url:`` runs a stand-in on its own event loop in a
    background thread, for synchronous code (the CLI, the local pipeline, tests)."""

    def __init__(
        self,
        events: list[dict],
        *,
        faults: Faults | None = None,
        token: str = DEFAULT_TOKEN,
        token_style: TokenStyle = "dp_auth",
        port: int = 0,
    ) -> None:
        self._arguments = (events, faults, token, token_style)
        self._port = port
        self._background: BackgroundLoop | None = None
        self._calendar: StandInCalendar | None = None

    def __enter__(self) -> StandInBaseUrl:
        background = BackgroundLoop("stand-in-calendar")
        self._background = background
        events, faults, token, token_style = self._arguments

        async def start() -> tuple[StandInCalendar, str]:
            calendar = StandInCalendar(events, faults=faults, token=token, token_style=token_style)
            return calendar, await calendar.start(port=self._port)

        try:
            calendar, url = background.run(start())
        except BaseException:
            background.close()
            raise
        self._calendar = calendar
        handle = StandInBaseUrl(url)
        handle.calendar = calendar
        assert background.loop is not None
        handle._loop = background.loop
        return handle

    def __exit__(self, *exc_info: object) -> None:
        if self._background is None:
            return
        if self._calendar is not None:
            self._background.run(self._calendar.stop())
            self._calendar = None
        self._background.close()
        self._background = None


def calendar_today() -> date:
    """Today where the calendar is (Florida), not on the machine running the stand-in: at
    10 PM Eastern a UTC machine is already on tomorrow, and its events fell outside the window."""
    return datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def serve(port: int, count: int, seed: int, faults: Faults | None = None) -> None:
    """Run a stand-in with ``count`` generated events on 127.0.0.1:``port`` until interrupted."""

    async def run() -> None:
        events = generate_events(count, seed=seed, today=calendar_today())
        calendar = StandInCalendar(events, faults=faults)
        base_url = await calendar.start(port=port)
        print(f"stand-in calendar with {count} events at {base_url} (Ctrl-C to stop)", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await calendar.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
