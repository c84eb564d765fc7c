"""The streaming producer through the real handlers (LocalPipeline, moto over HTTP, stand-in):
messages leave while the scrape goes on, the completion protocol holds, and a run that fails
part-way is failed, never swept, and leaves only upserts."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.sqs import message_count
from villages_sync.normalise import normalise_events, window_for
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason=(
        "the producer's streaming (SQS and the calendar); its run-record writes are "
        "tested on both backends in test_runs_table"
    )
)

TZ = ZoneInfo(DEFAULT_TIMEZONE)


def _events(count: int) -> list[dict]:
    return generate_events(count, seed=17, today=datetime.now(TZ).date())


def _valid_ids(raws: list[dict]) -> set[str]:
    now = datetime.now(TZ)
    items = normalise_events(raws, tz=TZ, window=window_for(now, TZ, 90), last_updated=0).items
    return {item["event_id"] for item in items}


def _stored_ids(deployment) -> set[str]:
    table = deployment.resources.tables["EventsTable"]
    pages = deployment.clients.dynamodb.get_paginator("scan").paginate(
        TableName=table,
        ProjectionExpression="event_id",
        FilterExpression="attribute_not_exists(deleted_by)",
    )
    return {item["event_id"]["S"] for page in pages for item in page["Items"]}


def _pipeline(deployment, base_url: str, **env: str) -> LocalPipeline:
    options = SyncOptions(
        calendar_base_url=base_url,
        function_log=io.StringIO(),
        extra_env={"BACKOFF_BASE_SECONDS": "0.01", "TIMEOUT_SECONDS": "5", **env},
    )
    return LocalPipeline(deployment, options)


def test_producer_slow_calendar_first_message_sent_long_before_the_scrape_ends(deployment):
    # Given a calendar of 3,000 events answering each page after 50 ms
    events = _events(3000)
    with RunningCalendar(events, faults=Faults(latency_seconds=0.05)) as calendar:
        # When a run syncs it
        report = _pipeline(deployment, calendar.base_url, MAX_CONCURRENCY="4").run_sync()

    # Then the first message was on the queue soon after the first page, well before the
    # scrape ended, and the run completed with every message and every valid event
    summary = report.producer
    assert report.succeeded, report.producer_error
    assert summary["first_message_seconds"] - summary["first_page_seconds"] < 0.5
    assert summary["first_message_seconds"] < summary["scrape_seconds"] / 2
    assert report.run.message_count == summary["messages"] == 30
    assert report.run.done_sequences == set(range(30))
    assert summary["send_calls"] <= 1 + 3  # the first message alone, then full calls
    assert _stored_ids(deployment) == _valid_ids(events)
    assert str(report.run.sweep_outcome) == "swept"


def test_producer_calendar_fails_part_way_run_failed_never_swept_only_upserts(deployment):
    # Given a table synced once, and a calendar that goes down after its 6th events page
    events = _events(2000)
    with RunningCalendar(events) as calendar:
        first = _pipeline(deployment, calendar.base_url).run_sync()
        assert first.succeeded, first.producer_error
        stored_before = _stored_ids(deployment)

        def go_down(current: list[dict]) -> list[dict]:
            calendar.faults.down = True
            return current

        calendar.faults.mutate_after_requests = len(calendar.calendar.requests_to("/events/")) + 6
        calendar.faults.mutation = go_down

        # When the next run scrapes it, then every message it sent is consumed
        pipeline = _pipeline(deployment, calendar.base_url, MAX_ATTEMPTS="3", MAX_CONCURRENCY="1")
        report = pipeline.run_sync()
        sent = message_count(deployment.clients.sqs, deployment.resources.queue_urls["EventsQueue"])
        pipeline.drain_queues()

    # Then the run failed after sending some messages; nothing was deleted, no sweep asked
    assert report.producer_error
    assert sent > 0, report.producer_error
    run = deployment.runs.get(report.run_id)
    assert str(run.status) == "failed" and run.sweep_outcome is None
    assert not run.sweep_requested
    assert _stored_ids(deployment) == stored_before
