"""One request to the calendar, retried: back-off, ``Retry-After``, same-origin redirects.

The lowest layer of the client: it knows nothing of tokens or pages, only how to get a
response the calendar owes us without hammering it, and never to repeat a secret in an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp
from yarl import URL

from villages_sync.settings import CalendarSettings

logger = logging.getLogger(__name__)

USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_REDIRECTS = 3
READ_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The most bytes one kind of response may hold, counted as read: after aiohttp has
    inflated a gzip or deflate body, so a small compressed body cannot become a large one."""

    kind: str  # what the response is, named in the error ("events page")
    max_bytes: int


# A 100-row events page of the real calendar is about 100-200 kB (1,000 rows, the most
# PAGE_SIZE allows, about 2 MB); its auth script a few hundred kB; the calendar page less.
# Each limit leaves room for growth and stops a hostile or broken response long before the
# producer's 512 MB (a 0.4 MB gzip body inflating to 400 MB took a scrape to 1.6 GB).
EVENTS_PAGE_LIMIT = BodyLimit("events page", 8 * 1024 * 1024)
TOKEN_SCRIPT_LIMIT = BodyLimit("auth script", 8 * 1024 * 1024)
CALENDAR_PAGE_LIMIT = BodyLimit("calendar page", 4 * 1024 * 1024)


class CalendarError(RuntimeError):
    """The calendar could not be scraped completely; names the URL and the problem."""

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


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
class Response:
    status: int
    body: bytes


class Retry(Exception):
    """A transient failure of one attempt; ``wait`` overrides the jittered back-off."""

    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait


@dataclass
class CalendarTransport:
    """GETs against one scrape's session, counting every request and retry."""

    settings: CalendarSettings
    session: aiohttp.ClientSession
    secret: str = ""  # redacted from every error and log detail (the API credential)
    request_count: int = field(init=False, default=0)
    retry_count: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)

    def redact(self, text: str) -> str:
        return text.replace(self.secret, "[token]") if self.secret else text

    async def get_with_retries(
        self,
        url: str,
        headers: Mapping[str, str],
        body_limit: BodyLimit,
        *,
        limit: asyncio.Semaphore | None = None,
    ) -> Response:
        """The response of the first attempt that is not transient (5xx, 429, network, timeout).
        Waits happen outside ``limit`` so a backing-off page does not hold a concurrency slot.
        A body over ``body_limit`` is a ``CalendarError`` naming the limit, never retried."""
        attempt = 0
        while True:
            try:
                async with limit or contextlib.nullcontext():
                    return await self.get_once(url, headers, body_limit)
            except Retry as transient:
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

    async def get_once(
        self, url: str, headers: Mapping[str, str], body_limit: BodyLimit
    ) -> Response:
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
                    body = await read_within(response, url, body_limit)
                    status, response_headers = response.status, response.headers
            except TimeoutError:
                raise Retry(f"no response within {self.settings.timeout_seconds} s") from None
            except aiohttp.ClientError as error:
                detail = self.redact(f"{type(error).__name__}: {error}")
                raise Retry(detail) from None
            if status in REDIRECT_STATUSES:
                target = same_origin_redirect(url, target, response_headers.get("Location"))
                continue
            if status in RETRY_AFTER_STATUSES:
                wait = retry_after_seconds(response_headers.get("Retry-After"))
                raise Retry(f"HTTP {status}", wait)
            if status >= 500:
                raise Retry(f"HTTP {status}")
            return Response(status, body)
        raise CalendarError(url, f"more than {MAX_REDIRECTS} redirects")


async def read_within(response: aiohttp.ClientResponse, url: str, body_limit: BodyLimit) -> bytes:
    """The body, read a chunk at a time and refused as soon as it passes ``body_limit``: up
    front when ``Content-Length`` already says so, else when the bytes read (inflated, as
    aiohttp hands them over) do. Memory stays within the limit plus one chunk."""
    declared = response.content_length
    if declared is not None and declared > body_limit.max_bytes:
        evidence = f"Content-Length is {declared}; refused unread"
        raise CalendarError(url, _over_limit(body_limit, evidence))
    body = bytearray()
    try:
        async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
            if len(body) + len(chunk) > body_limit.max_bytes:
                evidence = "more arrived, counted after decompression; reading stopped there"
                raise CalendarError(url, _over_limit(body_limit, evidence))
            body += chunk
    finally:
        await _announce_body(response, bytes(body))
    return bytes(body)


async def _announce_body(response: aiohttp.ClientResponse, body: bytes) -> None:
    """Hand what was read to the session's traces, as ``ClientResponse.read()`` does (the only
    place aiohttp fires ``on_response_chunk_received``), so that a trace on the session (the
    exchange log of ``calendar check``) still sees every body the client read, a refused one
    up to where reading stopped. aiohttp keeps a response's traces in ``_traces``."""
    for trace in getattr(response, "_traces", ()):
        await trace.send_response_chunk_received(response.method, response.url, body)


def _over_limit(body_limit: BodyLimit, evidence: str) -> str:
    limit = f"its limit of {body_limit.max_bytes} bytes"
    return f"the {body_limit.kind} is larger than {limit} ({evidence})"


def same_origin_redirect(url: str, current: URL, location: str | None) -> URL:
    if not location:
        raise CalendarError(url, "redirect without a Location")
    target = current.join(URL(location))
    if target.origin() != current.origin():
        raise CalendarError(
            url, f"redirected to another host ({target.host}); redirects off-site are refused"
        )
    return target
