"""What one producer run meets up to its first pages, seen through the producer's own client.

The client's session carries an ``ExchangeLog`` trace, so the raw answers (even one the client
refused) reach ``contract.judge``. Besides the first page, two small probes: rows 1-3 (is
``endRow`` inclusive?) and the page at ``count`` (what lies past the end?).
"""

from __future__ import annotations

from collections.abc import Awaitable

import aiohttp
from villages_sync.calendar_api.client import _Scrape
from villages_sync.calendar_api.exchange_log import Exchange, ExchangeLog
from villages_sync.calendar_api.transport import CalendarError
from villages_sync.settings import CalendarSettings

from villages_sync_ops.calendar_api.contract import Observation, PageSeen, RequestTiming

_PROBE_START, _PROBE_ROWS = 1, 2  # startRow=1&endRow=3


async def observe(settings: CalendarSettings, *, max_reject_ratio: float = 0.02) -> Observation:
    log = ExchangeLog()
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), trace_configs=[log.trace_config()]
    ) as session:
        scrape = _Scrape(settings, session, None)
        asked: list[tuple[str, int, int]] = []
        client_error = ""
        try:
            await scrape.site.start()
            asked.append(("first page", 0, settings.page_size))
            first = await scrape.fetch_rows(0, settings.page_size)
            if first.rows >= 4:
                asked.append(("rows 1-3", _PROBE_START, _PROBE_ROWS))
                await _quietly(scrape.fetch_rows(_PROBE_START, _PROBE_ROWS))
            asked.append(("past the count", first.count, settings.page_size))
            await _quietly(scrape.fetch_rows(first.count, settings.page_size))
        except CalendarError as error:
            client_error = str(error)
        cookies = tuple(sorted({cookie.key for cookie in session.cookie_jar}))
    urls = scrape.urls
    script_exchange = _last_to(log.exchanges, urls.token_url)
    script = None
    if script_exchange is not None and script_exchange.status == 200 and script_exchange.body:
        script = script_exchange.body.decode("utf-8", errors="replace")
    pages = tuple(
        _page_seen(log.exchanges, urls.events_url, purpose, start, rows)
        for purpose, start, rows in asked
    )
    return Observation(
        site=settings.base_url or "the real site",
        page_size=settings.page_size,
        script_status=script_exchange.status if script_exchange else None,
        script=script,
        cookies=cookies,
        pages=pages,
        client_error=scrape.transport.redact(client_error),
        timings=tuple(
            RequestTiming(e.url, e.status, e.seconds, scrape.transport.redact(e.error))
            for e in log.exchanges
        ),
        max_reject_ratio=max_reject_ratio,
    )


async def _quietly(fetch: Awaitable[object]) -> None:
    """A probe's failure is judged from its exchange, not raised: the first page decided."""
    try:
        await fetch
    except CalendarError:
        return


def _last_to(exchanges: list[Exchange], url: str) -> Exchange | None:
    matching = [e for e in exchanges if e.url.split("?")[0] == url]
    return matching[-1] if matching else None


def _page_seen(
    exchanges: list[Exchange], events_url: str, purpose: str, start: int, rows: int
) -> PageSeen:
    """The last answer to this page's URL (after any retries and a renewed token)."""
    query = f"startRow={start}&endRow={start + rows}"
    matching = [e for e in exchanges if e.url.startswith(events_url) and e.url.endswith(query)]
    last = matching[-1] if matching else None
    return PageSeen(
        purpose,
        start,
        start + rows,
        last.status if last else None,
        last.body if last else None,
    )
