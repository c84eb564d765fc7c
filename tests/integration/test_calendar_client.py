"""The real calendar client against the real stand-in, over HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import pytest
from aiohttp import web
from support.calendar import add_early_events, fast_settings
from villages_sync.calendar_api.client import CalendarError, ScrapeResult, scrape_calendar
from villages_sync.calendar_api.urls import EVENTS_PATH, TOKEN_PATH, CalendarUrls
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar, StandInCalendar

TODAY = date(2026, 11, 24)
EVENTS = generate_events(2500, seed=11, today=TODAY)
ALL_IDS = {e["id"] for e in EVENTS}

StartCalendar = Callable[..., Awaitable[StandInCalendar]]


def statuses(calendar: StandInCalendar, path: str = EVENTS_PATH) -> list[int]:
    return [r.status for r in calendar.requests_to(path)]


@pytest.fixture
async def start_calendar() -> AsyncIterator[StartCalendar]:
    started: list[StandInCalendar] = []

    async def start(events: list[dict] = EVENTS, **options: object) -> StandInCalendar:
        calendar = StandInCalendar(events, **options)  # type: ignore[arg-type]
        await calendar.start()
        started.append(calendar)
        return calendar

    yield start
    for calendar in started:
        await calendar.stop()


async def test_scrape_calendar_thousands_of_events_returns_all_once(
    start_calendar: StartCalendar,
) -> None:
    # Given 2,500 events behind 100-row pages
    calendar = await start_calendar()
    progress: list[tuple[int, int]] = []

    # When
    result = await scrape_calendar(
        fast_settings(calendar.base_url), on_page=lambda rows, count: progress.append((rows, count))
    )

    # Then
    assert [e["id"] for e in result.events] == [e["id"] for e in EVENTS]  # API order, no dupes
    assert (result.reported_count, result.drift, result.drift_reason) == (2500, False, "")
    # pages after the first overlap the one before by a row (the shift check); one more page
    # is asked for past count (finding I), and comes back empty
    assert result.page_count == 1 + -(-(2500 - 100) // 99) + 1 and result.retry_count == 0
    assert result.request_count == 2 + result.page_count  # main.js, calendar page, pages
    assert progress[-1] == (2500, 2500) and len(progress) == result.page_count
    assert calendar.events_requests_without_cookie == 0
    headers = calendar.last_events_headers
    assert headers["Accept"] == "application/json, text/plain, */*"
    assert headers["Origin"] == calendar.base_url
    assert headers["Referer"] == f"{calendar.base_url}/calendar/"
    assert headers["User-Agent"].startswith("Mozilla/5.0")
    queries = [r.query for r in calendar.requests_to(EVENTS_PATH)]
    assert all(set(q) == {"startRow", "endRow"} for q in queries)  # no dateRange, no cancelled


async def test_scrape_calendar_cancelled_events_arrive_flagged(
    start_calendar: StartCalendar,
) -> None:
    # Given / When
    calendar = await start_calendar()
    result = await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert sum(e["cancelled"] for e in result.events) == sum(e["cancelled"] for e in EVENTS) > 0


async def test_scrape_calendar_server_caps_pages_advances_by_rows_returned(
    start_calendar: StartCalendar,
) -> None:
    # Given a server that returns at most 37 rows whatever is asked
    calendar = await start_calendar(faults=Faults(page_cap=37))

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert {e["id"] for e in result.events} == ALL_IDS and len(result.events) == 2500
    assert not result.drift
    # pages after the first overlap the one before by a row (the shift check): 36 new rows each,
    # and the probe past count
    assert result.page_count == 1 + -(-(2500 - 37) // 36) + 1


async def test_scrape_calendar_inclusive_end_row_fetches_each_row_once(
    start_calendar: StartCalendar,
) -> None:
    # Given endRow counted inclusively (101 rows per 100-row request)
    calendar = await start_calendar(faults=Faults(end_row_inclusive=True))

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert [e["id"] for e in result.events] == [e["id"] for e in EVENTS]
    assert result.page_count == -(-2500 // 101) + 1  # and the probe past count
    assert not result.drift


async def test_scrape_calendar_pages_shrink_after_first_fetches_the_gaps(
    start_calendar: StartCalendar,
) -> None:
    # Given a server that starts capping pages at 60 rows right after page 1
    calendar = await start_calendar(events=EVENTS[:1000])

    def shrink_pages(rows_so_far: int, count: int) -> None:
        calendar.faults.page_cap = 60

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url), on_page=shrink_pages)

    # Then: every 100-row span (spans overlap by a row) took a 60-row page and a 40-row gap
    # page, and the last, 10-row span one page
    assert [e["id"] for e in result.events] == [e["id"] for e in EVENTS[:1000]]
    assert result.page_count == 1 + 9 * 2 + 1 + 1  # and the probe past count
    assert not result.drift


async def test_scrape_calendar_pages_cut_to_one_row_rereads_it_then_reads_row_by_row(
    start_calendar: StartCalendar,
) -> None:
    # Given a server that answers one row a request right after page 1 (100 rows)
    calendar = await start_calendar(events=EVENTS[:300])

    def one_row_pages(rows_so_far: int, count: int) -> None:
        calendar.faults.page_cap = 1

    # When
    result = await scrape_calendar(
        fast_settings(calendar.base_url, max_concurrency=1), on_page=one_row_pages
    )

    # Then every row is read once, no drift; each span's one-row page is re-read once by the
    # gap request (sharing its row, as any short page's gap does), and only then, the server
    # plainly serving a row at a time, is the rest read row by row (spans [99, 199),
    # [198, 298), [297, 300): 2 + 99, 2 + 99 and 2 + 2 requests), plus page 1 and the probe
    assert [e["id"] for e in result.events] == [e["id"] for e in EVENTS[:300]]
    assert (result.drift, result.drift_reason) == (False, "")
    starts = [int(r.query["startRow"]) for r in calendar.requests_to(EVENTS_PATH)]
    assert [starts.count(row) for row in (99, 100, 198, 199, 297, 298)] == [2, 1, 3, 1, 3, 1]
    assert result.page_count == 1 + 101 + 101 + 4 + 1


@pytest.mark.parametrize("token_style", ["dp_auth", "object", "object_lower"])
async def test_scrape_calendar_both_token_styles_authenticate(
    start_calendar: StartCalendar, token_style: str
) -> None:
    # Given a script using either known spelling of the credential
    token = "0123456789abcdef01234567" if token_style != "dp_auth" else "c3RhbmQtaW46dGVzdA=="
    calendar = await start_calendar(events=EVENTS[:150], token=token, token_style=token_style)

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert len(result.events) == 150
    assert set(statuses(calendar)) == {200}


async def test_scrape_calendar_token_rotated_mid_run_refetches_once_and_succeeds(
    start_calendar: StartCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a token that changes after 5 events requests
    calendar = await start_calendar(
        faults=Faults(rotate_token_after_requests=5, latency_seconds=0.005)
    )
    caplog.set_level(logging.DEBUG, logger="villages_sync")

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert {e["id"] for e in result.events} == ALL_IDS
    assert len(calendar.requests_to(TOKEN_PATH)) == 2
    assert 401 in statuses(calendar)
    assert calendar.token not in caplog.text
    assert all(calendar.token not in repr(vars(record)) for record in caplog.records)


async def test_scrape_calendar_token_keeps_failing_raises_without_leaking_token(
    start_calendar: StartCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an API that refuses every token
    calendar = await start_calendar(faults=Faults(reject_all_tokens=True))
    caplog.set_level(logging.DEBUG, logger="villages_sync")

    # When
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    error = raised.value
    assert error.url.startswith(CalendarUrls.for_base(calendar.base_url).events_url)
    assert "401" in error.problem and str(error) == f"{error.url}: {error.problem}"
    assert calendar.token not in str(error) and calendar.token not in caplog.text
    assert len(calendar.requests_to(TOKEN_PATH)) == 2  # fetched again once, not more


async def test_scrape_calendar_5xx_burst_recovers_with_retries(
    start_calendar: StartCalendar,
) -> None:
    # Given the first 2 events requests fail with 502
    calendar = await start_calendar(faults=Faults(fail_first_n=2, status_for_failures=502))

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert {e["id"] for e in result.events} == ALL_IDS
    assert result.retry_count == 2
    assert statuses(calendar)[:3] == [502, 502, 200]


async def test_scrape_calendar_429_waits_at_least_retry_after(
    start_calendar: StartCalendar,
) -> None:
    # Given a 429 with Retry-After: 0.2 and a back-off far shorter than that
    calendar = await start_calendar(
        events=EVENTS[:50], faults=Faults(rate_limit_first_n=1, retry_after_seconds=0.2)
    )
    settings = fast_settings(calendar.base_url, backoff_max_seconds=1.0)

    # When
    started = time.monotonic()
    result = await scrape_calendar(settings)
    elapsed = time.monotonic() - started

    # Then
    assert elapsed >= 0.2
    assert statuses(calendar) == [429, 200, 200]  # the page, then the probe past count
    assert len(result.events) == 50 and result.retry_count == 1


async def test_scrape_calendar_retry_after_above_cap_waits_only_the_cap(
    start_calendar: StartCalendar,
) -> None:
    # Given a Retry-After of 30 s and a back-off cap of 0.05 s
    calendar = await start_calendar(
        events=EVENTS[:50], faults=Faults(rate_limit_first_n=1, retry_after_seconds=30)
    )

    # When
    started = time.monotonic()
    result = await scrape_calendar(fast_settings(calendar.base_url, backoff_max_seconds=0.05))

    # Then
    assert time.monotonic() - started < 5
    assert len(result.events) == 50


async def test_scrape_calendar_exhausted_retries_raises_naming_url_and_problem(
    start_calendar: StartCalendar,
) -> None:
    # Given an events API that keeps answering 500
    calendar = await start_calendar(faults=Faults(fail_first_n=1000))

    # When
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(calendar.base_url, max_attempts=3))

    # Then
    assert raised.value.url.startswith(f"{calendar.base_url}/events/?startRow=0")
    assert "3 attempts" in raised.value.problem and "HTTP 500" in raised.value.problem
    assert statuses(calendar) == [500, 500, 500]


async def test_scrape_calendar_site_down_raises_naming_token_url(
    start_calendar: StartCalendar,
) -> None:
    # Given every path answering 503
    calendar = await start_calendar(faults=Faults(down=True))

    # When
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert raised.value.url == CalendarUrls.for_base(calendar.base_url).token_url
    assert "HTTP 503" in raised.value.problem


async def test_scrape_calendar_connection_refused_raises_after_retries() -> None:
    # Given a port nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    # When
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(f"http://127.0.0.1:{port}"))

    # Then
    assert raised.value.url.endswith("main.js")
    assert "3 attempts" in raised.value.problem


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ("truncated_json", "not valid JSON"),
        ("html_body", "not valid JSON"),
        ("wrong_shape", "no 'events' list (its keys: data, total)"),
    ],
)
async def test_scrape_calendar_malformed_response_raises_naming_url_and_problem(
    start_calendar: StartCalendar, fault: str, problem: str
) -> None:
    # Given a response body that is not the API's shape
    calendar = await start_calendar(faults=Faults(**{fault: True}))

    # When
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert raised.value.url.startswith(f"{calendar.base_url}/events/")
    assert problem in raised.value.problem
    assert calendar.token not in str(raised.value)


async def test_scrape_calendar_script_without_token_raises_naming_token_url(
    start_calendar: StartCalendar,
) -> None:
    # Given / When
    calendar = await start_calendar(faults=Faults(script_without_token=True))
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert raised.value.url == f"{calendar.base_url}{TOKEN_PATH}"
    assert "credential" in raised.value.problem
    assert statuses(calendar) == []


async def test_scrape_calendar_token_in_template_variable_fails_saying_so(
    start_calendar: StartCalendar,
) -> None:
    # Given a script whose credential sits in a template variable (docs/calendar-contract.md)
    calendar = await start_calendar(token_style="template_variable")

    # When the scraper reads it
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(calendar.base_url))

    # Then it fails naming the script and why, and never sends "${...}" to the API
    assert raised.value.url == f"{calendar.base_url}{TOKEN_PATH}"
    assert "template variable" in raised.value.problem
    assert statuses(calendar) == []


async def test_scrape_calendar_empty_feed_returns_zero_events(
    start_calendar: StartCalendar,
) -> None:
    # Given an API that lists nothing. The scraper reports it faithfully; deciding that an
    # empty calendar is a failed run is the caller's job (the producer refuses to sweep on it).
    calendar = await start_calendar(faults=Faults(empty=True))

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert result == ScrapeResult(
        events=[], reported_count=0, drift=False, drift_reason="",
        request_count=3, retry_count=0, page_count=1,
    )  # fmt: skip


@pytest.mark.parametrize("streamed", [False, True], ids=["collected", "streamed"])
async def test_scrape_calendar_rows_beyond_an_under_reported_count_are_read_and_flag_drift(
    start_calendar: StartCalendar, streamed: bool
) -> None:
    # Given an API whose count is 3 lower than the rows it serves (finding I: a count that
    # leaves cancelled events out, or a cached one), behind 100-row pages
    calendar = await start_calendar(events=EVENTS[:1000], faults=Faults(count_offset=-3))
    delivered: list[dict] = []

    async def sink(start_row: int, events: list[dict]) -> None:
        delivered.extend(events)

    # When
    result = await scrape_calendar(
        fast_settings(calendar.base_url), on_events=sink if streamed else None
    )

    # Then the last three rows are read too, and the run is flagged: its sweep must not run
    ids = [e["id"] for e in (delivered if streamed else result.events)]
    assert sorted(ids) == sorted(e["id"] for e in EVENTS[:1000])  # each once
    assert (result.reported_count, result.drift) == (997, True)
    assert result.drift_reason == "the API served 3 more events than its count of 997"


async def test_scrape_calendar_probe_past_count_finds_nothing_new_on_a_clamping_server(
    start_calendar: StartCalendar,
) -> None:
    # Given a server that answers an offset past its last row with its last page
    calendar = await start_calendar(events=EVENTS[:1000], faults=Faults(clamp_past_end=True))

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url))

    # Then the one probe past count repeats known rows: not a finding, and no further request
    assert [e["id"] for e in result.events] == [e["id"] for e in EVENTS[:1000]]
    assert (result.drift, result.drift_reason) == (False, "")
    starts = [int(r.query["startRow"]) for r in calendar.requests_to(EVENTS_PATH)]
    assert starts.count(1000) == 1 and max(starts) == 1000


async def test_scrape_calendar_rows_removed_mid_scrape_flags_drift(
    start_calendar: StartCalendar,
) -> None:
    # Given 10 events removed after the 3rd events request, pages fetched one at a time
    calendar = await start_calendar(
        events=EVENTS[:1000], faults=Faults(mutate_after_requests=3, mutation=(0, 10))
    )

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url, max_concurrency=1))

    # Then
    assert result.drift
    assert "count changed from 1000 to 990 during the scrape" in result.drift_reason
    assert result.reported_count == 1000
    ids = [e["id"] for e in result.events]
    assert len(ids) == len(set(ids))


async def test_scrape_calendar_rows_added_mid_scrape_dedups_by_id_and_flags_drift(
    start_calendar: StartCalendar,
) -> None:
    # Given 10 events added after the 2nd request: later pages repeat rows already fetched
    calendar = await start_calendar(
        events=EVENTS[:1000],
        faults=Faults(mutate_after_requests=2, mutation=add_early_events),
    )

    # When
    result = await scrape_calendar(fast_settings(calendar.base_url, max_concurrency=1))

    # Then
    ids = [e["id"] for e in result.events]
    assert len(ids) == len(set(ids)) < 1000 + 10
    assert result.drift
    assert "count changed from 1000 to 1010" in result.drift_reason
    assert "unique events but the API reported 1000" in result.drift_reason


async def test_scrape_calendar_concurrency_bounded_by_max_concurrency(
    start_calendar: StartCalendar,
) -> None:
    # Given a slow server
    calendar = await start_calendar(faults=Faults(latency_seconds=0.02))

    # When
    await scrape_calendar(fast_settings(calendar.base_url, max_concurrency=3))

    # Then
    assert 1 < calendar.max_in_flight <= 3


async def test_scrape_calendar_slow_answer_times_out_and_retries(
    start_calendar: StartCalendar,
) -> None:
    # Given one events request that hangs for 30 s and a 0.3 s timeout
    calendar = await start_calendar(events=EVENTS[:200], faults=Faults(timeout_first_n=1))

    # When
    started = time.monotonic()
    result = await scrape_calendar(fast_settings(calendar.base_url, timeout_seconds=0.3))

    # Then
    assert time.monotonic() - started < 5
    assert len(result.events) == 200 and result.retry_count == 1


async def test_scrape_calendar_always_slow_raises_naming_timeout(
    start_calendar: StartCalendar,
) -> None:
    # Given / When
    calendar = await start_calendar(faults=Faults(timeout_first_n=100))
    with pytest.raises(CalendarError) as raised:
        await scrape_calendar(fast_settings(calendar.base_url, timeout_seconds=0.2))

    # Then
    assert "no response within 0.2 s" in raised.value.problem


async def test_scrape_calendar_offsite_redirect_is_not_followed(
    start_calendar: StartCalendar,
) -> None:
    # Given an API redirecting to another host that records what reaches it
    offsite_hits: list[str] = []

    async def steal(request: web.Request) -> web.Response:
        offsite_hits.append(request.headers.get("Authorization", ""))
        return web.json_response({"events": [], "count": 0})

    app = web.Application()
    app.router.add_get("/{tail:.*}", steal)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    offsite = f"http://localhost:{runner.addresses[0][1]}/events/"
    calendar = await start_calendar(faults=Faults(redirect_offsite=True, redirect_target=offsite))

    # When
    try:
        with pytest.raises(CalendarError) as raised:
            await scrape_calendar(fast_settings(calendar.base_url))
    finally:
        await runner.cleanup()

    # Then
    assert "another host (localhost)" in raised.value.problem
    assert offsite_hits == []


def test_running_calendar_serves_synchronous_callers() -> None:
    # Given a stand-in in a background thread
    with RunningCalendar(EVENTS[:120]) as base_url:
        # When
        import asyncio

        result = asyncio.run(scrape_calendar(fast_settings(base_url)))
        base_url.faults.empty = True
        empty = asyncio.run(scrape_calendar(fast_settings(base_url)))

    # Then
    assert isinstance(base_url, str) and base_url.base_url == str(base_url)
    assert len(result.events) == 120 and empty.events == []
    # two pages and the probe past count, then the empty calendar's one page
    assert [r.status for r in base_url.requests if r.path == EVENTS_PATH] == [200] * 4


async def test_scrape_calendar_absurd_count_raises_instead_of_hammering(
    start_calendar: StartCalendar,
) -> None:
    # Given pages of 1 row and a count of 2,500 (2,500 pages), and a page limit below that
    calendar = await start_calendar(faults=Faults(page_cap=1))

    # When
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("villages_sync.calendar_api.paging.MAX_PAGES", 1000)
        with pytest.raises(CalendarError) as raised:
            await scrape_calendar(fast_settings(calendar.base_url))

    # Then
    assert "more than 1000 pages" in raised.value.problem
    assert len(calendar.requests_to(EVENTS_PATH)) == 1
