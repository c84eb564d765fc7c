"""Whole runs through the real handlers: stand-in calendar on 127.0.0.1, moto over HTTP.

Each test drives ``LocalPipeline`` (the local runtime that `villages-sync sync` uses) and then
asserts on what is in the events table, the run record and the queues.
"""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.sqs import message_count
from villages_sync.normalise import normalise_events, window_for
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.standin.dataset import generate_events, mutate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar

TZ = ZoneInfo(DEFAULT_TIMEZONE)
FAST_RETRIES = {"BACKOFF_BASE_SECONDS": "0.01", "TIMEOUT_SECONDS": "5"}
# The calendar misbehaving, not DynamoDB: these runs' writes are those of the other tests here.
CALENDAR_BEHAVIOUR = pytest.mark.dynamodb_once(
    reason=(
        "the calendar's behaviour, not DynamoDB's: the writes these runs make (upserts, a "
        "failed or flagged run record, no deletes) are tested on both backends by the other "
        "tests of this module"
    )
)


def _today():
    return datetime.now(TZ).date()


def _expected_ids(raw_events) -> set[str]:
    """The valid events of the window, by the normaliser (unit-tested on its own)."""
    now = datetime.now(TZ)
    result = normalise_events(raw_events, tz=TZ, window=window_for(now, TZ, 90), last_updated=0)
    return {item["event_id"] for item in result.items}


def _stored_ids(deployment) -> set[str]:
    client = deployment.clients.dynamodb
    table = deployment.resources.tables["EventsTable"]
    ids: set[str] = set()
    for page in client.get_paginator("scan").paginate(
        TableName=table,
        ProjectionExpression="event_id",
        FilterExpression="attribute_not_exists(deleted_by)",
    ):
        ids.update(item["event_id"]["S"] for item in page["Items"])
    return ids


def _sync(deployment, base_url: str, **extra_env: str):
    options = SyncOptions(
        calendar_base_url=base_url,
        function_log=io.StringIO(),
        extra_env={**FAST_RETRIES, **extra_env},
    )
    return LocalPipeline(deployment, options).run_sync()


@pytest.fixture
def day_one():
    return generate_events(300, seed=11, today=_today())


def test_sync_clean_calendar_stores_exactly_the_valid_events(deployment, day_one):
    # Given a well-behaved calendar
    with RunningCalendar(day_one) as calendar:
        # When one run syncs it
        report = _sync(deployment, calendar.base_url)

    # Then the run completed and swept, and the table holds exactly the valid events
    assert report.succeeded, report.producer_error
    assert str(report.run.sweep_outcome) == "swept"
    assert _stored_ids(deployment) == _expected_ids(day_one)
    assert report.run.upserts["added"] == len(_expected_ids(day_one))
    events_queue = deployment.resources.queue_urls["EventsQueue"]
    assert message_count(deployment.clients.sqs, events_queue) == 0


def test_sync_next_day_adds_updates_and_deletes(deployment, day_one):
    # Given a table synced from day one, and a calendar changed overnight
    day_two = mutate_events(day_one, seed=12, added=30, removed=25, changed=40)
    with RunningCalendar(day_one) as calendar:
        _sync(deployment, calendar.base_url)
        calendar.set_events(day_two)

        # When the next run syncs, and the one after it
        report = _sync(deployment, calendar.base_url)
        after_first = _stored_ids(deployment)
        second = _sync(deployment, calendar.base_url)

    # Then new ones are in at once; removed ones are counted as missed by the first run and
    # deleted by the second (two clean runs in a row); the counts show every kind
    removed = _expected_ids(day_one) - _expected_ids(day_two)
    assert report.succeeded, report.producer_error
    assert removed and (report.run.missed_count, report.run.deleted_count) == (len(removed), 0)
    assert after_first == _expected_ids(day_two) | removed
    assert report.run.upserts["added"] >= 1
    assert report.run.upserts["updated"] >= 1
    assert second.succeeded, second.producer_error
    assert second.run.deleted_count == len(removed)
    assert _stored_ids(deployment) == _expected_ids(day_two)


@CALENDAR_BEHAVIOUR
def test_sync_misbehaving_calendar_still_stores_every_valid_event(deployment, day_one):
    # Given a calendar that caps pages, fails with 5xx, rate-limits and rotates its token
    faults = Faults(
        page_cap=37,
        fail_first_n=2,
        rate_limit_first_n=2,
        retry_after_seconds=0.05,
        rotate_token_after_requests=4,
    )
    with RunningCalendar(day_one, faults=faults) as calendar:
        # When a run syncs it, allowing enough attempts for four failures in a row
        report = _sync(deployment, calendar.base_url, MAX_ATTEMPTS="6")

    # Then nothing was lost and the run completed
    assert report.succeeded, report.producer_error
    assert _stored_ids(deployment) == _expected_ids(day_one)


@CALENDAR_BEHAVIOUR
@pytest.mark.parametrize(
    "faults",
    [Faults(down=True), Faults(wrong_shape=True), Faults(truncated_json=True), Faults(empty=True)],
    ids=["down", "changed-shape", "truncated-json", "empty"],
)
def test_sync_broken_calendar_fails_and_deletes_nothing(deployment, day_one, faults):
    # Given a table synced from a good calendar
    with RunningCalendar(day_one) as calendar:
        _sync(deployment, calendar.base_url)
    before = _stored_ids(deployment)

    # When the calendar is broken for the next run
    with RunningCalendar(day_one, faults=faults) as calendar:
        report = _sync(deployment, calendar.base_url, MAX_ATTEMPTS="3")

    # Then the run failed loudly, was recorded as failed, and the table is untouched
    assert not report.succeeded
    assert report.producer_error
    assert str(report.run.status) == "failed"
    assert report.run.error
    assert _stored_ids(deployment) == before


def test_sync_tenth_of_the_calendar_refuses_to_sweep(deployment, day_one):
    # Given a table synced from the full calendar
    with RunningCalendar(day_one) as calendar:
        _sync(deployment, calendar.base_url)
        before = _stored_ids(deployment)

        # When the calendar suddenly serves a tenth of its events
        calendar.set_events(day_one[: len(day_one) // 10])
        report = _sync(deployment, calendar.base_url)

    # Then the run completed but its sweep refused, and every earlier event is still there
    assert str(report.run.status) == "completed"
    assert str(report.run.sweep_outcome) == "refused"
    assert "too_few_events" in report.run.sweep_reason
    assert _stored_ids(deployment) == before


@CALENDAR_BEHAVIOUR
def test_sync_events_added_and_removed_mid_scrape_never_deletes_a_live_event(deployment, day_one):
    # Given a synced table and a calendar that adds 5 and removes 5 events (count unchanged)
    # while it is being scraped, so offset pages may shift under the scraper
    with RunningCalendar(day_one) as calendar:
        _sync(deployment, calendar.base_url)
        before = _stored_ids(deployment)
        calendar.faults.mutate_after_requests = len(calendar.calendar.requests_to("/events/")) + 3
        calendar.faults.mutation = (5, 5)

        # When a run scrapes it, and then a run scrapes the calendar at rest
        report = _sync(deployment, calendar.base_url, PAGE_SIZE="50")
        after_changing_run = _stored_ids(deployment)
        live = _expected_ids(calendar.calendar.events)
        settled = [_sync(deployment, calendar.base_url, PAGE_SIZE="50") for _ in range(2)]

    # Then the changing run deleted no live event (only events really removed, if it swept),
    # and two runs at rest converge on exactly the calendar's events
    assert (before & live) <= after_changing_run
    assert (before - after_changing_run) <= (before - live)
    assert report.run.drift or str(report.run.sweep_outcome) == "swept"
    assert all(run.succeeded for run in settled)
    assert _stored_ids(deployment) == live


@CALENDAR_BEHAVIOUR
def test_sync_count_changes_mid_scrape_flags_drift_and_deletes_nothing(deployment, day_one):
    # Given a synced table and a calendar that gains 20 events while it is being scraped
    with RunningCalendar(day_one) as calendar:
        _sync(deployment, calendar.base_url)
        before = _stored_ids(deployment)
        calendar.faults.mutate_after_requests = len(calendar.calendar.requests_to("/events/")) + 3
        calendar.faults.mutation = (20, 0)

        # When a run scrapes it
        report = _sync(deployment, calendar.base_url, PAGE_SIZE="50")

    # Then the run is flagged, its sweep refused with that reason, and nothing was deleted
    assert report.run.drift
    assert "count changed" in report.run.drift_reason
    assert str(report.run.sweep_outcome) == "refused"
    assert "calendar_changed_during_scrape" in report.run.sweep_reason
    assert before <= _stored_ids(deployment)


@pytest.mark.dynamodb_once(
    reason=(
        "poison messages live in SQS (moto for both backends); the consumer's writes are "
        "tested on both by the other tests of this module"
    )
)
def test_sync_poison_messages_on_queue_finish_promptly_in_dlq(deployment, day_one):
    # Given junk already waiting on the events queue
    sqs, queues = deployment.clients.sqs, deployment.resources.queue_urls
    for body in ("not json", '{"v": 99}', '{"v": 1, "run_id": 5}'):
        sqs.send_message(QueueUrl=queues["EventsQueue"], MessageBody=body)

    # When a run syncs a good calendar
    with RunningCalendar(day_one) as calendar:
        report = _sync(deployment, calendar.base_url)

    # Then the run completed with every valid event, and the junk sits in the DLQ
    assert report.succeeded
    assert _stored_ids(deployment) == _expected_ids(day_one)
    assert message_count(sqs, queues["EventsQueue"]) == 0
    assert message_count(sqs, queues["EventsDLQ"]) == 3


def test_sync_ends_a_run_its_killed_producer_left_scraping(deployment, day_one):
    # Given a run left SCRAPING (its producer killed at Lambda's timeout: no exception ever
    # reached Python to record it)
    from villages_sync.models import DateWindow, RunRecord, RunStatus

    stuck_id = "20261101T000000.000000Z-killed"
    started = int(datetime.now(TZ).timestamp()) - 3 * 3600
    window = window_for(datetime.now(TZ), TZ, 90)
    deployment.runs.start_run(
        RunRecord(stuck_id, started, DateWindow(window.first, window.last), RunStatus.SCRAPING)
    )

    # When the next run syncs
    with RunningCalendar(day_one) as calendar:
        report = _sync(deployment, calendar.base_url)

    # Then the stuck run is ended as failed (abandoned), never swept; the new run is unaffected
    stuck = deployment.runs.get(stuck_id)
    assert stuck.status is RunStatus.FAILED
    assert stuck.error.startswith("abandoned")
    assert stuck.sweep_outcome is None
    assert report.succeeded, report.producer_error
