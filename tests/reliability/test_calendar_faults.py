"""Calendar faults: the stand-in misbehaves; the run recovers exactly, or fails deleting nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from reliability_harness import Harness, expected_items, today
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason=(
        "faults of the calendar, not of DynamoDB: the writes they lead to are those of "
        "the pipeline tests, which run on both backends"
    )
)

SIZE = 120


@pytest.fixture(scope="module")
def calendar_events():
    return generate_events(SIZE, seed=61, today=today())


@dataclass(frozen=True)
class Case:
    name: str
    faults: Faults
    env: dict[str, str] = field(default_factory=dict)


RECOVERABLE = [
    Case(
        "5xx burst (4 x 502)",
        Faults(fail_first_n=4, status_for_failures=502),
        {"MAX_ATTEMPTS": "6"},
    ),
    Case("503 burst (3)", Faults(fail_first_n=3, status_for_failures=503), {"MAX_ATTEMPTS": "5"}),
    Case(
        "429 with Retry-After (3)",
        Faults(rate_limit_first_n=3, retry_after_seconds=0.05),
        {"MAX_ATTEMPTS": "5"},
    ),
    Case(
        "timeouts (2 requests hang)",
        Faults(timeout_first_n=2, timeout_hang_seconds=3.0),
        {"MAX_ATTEMPTS": "4", "TIMEOUT_SECONDS": "0.5"},
    ),
    Case("token rotated mid-scrape", Faults(rotate_token_after_requests=2), {"PAGE_SIZE": "40"}),
    Case("pages capped at 37 rows", Faults(page_cap=37)),
    Case("endRow served inclusive", Faults(end_row_inclusive=True), {"PAGE_SIZE": "40"}),
    Case("slow answers (50 ms each)", Faults(latency_seconds=0.05), {"PAGE_SIZE": "50"}),
]

FATAL = [
    Case("calendar down (503 everywhere)", Faults(down=True), {"MAX_ATTEMPTS": "3"}),
    Case("truncated JSON", Faults(truncated_json=True), {"MAX_ATTEMPTS": "3"}),
    Case("changed response shape", Faults(wrong_shape=True), {"MAX_ATTEMPTS": "3"}),
    Case("HTML error page with 200", Faults(html_body=True), {"MAX_ATTEMPTS": "3"}),
    Case("empty feed", Faults(empty=True), {"MAX_ATTEMPTS": "3"}),
    Case("every token refused (401)", Faults(reject_all_tokens=True), {"MAX_ATTEMPTS": "3"}),
    Case("script without a token", Faults(script_without_token=True), {"MAX_ATTEMPTS": "3"}),
]


def _synced(harness: Harness, events: list[dict]) -> dict[str, str]:
    with RunningCalendar(events) as calendar:
        first = harness.sync(calendar.base_url)
    assert first.succeeded
    return harness.stored_hashes()


@pytest.mark.parametrize("case", RECOVERABLE, ids=lambda c: c.name)
def test_calendar_recoverable_fault_completes_with_every_event(
    harness, calendar_events, fault_report, case
):
    # Given a calendar that misbehaves in a way a careful client recovers from
    with RunningCalendar(calendar_events, faults=case.faults) as calendar:
        # When a run syncs it
        report = harness.sync(calendar.base_url, **case.env)

    # Then the run completed and swept, and the table holds exactly the valid events
    assert report.succeeded, report.producer_error
    expected = expected_items(calendar_events)
    figures = harness.assert_exact(expected, report.run)
    fault_report.record(
        f"calendar: {case.name}",
        "retried; run completes; every valid event stored",
        f"completed after {report.producer['calendar_retries']} retries "
        f"({report.producer['calendar_requests']} requests), {len(expected)} items exact",
        **figures,
    )


@pytest.mark.parametrize("case", FATAL, ids=lambda c: c.name)
def test_calendar_broken_fails_the_run_and_deletes_nothing(
    harness, calendar_events, fault_report, case
):
    # Given a table synced from the good calendar
    before = _synced(harness, calendar_events)

    # When the calendar is broken for the next run
    with RunningCalendar(calendar_events, faults=case.faults) as calendar:
        report = harness.sync(calendar.base_url, **case.env)

    # Then the run failed, is recorded failed and never swept, and the table is untouched
    assert not report.succeeded and report.producer_error
    assert str(report.run.status) == "failed" and report.run.error
    assert report.run.sweep_outcome is None
    after = harness.stored_hashes()
    assert after == before
    assert harness.queue_count("EventsQueue") == harness.queue_count("EventsDLQ") == 0
    fault_report.record(
        f"calendar: {case.name}",
        "run fails loudly; never swept; nothing deleted",
        f"failed ({report.run.error[:70]}); {len(after)} of {len(before)} items kept",
        events=len(before),
        wrongly_deleted=len(set(before) - set(after)),
    )


def test_calendar_tenth_of_usual_size_completes_but_refuses_to_sweep(
    harness, calendar_events, fault_report
):
    # Given a table synced from the full calendar
    before = _synced(harness, calendar_events)

    # When the calendar suddenly serves a tenth of its events
    with RunningCalendar(calendar_events[: SIZE // 10]) as calendar:
        report = harness.sync(calendar.base_url)

    # Then the run completed, its sweep refused, and every earlier event is still there
    assert str(report.run.status) == "completed"
    assert str(report.run.sweep_outcome) == "refused"
    assert "too_few_events" in report.run.sweep_reason
    after = harness.stored_hashes()
    assert set(before) <= set(after)
    fault_report.record(
        "calendar: a feed a tenth of its usual size",
        "run completes; sweep refuses; nothing deleted",
        f"sweep refused ({report.run.sweep_reason.split(':')[0]}); {len(before)} items all kept",
        events=len(before),
        wrongly_deleted=len(set(before) - set(after)),
    )


@pytest.mark.parametrize("mutation", [(5, 5), (20, 0), (0, 15)], ids=["swap", "grow", "shrink"])
def test_calendar_events_added_and_removed_mid_scrape_never_deletes_a_live_event(
    harness, calendar_events, fault_report, mutation
):
    # Given a synced table and a calendar that changes while it is being scraped
    with RunningCalendar(calendar_events) as calendar:
        harness.sync(calendar.base_url)
        before = harness.stored_hashes()
        calendar.faults.mutate_after_requests = len(calendar.calendar.requests_to("/events/")) + 3
        calendar.faults.mutation = mutation

        # When a run scrapes it, and then a run scrapes the calendar at rest
        report = harness.sync(calendar.base_url, PAGE_SIZE="25")
        after_changing_run = harness.stored_hashes()
        live = expected_items(calendar.calendar.events)
        settled = harness.sync(calendar.base_url, PAGE_SIZE="25")

    # Then the changing run deleted no live event, and the next run converges exactly
    wrongly_deleted = (set(before) & set(live)) - set(after_changing_run)
    assert wrongly_deleted == set()
    assert report.run.drift or str(report.run.sweep_outcome) == "swept"
    assert settled.succeeded
    assert harness.stored_hashes() == live
    fault_report.record(
        f"calendar: events added/removed mid-scrape (+{mutation[0]}/-{mutation[1]})",
        "no live event deleted; drift flagged or sweep exact; next run converges",
        f"drift={report.run.drift}, sweep {report.run.sweep_outcome}; next run exact "
        f"({len(live)} items)",
        events=len(live),
        wrongly_deleted=len(wrongly_deleted),
    )
