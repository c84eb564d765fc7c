"""Scenario 1: scrape wall time against the ideal and against the seed's one-page-at-a-time
client, on a stand-in calendar that answers every events request after a fixed latency."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import aiohttp
from villages_sync.calendar_api.client import scrape_calendar
from villages_sync.calendar_api.pages import API_ACCEPT
from villages_sync.calendar_api.site_session import extract_token
from villages_sync.calendar_api.transport import USER_AGENT
from villages_sync.calendar_api.urls import CalendarUrls
from villages_sync.settings import CalendarSettings

from benchmarks.common import CalendarProcess, calendar_process, median

PAGE_SIZE = 100  # the client's default
DEFAULT_CONCURRENCY = CalendarSettings().max_concurrency


@dataclass
class ScrapeFigures:
    events: int
    concurrency: int
    requests: int  # events requests of the real client
    seconds: float  # median wall time
    ideal_seconds: float
    runs: int
    client_cpu_seconds: float = 0.0  # median, this process
    server_cpu_seconds: float = 0.0  # median, the stand-in's process

    @property
    def vs_ideal(self) -> float:
        return self.seconds / self.ideal_seconds


@dataclass
class BaselineFigures:
    events: int
    requests: int
    seconds: float
    runs: int


def ideal_seconds(pages: int, concurrency: int, latency: float) -> float:
    """The first page alone (it tells the count), then the rest ``concurrency`` at a time."""
    return latency * (1 + math.ceil((pages - 1) / concurrency))


@dataclass
class _Sample:
    seconds: float
    pages: int
    events: int
    client_cpu: float
    server_cpu: float


def _scrape_once(calendar: CalendarProcess, concurrency: int) -> _Sample:
    settings = CalendarSettings(
        base_url=calendar.base_url,
        page_size=PAGE_SIZE,
        max_concurrency=concurrency,
        timeout_seconds=30,
    )
    server_cpu, client_cpu = calendar.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    result = asyncio.run(scrape_calendar(settings))
    return _Sample(
        time.perf_counter() - started,
        result.page_count,
        len(result.events),
        time.process_time() - client_cpu,
        calendar.cpu_seconds() - server_cpu,
    )


async def seed_style_scrape(base_url: str) -> tuple[float, int, int]:
    """The seed's design: one session, then one page after the other until ``count`` rows."""
    urls = CalendarUrls.for_base(base_url)
    started = time.perf_counter()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(urls.token_url) as response:
            token = extract_token(await response.text())
        async with session.get(urls.session_url) as response:
            await response.read()
        headers = {
            "Accept": API_ACCEPT,
            "Authorization": f"Basic {token}",
            "Origin": urls.origin,
            "Referer": urls.referer,
            "User-Agent": USER_AGENT,
        }
        rows: list[dict] = []
        requests = 0
        count = None
        while count is None or len(rows) < count:
            params = {"startRow": str(len(rows)), "endRow": str(len(rows) + PAGE_SIZE)}
            async with session.get(urls.events_url, params=params, headers=headers) as response:
                page = await response.json(content_type=None)
            requests += 1
            count = page["count"]
            if not page["events"]:
                break
            rows.extend(page["events"])
    return time.perf_counter() - started, requests, len(rows)


def measure(
    events: int, concurrencies: list[int], *, latency: float, runs: int, baseline_runs: int
) -> tuple[list[ScrapeFigures], BaselineFigures | None]:
    figures: list[ScrapeFigures] = []
    baseline = None
    with calendar_process(events, latency_seconds=latency, page_cap=PAGE_SIZE) as calendar:
        for concurrency in concurrencies:
            samples = [_scrape_once(calendar, concurrency) for _ in range(runs)]
            fetched = {s.events for s in samples}
            if fetched != {events}:
                raise RuntimeError(f"scrape fetched {fetched} events, expected {events}")
            pages = samples[0].pages
            figures.append(
                ScrapeFigures(
                    events=events,
                    concurrency=concurrency,
                    requests=pages,
                    seconds=median([s.seconds for s in samples]),
                    ideal_seconds=ideal_seconds(pages, concurrency, latency),
                    runs=runs,
                    client_cpu_seconds=median([s.client_cpu for s in samples]),
                    server_cpu_seconds=median([s.server_cpu for s in samples]),
                )
            )
        if baseline_runs:
            base_url = calendar.base_url
            samples = [asyncio.run(seed_style_scrape(base_url)) for _ in range(baseline_runs)]
            baseline = BaselineFigures(
                events=events,
                requests=samples[0][1],
                seconds=median([seconds for seconds, _, _ in samples]),
                runs=baseline_runs,
            )
    return figures, baseline
