"""The calendar client streaming pages to a sink: the same events and verdicts as a collected
scrape, pages handed over as they arrive, a bounded number held, a failing sink fails the
scrape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import pytest
from support.calendar import add_early_events, fast_settings
from villages_sync.calendar_api.client import ScrapeResult, scrape_calendar
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, StandInCalendar

EVENTS = generate_events(1200, seed=13, today=date(2026, 11, 24))


@pytest.fixture
async def calendars() -> AsyncIterator[Callable[..., Awaitable[StandInCalendar]]]:
    started: list[StandInCalendar] = []

    async def start(faults: Faults | None = None) -> StandInCalendar:
        calendar = StandInCalendar(EVENTS, faults=faults or Faults())
        await calendar.start()
        started.append(calendar)
        return calendar

    yield start
    for calendar in started:
        await calendar.stop()


def _verdict(result: ScrapeResult) -> tuple:
    return (
        result.reported_count,
        result.drift,
        result.drift_reason,
        result.page_count,
        result.request_count,
    )


@pytest.mark.parametrize(
    ("faults", "concurrency"),
    [
        pytest.param(lambda: Faults(), 4, id="plain"),
        pytest.param(lambda: Faults(page_cap=37), 4, id="pages-capped"),
        pytest.param(lambda: Faults(end_row_inclusive=True), 4, id="end-row-inclusive"),
        pytest.param(
            lambda: Faults(mutate_after_requests=3, mutation=(0, 10)), 1, id="rows-removed"
        ),
        pytest.param(
            lambda: Faults(mutate_after_requests=2, mutation=add_early_events), 1, id="rows-added"
        ),
        pytest.param(
            lambda: Faults(mutate_after_requests=6, mutation=(7, 7)), 1, id="added-and-removed"
        ),
    ],
)
async def test_scrape_calendar_streamed_same_events_and_verdict_as_collected(
    calendars: Callable[..., Awaitable[StandInCalendar]],
    faults: Callable[[], Faults],
    concurrency: int,
) -> None:
    # Given two identical calendars (same data, same faults)
    collected_from, streamed_from = await calendars(faults()), await calendars(faults())
    delivered: list[dict] = []

    async def sink(start_row: int, events: list[dict]) -> None:
        delivered.extend(events)

    # When one is scraped into a list and the other streamed into a sink
    collected = await scrape_calendar(
        fast_settings(collected_from.base_url, max_concurrency=concurrency)
    )
    streamed = await scrape_calendar(
        fast_settings(streamed_from.base_url, max_concurrency=concurrency), on_events=sink
    )

    # Then the sink got the same events once each, and the verdicts (drift and why) agree
    assert streamed.events == []
    assert sorted(e["id"] for e in delivered) == sorted(e["id"] for e in collected.events)
    if concurrency == 1:  # pages arrive in API order: the same events in the same order
        assert delivered == collected.events
    assert _verdict(streamed) == _verdict(collected)


async def test_scrape_calendar_streamed_first_page_delivered_before_the_rest_is_fetched(
    calendars: Callable[..., Awaitable[StandInCalendar]],
) -> None:
    # Given a calendar of 12 pages
    calendar = await calendars()
    requests_when_delivered: list[int] = []

    async def sink(start_row: int, events: list[dict]) -> None:
        requests_when_delivered.append(len(calendar.requests_to("/events/")))

    # When it is streamed
    await scrape_calendar(fast_settings(calendar.base_url), on_events=sink)

    # Then the first page reached the sink after one events request, not after all of them
    assert requests_when_delivered[0] == 1
    assert len(requests_when_delivered) == len(calendar.requests_to("/events/"))


async def test_scrape_calendar_slow_sink_holds_at_most_twice_concurrency_pages(
    calendars: Callable[..., Awaitable[StandInCalendar]],
) -> None:
    # Given a sink slower than the calendar
    calendar = await calendars()
    held = {"now": 0, "most": 0}

    async def slow_sink(start_row: int, events: list[dict]) -> None:
        held["now"] += 1
        held["most"] = max(held["most"], held["now"])
        await asyncio.sleep(0.02)  # the sink's own work, not a wait for ours
        held["now"] -= 1

    # When the calendar is streamed into it with 3 requests at a time
    result = await scrape_calendar(
        fast_settings(calendar.base_url, max_concurrency=3), on_events=slow_sink
    )

    # Then pages queued for the sink stay bounded, and every page was still fetched
    assert 1 < held["most"] <= 2 * 3
    assert calendar.max_in_flight <= 3
    assert not result.drift


async def test_scrape_calendar_sink_raises_scrape_raises_it(
    calendars: Callable[..., Awaitable[StandInCalendar]],
) -> None:
    # Given a sink that fails on its third page
    calendar = await calendars()
    pages: list[int] = []

    async def failing_sink(start_row: int, events: list[dict]) -> None:
        pages.append(start_row)
        if len(pages) == 3:
            raise RuntimeError("queue unavailable")

    # When / Then the scrape fails with the sink's error, without fetching everything
    with pytest.raises(RuntimeError, match="queue unavailable"):
        await scrape_calendar(fast_settings(calendar.base_url), on_events=failing_sink)
    assert len(pages) < 12


async def test_scrape_calendar_streamed_rows_removed_mid_scrape_flags_the_shifted_row(
    calendars: Callable[..., Awaitable[StandInCalendar]],
) -> None:
    # Given a calendar that loses 10 early events after its third events request, so rows
    # after them move up while the scrape reads on
    calendar = await calendars(Faults(mutate_after_requests=3, mutation=(0, 10)))

    async def sink(start_row: int, events: list[dict]) -> None:
        pass

    # When it is streamed one page at a time (no page is kept, only the shared rows' readings)
    result = await scrape_calendar(
        fast_settings(calendar.base_url, max_concurrency=1), on_events=sink
    )

    # Then the row two spans share, read before and after the change, is named as shifted
    assert result.drift
    assert "rows shifted during the scrape (1 page boundaries disagree, first at row 198)" in (
        result.drift_reason
    )
