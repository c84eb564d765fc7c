"""Async scraper of The Villages calendar API (see docs/architecture.md, "calendar").

The site owes us nothing: requests are bounded, backed off and honour ``Retry-After``; any
surprise in the response is a loud ``CalendarError``, never a silent half-empty result.
The API credential never appears in a log record or an error message.

This module plans and runs one scrape; beneath it, every import pointing down:
``site_session`` (the token and the calendar page's cookies), ``paging`` (which rows each
request asks for), ``probes`` (what the pages tell the drift checks, and the reading past the
count), ``pages`` (one events page's JSON) and ``transport`` (one request, retried).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from yarl import URL

from villages_sync.calendar_api.pages import API_ACCEPT, Page, parse_page
from villages_sync.calendar_api.paging import (
    all_or_none,
    fetch_span,
    page_budget_problem,
    span_starts,
    spans,
    take_spans,
)
from villages_sync.calendar_api.probes import PageTally, read_beyond
from villages_sync.calendar_api.site_session import SiteSession
from villages_sync.calendar_api.transport import (
    EVENTS_PAGE_LIMIT,
    CalendarError,
    CalendarTransport,
)
from villages_sync.calendar_api.urls import CalendarUrls
from villages_sync.settings import CalendarSettings

logger = logging.getLogger(__name__)

AUTH_STATUSES = frozenset({401, 403})

__all__ = ["CalendarError", "EventsSink", "ScrapeResult", "scrape_calendar"]


@dataclass(slots=True, repr=False)
class ScrapeResult:
    """What one scrape fetched. An empty ``events`` with ``reported_count == 0`` is returned as
    is: whether an empty calendar is plausible is the caller's decision, not the scraper's.

    Its repr names the number of events, not the events: ``asyncio.run`` formats the repr of
    its main task's result when it restores the SIGINT handler (CPython's ``signal.getsignal``
    builds a ``ValueError`` message with ``%r``), which with every event in it cost 0.3 s of CPU
    and a string of tens of MB per 10,000 events.
    """

    # raw API objects in API order, de-duplicated by ``id`` ([] if streamed)
    events: list[dict[str, Any]]
    reported_count: int  # ``count`` of the first page (the one the scrape was planned on)
    drift: bool = False  # the result may be incomplete: count changed, or rows are missing
    drift_reason: str = ""
    request_count: int = 0  # every HTTP request made, retries included
    retry_count: int = 0
    page_count: int = 0  # events pages fetched successfully

    def __repr__(self) -> str:
        return (
            f"ScrapeResult(events=<{len(self.events)} events>, "
            f"reported_count={self.reported_count}, drift={self.drift}, "
            f"request_count={self.request_count}, retry_count={self.retry_count}, "
            f"page_count={self.page_count})"
        )


# ``on_events(start_row, events)``: a page's events as soon as it arrives (streaming).
EventsSink = Callable[[int, list[dict[str, Any]]], Awaitable[None]]


@dataclass
class _Scrape:
    settings: CalendarSettings
    session: aiohttp.ClientSession
    on_page: Callable[[int, int], None] | None
    on_events: EventsSink | None = None
    urls: CalendarUrls = field(init=False)
    transport: CalendarTransport = field(init=False)
    site: SiteSession = field(init=False)
    tally: PageTally = field(init=False)

    def __post_init__(self) -> None:
        self.urls = CalendarUrls.for_base(self.settings.base_url)
        self.transport = CalendarTransport(self.settings, self.session)
        self.site = SiteSession(self.transport, self.urls)
        self.tally = PageTally(streaming=self.on_events is not None)
        self.slots = asyncio.Semaphore(self.settings.max_concurrency)
        # Streaming: pages fetched but not yet taken by on_events (a bound however the spans
        # are scheduled).
        self.pages_in_flight = asyncio.Semaphore(2 * self.settings.max_concurrency)

    async def run(self) -> ScrapeResult:
        await self.site.start()
        page_size = self.settings.page_size
        first = await self.fetch_page(0, page_size)
        count = first.count
        page_length = first.rows
        problem = page_budget_problem(count, page_length)
        if problem:
            raise CalendarError(self.urls.events_url, problem)
        if page_length:
            starts = span_starts(count, page_length)
            planned = spans(starts, count, page_length)
            # One page past the rows planned, beside the spans (finding I): ``read_beyond``.
            probe = self.fetch_page(max(count, page_length), page_size)
            if self.on_events is None:
                fetches = [
                    fetch_span(self.fetch_page, page_size, start, stop) for start, stop in planned
                ]
            else:
                # Streaming: a few workers take the spans in order, so pages arrive about in
                # API order and only the spans being fetched exist as tasks (a task a span,
                # made up front, cost ~2 KB each: 4 MB at 200,000 events).
                workers = min(len(starts), 2 * self.settings.max_concurrency)
                fetches = [take_spans(self.fetch_page, page_size, planned) for _ in range(workers)]
            probed, *_ = await all_or_none([probe, *fetches])
            await read_beyond(self.tally, self.fetch_page, probed, page_size)
        return self.result(count)

    def result(self, count: int) -> ScrapeResult:
        events, unique, unique_ids = self.tally.events()
        reasons = self.tally.drift_reasons(count, unique, unique_ids)
        drift_reason = "; ".join(reasons)
        if drift_reason:
            logger.warning(
                "calendar scrape may be incomplete",
                extra={"drift_reason": drift_reason, "reported_count": count},
            )
        result = ScrapeResult(
            events=events,
            reported_count=count,
            drift=bool(reasons),
            drift_reason=drift_reason,
            request_count=self.transport.request_count,
            retry_count=self.transport.retry_count,
            page_count=self.tally.page_count,
        )
        logger.info(
            "calendar scraped",
            extra={
                "event_count": unique,
                "reported_count": count,
                "page_count": result.page_count,
                "request_count": result.request_count,
                "retry_count": result.retry_count,
                "drift": result.drift,
            },
        )
        return result

    async def fetch_page(self, start_row: int, rows: int) -> Page:
        if self.on_events is None:
            return await self.fetch_rows(start_row, rows)
        async with self.pages_in_flight:
            page = await self.fetch_rows(start_row, rows)
            # Ids are claimed before the await: pages handed over concurrently never both
            # deliver one id. First arrival wins (API order when everything is kept).
            fresh = self.tally.deliver(page)
            await self.on_events(start_row, fresh)
            return page

    async def fetch_rows(self, start_row: int, rows: int) -> Page:
        url = str(URL(self.urls.events_url).with_query(startRow=start_row, endRow=start_row + rows))
        while True:
            token_used = self.site.token
            headers = {
                "Accept": API_ACCEPT,
                "Authorization": f"Basic {token_used}",
                "Origin": self.urls.origin,
                "Referer": self.urls.referer,
            }
            response = await self.transport.get_with_retries(
                url, headers, EVENTS_PAGE_LIMIT, limit=self.slots
            )
            if response.status in AUTH_STATUSES:
                await self.site.renew_token(token_used, url, response.status)
                self.transport.retry_count += 1
                continue
            if response.status != 200:
                raise CalendarError(url, f"HTTP {response.status}")
            page = parse_page(url, start_row, response.body, self.transport.redact)
            logger.debug(
                "calendar page fetched",
                extra={"start_row": start_row, "rows": len(page.events), "count": page.count},
            )
            self.tally.note(page)
            if self.on_page is not None:
                first_page = self.tally.first_page or page  # noted just above if first
                self.on_page(len(self.tally.rows_seen), first_page.count)
            return page


async def scrape_calendar(
    settings: CalendarSettings,
    *,
    session: aiohttp.ClientSession | None = None,
    on_page: Callable[[int, int], None] | None = None,
    on_events: EventsSink | None = None,
    trace_configs: Sequence[aiohttp.TraceConfig] = (),
) -> ScrapeResult:
    """Every event the calendar API lists (cancelled ones included, flagged).

    Fetches the token script, the calendar page (cookies), then page 1 of the events; the rest
    of the pages concurrently (at most ``settings.max_concurrency`` in flight). ``on_page``
    gets ``(rows_so_far, reported_count)`` after each page. Raises ``CalendarError``.
    A caller-supplied ``session`` must keep cookies; it is not closed here.

    Streaming: with ``on_events``, each page's events not delivered before (by ``id``, as
    ``events`` is de-duplicated) are awaited into ``on_events(start_row, events)`` as the page
    arrives, in arrival order, and the result's ``events`` is empty: nothing is kept but the
    ids, a byte a row read and the first readings of rows two pages read (the shift check), no
    page. At most twice ``max_concurrency`` pages wait for the sink. The drift checks are the
    same; a failure raises as usual, after some pages were delivered.

    ``trace_configs``: aiohttp traces on the scrape's own session (the raw-pages capture).
    """
    if session is not None:
        return await _Scrape(settings, session, on_page, on_events).run()
    # unsafe=True only lets the jar keep cookies of IP-address hosts (a stand-in on 127.0.0.1).
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), trace_configs=list(trace_configs) or None
    ) as own_session:
        return await _Scrape(settings, own_session, on_page, on_events).run()
