"""The change feed end to end: runs through the real handlers, the events table's stream read
by the local stream mapping, ChangesFunction publishing to the changes bus.

What was published is read from a test-only EventBridge rule on the bus that targets an SQS
queue (moto delivers PutEvents to SQS targets), and from the changes table.
"""

from __future__ import annotations

import copy
import io
import json
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.sqs import message_count, receive_all
from villages_sync.aws.changes_table import ChangesTable
from villages_sync.aws.clients import events_client
from villages_sync.normalise import normalise_events, window_for
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.event_filter import matches_any, parse_filter_criteria
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

TZ = ZoneInfo(DEFAULT_TIMEZONE)
FAST_RETRIES = {"BACKOFF_BASE_SECONDS": "0.01", "TIMEOUT_SECONDS": "5"}
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

pytestmark = pytest.mark.change_feed


def _valid_ids(raw_events: list[dict]) -> list[str]:
    now = datetime.now(TZ)
    result = normalise_events(raw_events, tz=TZ, window=window_for(now, TZ, 90), last_updated=0)
    return sorted(item["event_id"] for item in result.items)


@pytest.fixture
def observed(deployment) -> Any:
    """A queue that receives every event put on the changes bus (a test-only rule)."""
    sqs = deployment.clients.sqs
    url = sqs.create_queue(QueueName="test-changes-observer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = events_client(deployment.endpoint_url, deployment.region)
    bus = deployment.resources.event_buses["ChangesBus"]
    events.put_rule(
        Name="test-every-change",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["villages-sync.events"]}),
    )
    events.put_targets(
        Rule="test-every-change", EventBusName=bus, Targets=[{"Id": "observer", "Arn": arn}]
    )

    def take() -> list[tuple[str, str]]:
        """(detail-type, event id) of every event published since the last take."""
        messages = receive_all(sqs, url, delete=True)
        bodies = [json.loads(m["Body"]) for m in messages]
        take.details.extend(body["detail"] for body in bodies)  # type: ignore[attr-defined]
        return sorted((body["detail-type"], body["detail"]["event_id"]) for body in bodies)

    take.details = []  # type: ignore[attr-defined]
    return take


def _pipeline(deployment, base_url: str, *, trim: bool = False) -> LocalPipeline:
    options = SyncOptions(
        calendar_base_url=base_url,
        function_log=io.StringIO(),
        extra_env=FAST_RETRIES,
        trim_read_stream_records=trim,  # what the demo does (on moto, in this process)
    )
    return LocalPipeline(deployment, options)


def _changes_table(deployment) -> ChangesTable:
    return ChangesTable(deployment.clients.dynamodb, deployment.resources.tables["ChangesTable"])


def test_change_feed_move_cancel_remove_add_each_published_once(deployment, observed):
    # Given a calendar synced once (every event is new: one Added each)
    day_one = generate_events(40, seed=23, today=datetime.now(TZ).date())
    ids = _valid_ids(day_one)
    with RunningCalendar(day_one) as calendar:
        pipeline = _pipeline(deployment, calendar.base_url, trim=True)
        first = pipeline.run_sync()
        added_first = observed()

        # When one event changes venue, one is cancelled, one is retitled, one is removed and
        # one is added, and runs sync it (the removed one is deleted by the second clean run
        # that misses it); then a run finds the calendar unchanged
        moved, cancelled, retitled, removed = ids[0], ids[1], ids[2], ids[3]
        day_two = copy.deepcopy(day_one)
        by_id = {str(event["id"]): event for event in day_two}
        by_id[moved]["location"]["title"] = "Lake Sumter Landing Market Square"
        by_id[cancelled]["cancelled"] = True
        by_id[retitled]["title"] = by_id[retitled]["title"] + " (Encore)"
        newcomer = copy.deepcopy(by_id[ids[4]])
        newcomer["id"] = 9_990_001
        newcomer["title"] = "A brand-new show"
        day_two = [e for e in day_two if str(e["id"]) != removed] + [newcomer]
        calendar.set_events(day_two)
        second = pipeline.run_sync()
        after_second = observed()
        third = pipeline.run_sync()
        after_third = observed()
        fourth = pipeline.run_sync()
        after_fourth = observed()

    # Then each run published exactly what changed, once
    assert all(run.succeeded for run in (first, second, third, fourth))
    assert added_first == [("Event Added", event_id) for event_id in ids]
    assert after_second == sorted(
        [
            ("Event Moved", moved),
            ("Event Cancelled", cancelled),
            ("Event Updated", retitled),
            ("Event Added", "9990001"),
        ]
    )
    assert after_third == [("Event Removed", removed)]
    assert after_fourth == []
    # ... with the run that caused it, what changed, and before and after
    details = {(d["event_id"], d["run_id"]): d for d in observed.details}
    move = details[(moved, second.run_id)]
    assert move["changed"] == ["location"]
    assert move["before"]["location"] != move["after"]["location"]
    assert details[(removed, third.run_id)]["after"] is None
    # ... and the changes table holds each one
    recorded = list(_changes_table(deployment).since(0))
    assert len(recorded) == len(ids) + 5
    by_run = Counter(change.detail["run_id"] for change in recorded)
    assert (by_run[second.run_id], by_run[third.run_id], by_run[fourth.run_id]) == (4, 1, 0)


def test_change_feed_redelivered_stream_publishes_no_duplicate(deployment, observed):
    # Given a run whose changes were published
    day_one = generate_events(20, seed=29, today=datetime.now(TZ).date())
    with RunningCalendar(day_one) as calendar:
        pipeline = _pipeline(deployment, calendar.base_url)
        assert pipeline.run_sync().succeeded
    published = observed()
    assert published

    # When the whole stream is delivered again (a new poller, from the trim horizon)
    again = LocalPipeline(deployment, SyncOptions(function_log=io.StringIO()))
    [mapping] = again.stream_mappings()
    report = mapping.drain()

    # Then every record was handed to the function again, and nothing was published twice
    assert report.invocations >= 1 and report.records_read >= len(published)
    assert observed() == []
    assert len(list(_changes_table(deployment).since(0))) == len(published)


def test_change_feed_ttl_expiry_publishes_nothing(deployment, observed):
    # Given a TTL expiry of a live event, as the stream records it
    record = {
        "eventID": "ttl-1",
        "eventName": "REMOVE",
        "eventSource": "aws:dynamodb",
        "userIdentity": TTL_IDENTITY,
        "dynamodb": {
            "Keys": {"event_id": {"S": "4242"}},
            "OldImage": {
                "event_id": {"S": "4242"},
                "title": {"S": "Long past"},
                "event_date": {"S": "2020-01-01"},
                "start_time": {"S": "10:00"},
                "run_id": {"S": "20200101T000000.000000Z-aaaaaa"},
            },
            "SequenceNumber": "1",
            "ApproximateCreationDateTime": 1577836800.0,
        },
    }
    pipeline = LocalPipeline(deployment, SyncOptions(function_log=io.StringIO()))
    spec = deployment.resources.stream_mappings[0]

    # When the mapping's filter sees it, and (were it let through) the function does
    filtered_in = matches_any(record, parse_filter_criteria(spec.filter_criteria))
    invocation = pipeline.invoke_function("ChangesFunction", {"Records": [record]})

    # Then the filter drops it, the function publishes nothing and fails nothing
    assert not filtered_in
    assert invocation.error is None
    assert invocation.payload == {"batchItemFailures": []}
    assert observed() == []
    assert list(_changes_table(deployment).since(0)) == []


def test_change_feed_unreadable_record_goes_to_failure_queue_without_blocking(
    deployment, observed, make_item
):
    # Given, on the stream, a live item written by hand without its title (unreadable as an
    # event) between two good new events
    dynamodb = deployment.clients.dynamodb
    table = deployment.resources.tables["EventsTable"]
    from villages_sync.aws.items import to_attributes

    dynamodb.put_item(TableName=table, Item=to_attributes(make_item("5001")))
    dynamodb.put_item(
        TableName=table,
        Item={"event_id": {"S": "5002"}, "run_id": {"S": "20261101T000000.000000Z-hand00"}},
    )
    dynamodb.put_item(TableName=table, Item=to_attributes(make_item("5003")))

    # When the stream mapping polls
    pipeline = LocalPipeline(deployment, SyncOptions(function_log=io.StringIO()))
    [mapping] = pipeline.stream_mappings()
    report = mapping.drain()

    # Then the good ones are published, and the bad one's position is on the failure queue
    assert observed() == [("Event Added", "5001"), ("Event Added", "5003")]
    assert report.records_failed_to_destination == 1
    failures = deployment.resources.queue_urls["ChangesFailureQueue"]
    [message] = receive_all(deployment.clients.sqs, failures, delete=True)
    info = json.loads(message["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert message_count(deployment.clients.sqs, failures) == 0


@pytest.mark.dynamodb_backends(
    "moto", reason="moto's own defect: it numbers two concurrent writes to a stream alike"
)
def test_change_feed_poller_ends_on_a_stream_tail_numbered_twice(deployment, make_item):
    # Given a stream whose last two records carry one SequenceNumber, as moto numbers two
    # writes that race (a record's number is the shard's length when it is made, and the
    # consumer writes eight items at a time): moto's NextShardIterator after that page points
    # back at the last record, for ever. A CLI sync sat re-reading it for three minutes.
    from moto.dynamodb.models import dynamodb_backends
    from villages_sync.aws.items import to_attributes
    from villages_sync_ops.local.intrinsics import DEFAULT_ACCOUNT_ID
    from villages_sync_ops.local.stream_source import stream_mapping

    table = deployment.resources.tables["EventsTable"]
    for event_id in ("6001", "6002", "6003"):
        deployment.clients.dynamodb.put_item(
            TableName=table, Item=to_attributes(make_item(event_id))
        )
    moto_table = dynamodb_backends[DEFAULT_ACCOUNT_ID][deployment.region].tables[table]
    last, before = moto_table.stream_shard.items[-1], moto_table.stream_shard.items[-2]
    last.record["dynamodb"]["SequenceNumber"] = before.record["dynamodb"]["SequenceNumber"]

    handed_on: list[str] = []
    pipeline = LocalPipeline(deployment, SyncOptions(function_log=io.StringIO()))

    def invoke(event: dict[str, Any]):
        handed_on.extend(record["eventID"] for record in event["Records"])
        assert len(handed_on) <= 10, f"the poller keeps handing on {handed_on[-3:]}"
        return pipeline.invoke_function("ChangesFunction", event)

    [spec] = deployment.resources.stream_mappings
    mapping = stream_mapping(
        spec,
        deployment.resources,
        dynamodb=deployment.clients.dynamodb,
        sqs=deployment.clients.sqs,
        dynamodb_url=deployment.dynamodb_url,
        region=deployment.region,
        invoke=invoke,
    )

    # When it polls the stream to its end, twice (the second finds nothing new)
    first = mapping.drain()
    second = mapping.drain()

    # Then each of the three records was handed on once, and both polls ended
    assert Counter(handed_on) == Counter(r.record["eventID"] for r in moto_table.stream_shard.items)
    assert len(handed_on) == 3
    assert (first.records_read, second.invocations) == (3, 0)
