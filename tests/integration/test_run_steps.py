"""The three steps of a run, called directly on filled tables (issue 25's test seams):
``produce_run``, ``consume_message`` and ``sweep_run`` against the template's tables and queues
in a moto server (or DynamoDB Local), with no local sync around them; and the consumer
function's exact partial-batch answer for a mixed batch, Powertools-style.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.sqs import message_count
from villages_sync.aws.queue import SweepQueue
from villages_sync.consume import consume_message
from villages_sync.normalise import normalise_events, window_for
from villages_sync.produce import produce_run
from villages_sync.run_ids import new_run_id
from villages_sync.settings import DEFAULT_TIMEZONE, ProducerSettings, SweepSettings
from villages_sync.sweep import sweep_run
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

TZ = ZoneInfo(DEFAULT_TIMEZONE)


@pytest.fixture
def calendar_events():
    return generate_events(60, seed=2025, today=datetime.now(TZ).date())


def _env(deployment, logical_id: str, base_url: str = "", **extra: str) -> dict[str, str]:
    options = SyncOptions(calendar_base_url=base_url or None, extra_env=extra)
    pipeline = LocalPipeline(deployment, options)
    return pipeline.function_env(deployment.resources.functions[logical_id])


def _receive_all(sqs, url: str) -> list[dict]:
    messages: list[dict] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", []):
        messages += batch
    return messages


def _expected_ids(raw_events, now: datetime) -> set[str]:
    result = normalise_events(raw_events, tz=TZ, window=window_for(now, TZ, 90), last_updated=0)
    return {item["event_id"] for item in result.items}


def _stored_ids(deployment) -> set[str]:
    ids: set[str] = set()
    for page in deployment.clients.dynamodb.get_paginator("scan").paginate(
        TableName=deployment.resources.tables["EventsTable"],
        FilterExpression="attribute_not_exists(deleted_by)",
    ):
        ids.update(item["event_id"]["S"] for item in page["Items"])
    return ids


def _produce(deployment, base_url: str, now: datetime, **env: str):
    settings = ProducerSettings.from_env(_env(deployment, "ProducerFunction", base_url, **env))
    run_id = new_run_id(now)
    summary = produce_run(
        settings, run_id=run_id, now=now, runs=deployment.runs, sqs=deployment.clients.sqs
    )
    return run_id, summary


def _consume_all(deployment) -> list:
    sqs = deployment.clients.sqs
    urls = deployment.resources.queue_urls
    return [
        consume_message(
            message["Body"],
            events=deployment.events,
            runs=deployment.runs,
            sweep_queue=SweepQueue(sqs, urls["SweepQueue"]),
            now=time.time(),
        )
        for message in _receive_all(sqs, urls["EventsQueue"])
    ]


def test_produce_run_records_the_run_and_enqueues_its_messages(deployment, calendar_events):
    # Given a calendar of 60 events and an empty events table
    now = datetime.now(UTC)
    with RunningCalendar(calendar_events) as calendar:
        # When produce_run runs, messages of at most 10 events
        run_id, summary = _produce(deployment, calendar.base_url, now, MESSAGE_MAX_EVENTS="10")

    # Then the run is recorded as enqueued with its counts, and its messages wait on the queue
    run = deployment.runs.get(run_id)
    assert str(run.status) == "enqueued"
    assert (
        summary.tallies.events == len(_expected_ids(calendar_events, now))
        and summary.tallies.events > 0
    )
    assert summary.tallies.messages == run.message_count >= 6
    assert run.event_count == summary.tallies.events
    url = deployment.resources.queue_urls["EventsQueue"]
    assert message_count(deployment.clients.sqs, url) == summary.tallies.messages
    assert _stored_ids(deployment) == set()  # the producer writes no event itself


def test_consume_message_upserts_each_message_and_completes_the_run(deployment, calendar_events):
    # Given a produced run whose messages are on the events queue
    now = datetime.now(UTC)
    with RunningCalendar(calendar_events) as calendar:
        run_id, summary = _produce(deployment, calendar.base_url, now, MESSAGE_MAX_EVENTS="10")

    # When consume_message applies every message, one at a time
    outcomes = _consume_all(deployment)

    # Then every event is stored, the last message completed the run, and one sweep request
    # for it waits on the sweep queue
    assert len(outcomes) == summary.tallies.messages
    assert _stored_ids(deployment) == _expected_ids(calendar_events, now)
    assert sum(o.counts.get("added", 0) for o in outcomes) == summary.tallies.events
    assert [bool(o.completed_run) for o in outcomes].count(True) == 1
    assert str(deployment.runs.get(run_id).status) == "completed"
    sweep_url = deployment.resources.queue_urls["SweepQueue"]
    assert message_count(deployment.clients.sqs, sweep_url) == 1


def test_sweep_run_counts_an_event_the_run_did_not_see_and_keeps_the_rest(
    deployment, calendar_events, make_item
):
    # Given a table filled by a completed run, plus one event in its window that no run of
    # this calendar lists (stored by an earlier run)
    now = datetime.now(UTC)
    earlier = new_run_id(now - timedelta(days=1))
    tomorrow = (datetime.now(TZ) + timedelta(days=1)).date().isoformat()
    gone = make_item("999999", event_date=tomorrow, start_iso=f"{tomorrow}T17:00:00-05:00")
    gone["ttl"] = int((now + timedelta(days=30)).timestamp())
    deployment.events.upsert(gone, earlier)
    with RunningCalendar(calendar_events) as calendar:
        run_id, _ = _produce(deployment, calendar.base_url, now)
    _consume_all(deployment)
    rules = SweepSettings.from_env(_env(deployment, "SweepFunction")).rules

    # When sweep_run sweeps the run
    summary = sweep_run(
        run_id, events=deployment.events, runs=deployment.runs, rules=rules, now=time.time()
    )

    # Then it found that one event stale and counted it missed (deleted only if the next run
    # lacks it too), and every event is still stored
    assert (summary.stale_found, summary.missed, summary.deleted) == (1, 1, 0)
    assert _stored_ids(deployment) == _expected_ids(calendar_events, now) | {"999999"}
    recorded = deployment.runs.get(run_id)
    assert str(recorded.sweep_outcome) == summary.outcome
    # and a second call (a redelivered request) does nothing again
    again = sweep_run(
        run_id, events=deployment.events, runs=deployment.runs, rules=rules, now=time.time()
    )
    assert again.already_done and again.deleted == summary.deleted


def test_consumer_handler_reports_exactly_the_poison_record_of_a_mixed_batch(
    deployment, calendar_events
):
    # Given a batch of three SQS records: a good message, a poison one, another good one
    now = datetime.now(UTC)
    with RunningCalendar(calendar_events) as calendar:
        _produce(deployment, calendar.base_url, now, MESSAGE_MAX_EVENTS="10")
    pipeline = LocalPipeline(deployment, SyncOptions(function_log=io.StringIO()))
    mapping = pipeline.event_source_mapping(deployment.resources.event_source_mappings[0])
    url = deployment.resources.queue_urls["EventsQueue"]
    good = deployment.clients.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=2, AttributeNames=["All"], WaitTimeSeconds=0
    )["Messages"]
    assert len(good) == 2
    poison = {"MessageId": "poison-0001", "ReceiptHandle": "poison", "Body": "not a message"}
    records = [mapping.lambda_record(m) for m in (good[0], poison, good[1])]

    # When the consumer function is invoked with it, as Lambda's SQS poller does
    invocation = pipeline.invoke_function("ConsumerFunction", {"Records": records})

    # Then it answers with exactly the poison record as failed, and both good messages' events
    # are stored
    assert invocation.succeeded, invocation.error_text
    assert invocation.payload == {"batchItemFailures": [{"itemIdentifier": "poison-0001"}]}
    assert len(_stored_ids(deployment)) == 20
