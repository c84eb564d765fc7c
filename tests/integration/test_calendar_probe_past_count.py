"""The probe past count and the shift check, at the client: bugs found in review, fixed.

M1  Float ids (2000010.0, accepted by the normaliser as the same id) are not de-duplicated by
    ``_unique_by_id``, so each row two pages share counts twice and the new ``unique > count``
    check flags every run: its sweep is refused for as long as the feed sends floats.
M2  Streaming + a server that answers an offset past its end with its last page: any event
    ``_unique_by_id`` passes through (no id, a float id) makes every re-served page "fresh",
    so ``read_beyond`` re-reads the last page until MAX_PAGES: 5,000 requests a run.
M3  (older than today) The gap request after a short page starts at the row after it, sharing
    no row with it: a shift between the two (one event removed before the gap, one added
    before the next shared row, count unchanged) skips a live event with no flag.
"""

from __future__ import annotations

from datetime import date

import pytest
from support.calendar import fast_settings
from villages_sync.calendar_api.client import scrape_calendar
from villages_sync.calendar_api.urls import EVENTS_PATH
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import StandInCalendar

TODAY = date(2026, 11, 24)


def float_ids(events: list[dict]) -> list[dict]:
    """Every id as a JSON float (2000010.0): the normaliser takes it as the same id."""
    return [{**e, "id": float(e["id"])} for e in events]


async def scrape(events, *, streaming: bool, page_size: int = 25, **faults):
    calendar = StandInCalendar(events)
    for name, value in faults.items():
        setattr(calendar.faults, name, value)
    result, got = await scrape_from(calendar, streaming=streaming, page_size=page_size)
    return result, calendar, got


async def scrape_from(calendar: StandInCalendar, *, streaming: bool, **settings):
    """Start ``calendar``, scrape it (collecting, or streaming into a sink), stop it; the
    result and the events the run got."""
    await calendar.start()
    delivered: list[dict] = []

    async def sink(start_row: int, page: list[dict]) -> None:
        delivered.extend(page)

    try:
        result = await scrape_calendar(
            fast_settings(calendar.base_url, **settings), on_events=sink if streaming else None
        )
        return result, (delivered if streaming else result.events)
    finally:
        await calendar.stop()


@pytest.mark.parametrize("streaming", [False, True], ids=["collecting", "streaming"])
async def test_float_ids_on_shared_rows_are_not_extra_events(streaming: bool) -> None:
    # 60 events, every id a float (a serialiser's change of type the normaliser accepts);
    # the calendar is complete, consistent and its count exact.
    events = float_ids(generate_events(60, seed=3, today=TODAY))

    result, _, got = await scrape(events, streaming=streaming)

    assert {e["id"] for e in got} == {e["id"] for e in events}
    assert (result.drift, result.drift_reason) == (False, "")


@pytest.mark.parametrize("streaming", [False, True], ids=["collecting", "streaming"])
async def test_clamping_server_with_an_id_less_last_event_is_not_read_5000_times(
    streaming: bool,
) -> None:
    # A server answering an offset past its end with its last page (a known shape, handled
    # by read_beyond), whose last event has no id (the normaliser rejects it).
    events = generate_events(60, seed=3, today=TODAY)
    del events[-1]["id"]

    _result, calendar, _ = await scrape(events, streaming=streaming, clamp_past_end=True)

    pages = len(calendar.requests_to(EVENTS_PATH))
    assert pages <= 10, f"{pages} events requests for 60 rows at 25 a page"


@pytest.mark.parametrize("streaming", [False, True], ids=["collecting", "streaming"])
async def test_float_ids_behind_a_clamping_server_are_not_read_5000_times(
    streaming: bool,
) -> None:
    events = float_ids(generate_events(60, seed=3, today=TODAY))

    _result, calendar, _ = await scrape(events, streaming=streaming, clamp_past_end=True)

    pages = len(calendar.requests_to(EVENTS_PATH))
    assert pages <= 10, f"{pages} events requests for 60 rows at 25 a page"


def hourly_events(n: int) -> list[dict]:
    """``n`` events one hour apart, ids in API order: row i is id 2000000 + i."""
    from datetime import UTC, datetime, timedelta

    from support.feeds import raw_event

    first = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    events = []
    for i in range(n):
        event = raw_event(2_000_000 + i, TODAY)
        start = first + timedelta(hours=i)
        event["start"] = {"date": start.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "type": "time"}
        event["end"] = {
            "date": (start + timedelta(minutes=50)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "type": "time",
        }
        events.append(event)
    return events


@pytest.mark.parametrize("rows_served", [3, 1], ids=["3-row page", "1-row page"])
@pytest.mark.parametrize("streaming", [False, True], ids=["collecting", "streaming"])
async def test_a_short_page_then_a_shift_does_not_lose_a_live_event(
    streaming: bool, rows_served: int
) -> None:
    # 40 events, 10-row pages (spans at rows 9, 17, 25, 33, sharing a row). The server answers the
    # span at row 9 with 3 rows only (a page capped below what was asked:
    # docs/calendar-contract.md), so the client asks for the gap from row 12. Between those two
    # requests one event before row 12 is removed and one added after it, both before the next
    # shared row (17): count stays 40.
    # A page cut to exactly one row (rows_served=1, issue 18's "also close") is the same case:
    # its gap must start at row 9 again, not at row 10.
    import json

    from aiohttp import web

    events = hourly_events(40)
    first_gap_row = 9 + rows_served
    skipped = events[first_gap_row]["id"]  # listed before and after the change: a live event
    removed = events[first_gap_row - 2]["id"]  # a row the short page read (or the one before)
    calendar = StandInCalendar(events)
    original = calendar._events_body
    state = {"shortened": False}

    def body(request: web.Request) -> web.StreamResponse:
        response = original(request)
        if request.query.get("startRow") == "9" and not state["shortened"]:
            state["shortened"] = True
            payload = json.loads(response.text)
            payload["events"] = payload["events"][:rows_served]
            changed = [e for e in calendar.events if e["id"] != removed]
            added = {**events[14], "id": 3_000_000}
            start = events[14]["start"]["date"].replace(":00:00.000Z", ":30:00.000Z")
            added["start"] = {"date": start, "type": "time"}
            calendar.set_events([*changed, added])
            return web.Response(text=json.dumps(payload), content_type="application/json")
        return response

    calendar._events_body = body  # type: ignore[method-assign]
    result, events_got = await scrape_from(
        calendar, streaming=streaming, page_size=10, max_concurrency=1
    )
    got = {e["id"] for e in events_got}
    assert state["shortened"]
    assert skipped in got or result.drift, (
        f"event {skipped} (listed all along) was never read and the run is not flagged "
        f"(drift={result.drift}, unique={len(got)}, count={result.reported_count}): its sweep "
        "would delete a live event"
    )


@pytest.mark.dynamodb_once(reason="the deletion rules on a hand-made feed")
def test_float_ids_do_not_refuse_every_sweep(deployment) -> None:
    # The same feed through the real local pipeline: every run is flagged, its sweep refused,
    # for as long as the calendar serialises ids as floats (the normaliser accepts them).
    from support.feeds import filler, sync
    from villages_sync_ops.standin.server import RunningCalendar

    events = float_ids(filler(60))
    with RunningCalendar(events) as calendar:
        runs = [sync(deployment, calendar.base_url, PAGE_SIZE="25") for _ in range(2)]

    assert [(r.run.drift, str(r.run.sweep_outcome)) for r in runs] != [(True, "refused")] * 2, [
        r.run.drift_reason for r in runs
    ]
