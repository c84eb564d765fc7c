"""Async scraper of The Villages calendar API (see docs/architecture.md, "calendar").

The site owes us nothing: requests are bounded, backed off and honour ``Retry-After``; any
surprise in the response is a loud ``CalendarError``, never a silent half-empty result.
The API credential never appears in a log record or an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from yarl import URL

from villages_sync.calendar_api.row_readings import RowReadings
from villages_sync.calendar_api.urls import CalendarUrls
from villages_sync.event_ids import id_key
from villages_sync.id_sets import CompactIds
from villages_sync.settings import CalendarSettings

logger = logging.getLogger(__name__)

API_ACCEPT = "application/json, text/plain, */*"
PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
AUTH_STATUSES = frozenset({401, 403})
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_REDIRECTS = 3
# A count needing more pages than this is a broken answer, not a calendar: refuse to hammer.
MAX_PAGES = 5000
SNIPPET_CHARS = 60

# Both spellings seen in the wild; group "token" is the credential after "Basic ". The key
# has been met in lower case too (``authorization:``), so keys match in any case.
_TOKEN_PATTERNS = (
    re.compile(
        r"""dp_AUTH_TOKEN\s*[:=]\s*(?P<q>["'`])\s*Basic\s+(?P<token>[A-Za-z0-9+/=._~-]+)\s*(?P=q)""",
        re.IGNORECASE,
    ),
    re.compile(
        r"""(?P<k>["']?)Authorization(?P=k)\s*:\s*(?P<q>["'`])\s*Basic\s+"""
        r"""(?P<token>[A-Za-z0-9+/=._~-]+)\s*(?P=q)""",
        re.IGNORECASE,
    ),
)
# The credential in a template variable (``Authorization:`Basic ${token}` ``): the literal is
# elsewhere in the script, and sending "${token}" would only earn a 401.
_TEMPLATE_TOKEN = re.compile(
    r"""(?:dp_AUTH_TOKEN|Authorization)["']?\s*[:=]\s*`\s*Basic\s+\$\{""", re.IGNORECASE
)
# Python refuses to convert integers of more digits than this (sys.int_info): one absurd id in
# the feed must not make a whole page unreadable.
_MAX_INT_DIGITS = 4300


class CalendarError(RuntimeError):
    """The calendar could not be scraped completely; names the URL and the problem."""

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


@dataclass(slots=True, repr=False)
class ScrapeResult:
    """What one scrape fetched. An empty ``events`` with ``reported_count == 0`` is returned as
    is: whether an empty calendar is plausible is the caller's decision, not the scraper's.

    Its repr names the number of events, not the events: ``asyncio.run`` formats the repr of
    its main task's result when it restores the SIGINT handler (CPython's ``signal.getsignal``
    builds a ``ValueError`` message with ``%r``), which with every event in it cost 0.3 s of CPU
    and a string of tens of MB per 10,000 events.
    """

    events: list[dict]  # raw API objects in API order, de-duplicated by ``id`` ([] if streamed)
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


def token_problem(script: str) -> str:
    """Why no credential could be read from the auth script, for the run's error."""
    if _TEMPLATE_TOKEN.search(script):
        return (
            "the credential is a template variable ('Basic ${...}'), not a literal: the "
            "script's shape changed, so the token cannot be read from it"
        )
    return "no 'dp_AUTH_TOKEN' or 'Authorization: \"Basic ...\"' credential in the script"


def parse_json_int(digits: str) -> int | str:
    """An integer, or its digits as text when Python would refuse to convert it."""
    return int(digits) if len(digits.lstrip("-")) <= _MAX_INT_DIGITS else digits


def extract_token(script: str) -> str | None:
    """The Basic credential embedded in the site's auth script, or None when neither spelling
    (``dp_AUTH_TOKEN = "Basic …"`` or ``Authorization:"Basic …"``) is present."""
    for pattern in _TOKEN_PATTERNS:
        match = pattern.search(script)
        if match:
            return match.group("token")
    return None


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP-date); None if unusable."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Full-jitter exponential back-off before retry number ``attempt`` (0 for the first)."""
    return random.uniform(0, min(cap, base * 2**attempt))


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes


# ``on_events(start_row, events)``: a page's events as soon as it arrives (streaming).
EventsSink = Callable[[int, list[dict]], Awaitable[None]]


@dataclass(slots=True)
class _Page:
    start_row: int
    events: list[Any]  # [] once streamed
    count: int
    rows: int = -1  # how many rows it held
    fresh: int = 0  # streamed: its events with a usable id no page had delivered before

    def __post_init__(self) -> None:
        if self.rows < 0:
            self.rows = len(self.events)


class _RowsSeen:
    """Which offsets were read at least once, one byte a row (a set of ints cost ~60)."""

    def __init__(self) -> None:
        self.flags = bytearray()
        self.total = 0

    def update(self, start: int, stop: int) -> None:
        if stop > len(self.flags):
            self.flags.extend(bytes(stop - len(self.flags)))
        new = stop - start - self.flags.count(1, start, stop)
        self.flags[start:stop] = b"\x01" * (stop - start)
        self.total += new

    def __len__(self) -> int:
        return self.total


class _Retry(Exception):
    """A transient failure of one attempt; ``wait`` overrides the jittered back-off."""

    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait


@dataclass
class _Scrape:
    settings: CalendarSettings
    session: aiohttp.ClientSession
    on_page: Callable[[int, int], None] | None
    on_events: EventsSink | None = None
    urls: CalendarUrls = field(init=False)
    token: str = field(init=False, default="")
    token_renewed: bool = field(init=False, default=False)
    request_count: int = field(init=False, default=0)
    retry_count: int = field(init=False, default=0)
    rows_seen: _RowsSeen = field(init=False, default_factory=_RowsSeen)
    # What the drift checks need of every page, taken as each arrives: streaming keeps no page.
    page_count: int = field(init=False, default=0)
    first_page: _Page | None = field(init=False, default=None)  # planned the scrape
    counts: dict[int, None] = field(init=False, default_factory=dict)  # distinct, in order
    readings: RowReadings = field(init=False, default_factory=RowReadings)  # the shift check
    pages: list[_Page] = field(init=False, default_factory=list)  # not streaming: their events
    ids_seen: CompactIds = field(init=False, default_factory=CompactIds)  # streaming: delivered
    unique_count: int = field(init=False, default=0)  # streaming: events delivered

    def __post_init__(self) -> None:
        self.urls = CalendarUrls.for_base(self.settings.base_url)
        self.timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        self.slots = asyncio.Semaphore(self.settings.max_concurrency)
        # Streaming: pages fetched but not yet taken by on_events (a bound however the spans
        # are scheduled).
        self.pages_in_flight = asyncio.Semaphore(2 * self.settings.max_concurrency)
        self.token_lock = asyncio.Lock()

    # --- the scrape ------------------------------------------------------------------------

    async def run(self) -> ScrapeResult:
        self.token = await self.fetch_token()
        await self.open_session()
        first = await self.fetch_page(0, self.settings.page_size)
        count = first.count
        page_length = first.rows
        if page_length and count / page_length > MAX_PAGES:
            raise CalendarError(
                self.urls.events_url,
                f"count {count} at {page_length} rows a page needs more than {MAX_PAGES} pages",
            )
        if page_length:
            # Consecutive spans share one row: if rows shift between two fetches (an event
            # added or removed before that offset), the shared row's two readings differ and
            # the run is flagged, even when the additions and removals leave `count` unchanged.
            # A span is needed while it holds a new row (its first row is the shared one).
            starts = (
                range(page_length - 1, count - 1, page_length - 1)
                if page_length > 1
                else range(1, count)
            )
            # Made as they are taken: a list of every span grew with the calendar (~120 bytes
            # a page).
            spans = ((start, min(start + page_length, count)) for start in starts)
            # One page past the rows planned, beside the spans (finding I): ``read_beyond``.
            probe = self.fetch_page(max(count, page_length), self.settings.page_size)
            if self.on_events is None:
                fetches = [self.fetch_span(start, stop) for start, stop in spans]
            else:
                # Streaming: a few workers take the spans in order, so pages arrive about in
                # API order and only the spans being fetched exist as tasks (a task a span,
                # made up front, cost ~2 KB each: 4 MB at 200,000 events).
                workers = min(len(starts), 2 * self.settings.max_concurrency)
                fetches = [self.take_spans(spans) for _ in range(workers)]
            probed, *_ = await _all_or_none([probe, *fetches])
            await self.read_beyond(probed)
        return self.result(count)

    async def read_beyond(self, probed: _Page) -> None:
        """Reads on past the rows planned while pages bring events not read before.

        ``count`` is unverified (PROTOCOL.md): one that leaves some rows out (cancelled events,
        a cached figure) would hide the last rows from every run, and the sweep would delete
        those live events. So one page past them is fetched with the others, the pages after
        it are read while they bring new events, and ``result`` flags a run that found more
        events than ``count``. A page of rows read before (a server that answers an offset
        past its end with its last page) ends the reading and is not a finding.
        """
        page = probed
        known: set[object] | None = None
        while page.rows and self.page_count < MAX_PAGES:
            if self.on_events is not None:
                new = page.fresh  # ids delivered first by this page
            else:
                if known is None:
                    known = {
                        id_key(_raw_id(e)) for p in self.pages if p is not page for e in p.events
                    }
                keys = {id_key(_raw_id(e)) for e in page.events} - {None}
                new = len(keys - known)
                known |= keys
            if not new:
                return
            page = await self.fetch_page(page.start_row + page.rows, self.settings.page_size)

    async def take_spans(self, spans: Iterator[tuple[int, int]]) -> None:
        for start, stop in spans:
            await self.fetch_span(start, stop)

    async def fetch_span(self, start: int, stop: int) -> None:
        """Rows [start, stop): a short page before ``stop`` is followed by a request for the gap,
        which starts at the short page's last row, so that the two share a row as spans do and
        the shift check sees rows that moved between them (a gap that shared none let an event
        removed before it hide a listed one from the run, with the count unchanged)."""
        position = start
        while position < stop:
            page = await self.fetch_page(position, min(self.settings.page_size, stop - position))
            last_read = position + page.rows - 1
            if not page.rows or last_read >= stop - 1:
                return
            position = last_read if page.rows > 1 else last_read + 1  # one row: no overlap

    def result(self, count: int) -> ScrapeResult:
        if self.on_events is None:
            ids: set[object] = set()
            events = _unique_by_id((p.events for p in sorted(self.pages, key=_start_row)), ids)
            unique, unique_ids = len(events), len(ids)
        else:
            events, unique, unique_ids = [], self.unique_count, len(self.ids_seen)
        reasons = []
        distinct_counts = list(self.counts)
        if len(distinct_counts) > 1:
            changed_to = ", ".join(str(c) for c in distinct_counts[1:])
            reasons.append(
                f"count changed from {distinct_counts[0]} to {changed_to} during the scrape"
            )
        if unique < count:
            reasons.append(f"fetched {unique} unique events but the API reported {count}")
        if unique_ids > count:  # by id: an id-less event read twice is not two more events
            reasons.append(
                f"the API served {unique_ids - count} more events than its count of {count}"
            )
        shifted = self.readings.shifted()
        if shifted:
            reasons.append(
                f"rows shifted during the scrape ({len(shifted)} page boundaries disagree, "
                f"first at row {shifted[0]})"
            )
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
            request_count=self.request_count,
            retry_count=self.retry_count,
            page_count=self.page_count,
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

    # --- the three kinds of request --------------------------------------------------------

    async def fetch_token(self) -> str:
        url = self.urls.token_url
        response = await self.get_with_retries(url, {"Accept": "*/*"})
        if response.status != 200:
            raise CalendarError(url, f"HTTP {response.status} fetching the auth script")
        script = response.body.decode("utf-8", errors="replace")
        token = extract_token(script)
        if token is None:
            raise CalendarError(url, token_problem(script))
        return token

    async def open_session(self) -> None:
        """The calendar page, for its cookies. Whether the API needs them is unknown, so a
        failure here is logged and the scrape carries on; the API's answer is what counts."""
        url = self.urls.session_url
        try:
            response = await self.get_with_retries(url, {"Accept": PAGE_ACCEPT})
        except CalendarError as error:
            logger.warning(
                "calendar page unavailable", extra={"url": url, "problem": error.problem}
            )
            return
        if response.status != 200:
            logger.warning(
                "calendar page unavailable", extra={"url": url, "status": response.status}
            )

    async def fetch_page(self, start_row: int, rows: int) -> _Page:
        if self.on_events is None:
            return await self.fetch_rows(start_row, rows)
        async with self.pages_in_flight:
            page = await self.fetch_rows(start_row, rows)
            # Ids are claimed before the await: pages handed over concurrently never both
            # deliver one id. First arrival wins (API order when everything is kept).
            ids_before = len(self.ids_seen)
            fresh = _unique_by_id([page.events], self.ids_seen)
            self.unique_count += len(fresh)
            page.fresh = len(self.ids_seen) - ids_before
            page.events = []
            await self.on_events(start_row, fresh)
            return page

    async def fetch_rows(self, start_row: int, rows: int) -> _Page:
        url = str(URL(self.urls.events_url).with_query(startRow=start_row, endRow=start_row + rows))
        while True:
            token_used = self.token
            headers = {
                "Accept": API_ACCEPT,
                "Authorization": f"Basic {token_used}",
                "Origin": self.urls.origin,
                "Referer": self.urls.referer,
            }
            response = await self.get_with_retries(url, headers, limit=self.slots)
            if response.status in AUTH_STATUSES:
                await self.renew_token(token_used, url, response.status)
                self.retry_count += 1
                continue
            if response.status != 200:
                raise CalendarError(url, f"HTTP {response.status}")
            page = self.parse_page(url, start_row, response.body)
            logger.debug(
                "calendar page fetched",
                extra={"start_row": start_row, "rows": len(page.events), "count": page.count},
            )
            self.note_page(page)
            return page

    def note_page(self, page: _Page) -> None:
        """What the drift checks need of a page, as it arrives (the order they compare in).
        Streaming keeps the readings of the rows another page may read too, not the page."""
        self.page_count += 1
        first = self.first_page = self.first_page or page
        self.counts[page.count] = None
        self.rows_seen.update(page.start_row, page.start_row + page.rows)
        span_step = first.rows - 1  # spans start every page length - 1 rows
        for offset, event in enumerate(page.events, start=page.start_row):
            if self.on_events is None or _read_twice(offset, page, span_step):
                self.readings.record(offset, _raw_id(event))
        if self.on_events is None:
            self.pages.append(page)  # the scrape returns every event
        if self.on_page is not None:
            self.on_page(len(self.rows_seen), first.count)

    async def renew_token(self, token_used: str, url: str, status: int) -> None:
        """Fetch the token again, once per scrape, shared by every page that saw it rejected."""
        async with self.token_lock:
            if self.token != token_used:
                return  # another page already renewed it: retry with the new one
            if self.token_renewed:
                raise CalendarError(url, f"HTTP {status}: the API refused a freshly fetched token")
            self.token_renewed = True
            logger.warning("calendar token refused; fetching it again", extra={"status": status})
            self.token = await self.fetch_token()

    def parse_page(self, url: str, start_row: int, body: bytes) -> _Page:
        try:
            data = json.loads(body, parse_int=parse_json_int)
        except (ValueError, RecursionError) as error:
            problem = f"response is not valid JSON ({error}); it starts {self.snippet(body)}"
            raise CalendarError(url, problem) from None
        if not isinstance(data, dict):
            raise CalendarError(url, f"response is a JSON {type(data).__name__}, not an object")
        events, count = data.get("events"), data.get("count")
        if not isinstance(events, list):
            keys = ", ".join(sorted(str(k) for k in data)[:10]) or "none"
            raise CalendarError(url, f"response has no 'events' list (its keys: {keys})")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise CalendarError(url, f"response has no whole-number 'count' (got {count!r:.40})")
        return _Page(start_row, events, count)

    def snippet(self, body: bytes) -> str:
        text = body[:SNIPPET_CHARS].decode("utf-8", errors="replace")
        return repr(self.redact(text))

    def redact(self, text: str) -> str:
        return text.replace(self.token, "[token]") if self.token else text

    # --- one request, retried --------------------------------------------------------------

    async def get_with_retries(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        limit: asyncio.Semaphore | None = None,
    ) -> _Response:
        """The response of the first attempt that is not transient (5xx, 429, network, timeout).
        Waits happen outside ``limit`` so a backing-off page does not hold a concurrency slot."""
        attempt = 0
        while True:
            try:
                async with limit or contextlib.nullcontext():
                    return await self.get_once(url, headers)
            except _Retry as transient:
                attempt += 1
                if attempt >= self.settings.max_attempts:
                    problem = f"gave up after {attempt} attempts: {transient.problem}"
                    raise CalendarError(url, problem) from None
                cap = self.settings.backoff_max_seconds
                if transient.wait is not None:
                    delay = min(transient.wait, cap)
                else:
                    delay = backoff_seconds(
                        attempt - 1, base=self.settings.backoff_base_seconds, cap=cap
                    )
                self.retry_count += 1
                logger.warning(
                    "calendar request failed; retrying",
                    extra={
                        "url": url,
                        "problem": transient.problem,
                        "attempt": attempt,
                        "delay_seconds": round(delay, 3),
                    },
                )
                await asyncio.sleep(delay)

    async def get_once(self, url: str, headers: Mapping[str, str]) -> _Response:
        """One attempt, following same-origin redirects only (credentials never leave the host)."""
        target = URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            self.request_count += 1
            try:
                async with self.session.get(
                    target,
                    headers={"User-Agent": USER_AGENT, **headers},
                    timeout=self.timeout,
                    allow_redirects=False,
                ) as response:
                    body = await response.read()
                    status, response_headers = response.status, response.headers
            except TimeoutError:
                raise _Retry(f"no response within {self.settings.timeout_seconds} s") from None
            except aiohttp.ClientError as error:
                detail = self.redact(f"{type(error).__name__}: {error}")
                raise _Retry(detail) from None
            if status in REDIRECT_STATUSES:
                target = self.same_origin_redirect(url, target, response_headers.get("Location"))
                continue
            if status in RETRY_AFTER_STATUSES:
                wait = retry_after_seconds(response_headers.get("Retry-After"))
                raise _Retry(f"HTTP {status}", wait)
            if status >= 500:
                raise _Retry(f"HTTP {status}")
            return _Response(status, body)
        raise CalendarError(url, f"more than {MAX_REDIRECTS} redirects")

    def same_origin_redirect(self, url: str, current: URL, location: str | None) -> URL:
        if not location:
            raise CalendarError(url, "redirect without a Location")
        target = current.join(URL(location))
        if target.origin() != current.origin():
            raise CalendarError(
                url, f"redirected to another host ({target.host}); redirects off-site are refused"
            )
        return target


async def scrape_calendar(
    settings: CalendarSettings,
    *,
    session: aiohttp.ClientSession | None = None,
    on_page: Callable[[int, int], None] | None = None,
    on_events: EventsSink | None = None,
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
    """
    if session is not None:
        return await _Scrape(settings, session, on_page, on_events).run()
    # unsafe=True only lets the jar keep cookies of IP-address hosts (a stand-in on 127.0.0.1).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as own_session:
        return await _Scrape(settings, own_session, on_page, on_events).run()


async def _all_or_none(coroutines: list[Any]) -> list[Any]:
    """Run concurrently, returning their results; on the first failure cancel the rest and
    raise that failure."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _read_twice(offset: int, page: _Page, span_step: int) -> bool:
    """Whether another page may read row ``offset`` too: a page's first and last rows, and
    the rows spans share (see ``run``), which a page longer than asked may hold inside."""
    if offset in (page.start_row, page.start_row + page.rows - 1):
        return True
    return span_step <= 0 or (offset >= span_step and offset % span_step == 0)


def _raw_id(event: object) -> object:
    """An upstream event's ``id`` as sent (any type), or None when it is not an object."""
    return event.get("id") if isinstance(event, dict) else None


def _start_row(page: _Page) -> int:
    return page.start_row


def _unique_by_id(pages: Any, seen: MutableSet[object] | None = None) -> list[dict]:
    """First occurrence of each id (``event_ids.id_key``: 12, "12" and 12.0 are one), in API
    order. Objects without a usable id pass through so that the normaliser counts and logs them
    as rejects instead of them vanishing here."""
    seen = set() if seen is None else seen
    unique: list[dict] = []
    for events in pages:
        for event in events:
            key = id_key(_raw_id(event))
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            unique.append(event)
    return unique
