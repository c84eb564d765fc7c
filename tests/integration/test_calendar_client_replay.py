"""The calendar client against a recorded session: a cassette from the stand-in with faults
(pages capped at 20 rows, a 503 and a 429 before the first page), replayed over HTTP on
127.0.0.1. A change to what the client asks for (another query, another order of retries, a
request more or fewer) fails here without any live server; re-record with
tools/record_test_cassettes.py when the change is deliberate."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from villages_sync.calendar_api.client import CalendarError, scrape_calendar
from villages_sync.calendar_api.urls import EVENTS_PATH
from villages_sync.settings import CalendarSettings
from villages_sync_ops.standin.replay import ReplayCalendar

ROOT = Path(__file__).resolve().parents[2]
CASSETTE = ROOT / "tests" / "fixtures" / "cassettes" / "standin_capped_with_retries.yaml"
_spec = importlib.util.spec_from_file_location(
    "recorder", ROOT / "tools" / "record_test_cassettes.py"
)
assert _spec is not None and _spec.loader is not None
recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recorder)


@pytest.fixture
async def replay() -> AsyncIterator[ReplayCalendar]:
    calendar = ReplayCalendar.from_file(CASSETTE)
    await calendar.start()
    yield calendar
    await calendar.stop()


def settings_for(base_url: str, **changes: object) -> CalendarSettings:
    settings = CalendarSettings(base_url=base_url, **recorder.SETTINGS)
    return dataclasses.replace(settings, backoff_max_seconds=0.0, **changes)  # type: ignore[arg-type]


async def test_client_replaying_recorded_faulty_session_asks_exactly_what_it_asked(
    replay: ReplayCalendar,
) -> None:
    # Given the recorded session / When the client scrapes the replay with the same settings
    result = await scrape_calendar(settings_for(replay.base_url))

    # Then it gets every recorded event once, after the same retries, using every recorded
    # answer and asking nothing the recording lacks
    assert [e["id"] for e in result.events] == [e["id"] for e in sorted_events()]
    assert (result.request_count, result.retry_count, result.drift) == (9, 2, False)
    assert replay.unmatched == []
    assert {key: len(answers) for key, answers in replay.answers.items() if answers} == {}


async def test_client_asking_other_pages_than_recorded_fails_naming_the_request(
    replay: ReplayCalendar,
) -> None:
    # Given a client change: another page size
    with pytest.raises(CalendarError) as failure:
        await scrape_calendar(settings_for(replay.base_url, page_size=30))

    # Then the replay refuses the unrecorded page and the failure names it
    assert "HTTP 404" in str(failure.value)
    assert replay.unmatched == [f"GET {EVENTS_PATH}?startRow=0&endRow=30"]


def sorted_events() -> list[dict]:
    from villages_sync_ops.standin.dataset import api_order

    return sorted(recorder.EVENTS, key=api_order)
