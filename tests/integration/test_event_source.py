"""The local SQS event-source mapping against a moto server: batches, partial failures, DLQ."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from support.sqs import message_count, receive_bodies, send_bodies
from villages_sync_ops.local import lambda_runtime
from villages_sync_ops.local.event_source import SqsEventSourceMapping
from villages_sync_ops.local.lambda_runtime import Invocation

REGION = "us-east-1"


@pytest.fixture
def queues(sqs) -> dict[str, str]:
    """A source queue whose RedrivePolicy sends a message to its DLQ after 3 receives."""
    dlq_url = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="events",
        Attributes={
            "VisibilityTimeout": "300",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return {"url": url, "arn": arn, "dlq_url": dlq_url}


class Recorder:
    """A Python "function" for the mapping: records every event and answers with ``respond``."""

    def __init__(self, respond: Callable[[list[dict[str, Any]]], Invocation]) -> None:
        self.events: list[dict[str, Any]] = []
        self.respond = respond

    def __call__(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        return self.respond(event["Records"])

    @property
    def bodies(self) -> Counter[str]:
        return Counter(r["body"] for e in self.events for r in e["Records"])

    @property
    def batch_sizes(self) -> list[int]:
        return [len(e["Records"]) for e in self.events]


def ok(payload: Any = None) -> Invocation:
    return Invocation(payload, None, 1.0, "req")


def fail_bodies(prefix: str) -> Callable[[list[dict[str, Any]]], Invocation]:
    def respond(records: list[dict[str, Any]]) -> Invocation:
        failures = [{"itemIdentifier": r["messageId"]} for r in records if r["body"] == prefix]
        return ok({"batchItemFailures": failures})

    return respond


def mapping(sqs, queues, recorder, **options: Any) -> SqsEventSourceMapping:
    return SqsEventSourceMapping(
        sqs, queue_url=queues["url"], queue_arn=queues["arn"], invoke=recorder, **options
    )


def test_drain_all_succeed_queue_empty_each_handled_once(sqs, queues) -> None:
    # Given 25 messages and a function that handles everything
    bodies = [f"body-{n}" for n in range(25)]
    send_bodies(sqs, queues["url"], bodies)
    recorder = Recorder(lambda records: ok({"batchItemFailures": []}))
    # When the mapping drains the queue
    report = mapping(sqs, queues, recorder).drain(deadline_seconds=60)
    # Then every body was handled exactly once and nothing is left anywhere
    assert recorder.bodies == Counter(bodies)
    assert report.records_received == 25
    assert report.records_deleted == 25
    assert report.records_failed == 0
    assert message_count(sqs, queues["url"]) == 0
    assert message_count(sqs, queues["dlq_url"]) == 0


def test_drain_partial_failures_only_failed_redelivered(sqs, queues) -> None:
    # Given messages of which two fail on their first delivery only
    send_bodies(sqs, queues["url"], ["a", "b", "flaky-1", "c", "flaky-2"])
    failed_once: set[str] = set()

    def respond(records: list[dict[str, Any]]) -> Invocation:
        failures = []
        for record in records:
            if record["body"].startswith("flaky") and record["body"] not in failed_once:
                failed_once.add(record["body"])
                failures.append({"itemIdentifier": record["messageId"]})
        return ok({"batchItemFailures": failures})

    recorder = Recorder(respond)
    # When the mapping drains the queue
    report = mapping(sqs, queues, recorder).drain(deadline_seconds=60)
    # Then only the failed ones came again, once more each, and the queue is empty
    assert recorder.bodies == Counter({"a": 1, "b": 1, "c": 1, "flaky-1": 2, "flaky-2": 2})
    assert recorder.events[0]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "1"
    second = [r for e in recorder.events[1:] for r in e["Records"]]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in second} == {"2"}
    assert report.records_failed == 2
    assert message_count(sqs, queues["url"]) == 0
    assert message_count(sqs, queues["dlq_url"]) == 0


def test_drain_poison_message_dlq_after_three_receives(sqs, queues) -> None:
    # Given a poison message among good ones, on a queue with a 300 s visibility timeout
    send_bodies(sqs, queues["url"], ["good-1", "poison", "good-2"])
    recorder = Recorder(fail_bodies("poison"))
    # When the mapping drains the queue (the call must return; the deadline is generous)
    report = mapping(sqs, queues, recorder).drain(deadline_seconds=120)
    # Then the poison was received 3 times and is in the DLQ; its neighbours were handled once
    assert recorder.bodies == Counter({"good-1": 1, "good-2": 1, "poison": 3})
    assert report.records_failed == 3
    assert message_count(sqs, queues["url"]) == 0
    assert receive_bodies(sqs, queues["dlq_url"]) == ["poison"]


def test_drain_handler_error_whole_batch_failed(sqs, queues) -> None:
    # Given a function that fails its first invocation with an error
    send_bodies(sqs, queues["url"], ["x", "y", "z"])
    calls = []

    def respond(records: list[dict[str, Any]]) -> Invocation:
        calls.append(len(records))
        if len(calls) == 1:
            # A partial-failure list is ignored when the invocation itself failed
            error = {"errorType": "RuntimeError", "errorMessage": "down"}
            return Invocation(None, error, 1.0, "req")
        return ok()

    recorder = Recorder(respond)
    batches = []
    # When the mapping drains the queue
    report = mapping(sqs, queues, recorder).drain(deadline_seconds=60, on_batch=batches.append)
    # Then the whole first batch came again, and the error is reported
    assert recorder.bodies == Counter({"x": 2, "y": 2, "z": 2})
    assert report.failed_invocations == 1
    assert batches[0].records_failed == 3
    assert batches[0].invocation_error == "RuntimeError: down"
    assert message_count(sqs, queues["url"]) == 0


@pytest.mark.parametrize(
    "bad_failure",
    [{"itemIdentifier": ""}, {"itemIdentifier": "not-a-message-id"}, {}, "just-a-string"],
)
def test_drain_bad_item_identifier_whole_batch_failed(sqs, queues, bad_failure) -> None:
    # Given a function whose first partial response has an empty or unknown itemIdentifier
    send_bodies(sqs, queues["url"], ["p", "q"])
    answers = iter([ok({"batchItemFailures": [bad_failure]})])
    recorder = Recorder(lambda records: next(answers, ok()))
    # When the mapping drains the queue
    report = mapping(sqs, queues, recorder).drain(deadline_seconds=60)
    # Then the whole first batch failed and was delivered again
    assert recorder.bodies == Counter({"p": 2, "q": 2})
    assert report.records_failed == 2
    assert message_count(sqs, queues["url"]) == 0


@pytest.mark.parametrize(("batch_size", "count"), [(1, 3), (4, 10), (25, 60)])
def test_drain_batch_size_never_exceeded(sqs, queues, batch_size: int, count: int) -> None:
    # Given more messages than one batch holds
    bodies = [f"m{n}" for n in range(count)]
    send_bodies(sqs, queues["url"], bodies)
    recorder = Recorder(lambda records: ok())
    # When the mapping drains with a batch size
    mapping(sqs, queues, recorder, batch_size=batch_size).drain(deadline_seconds=60)
    # Then no invocation had more records than the batch size, and everything was handled once
    assert max(recorder.batch_sizes) <= batch_size
    assert recorder.bodies == Counter(bodies)
    if batch_size > 10:
        # several receives were combined into one invocation
        assert max(recorder.batch_sizes) > 10


def test_drain_records_lambda_sqs_shape(sqs, queues) -> None:
    # Given a message with attributes
    sqs.send_message(
        QueueUrl=queues["url"],
        MessageBody='{"v": 1}',
        MessageAttributes={
            "run_id": {"DataType": "String", "StringValue": "r-1"},
            "attempt": {"DataType": "Number", "StringValue": "2"},
        },
    )
    recorder = Recorder(lambda records: ok())
    # When the mapping drains the queue
    mapping(sqs, queues, recorder, region=REGION).drain(deadline_seconds=60)
    # Then the record has Lambda's SQS event shape
    (record,) = recorder.events[0]["Records"]
    assert record["messageId"]
    assert record["receiptHandle"]
    assert record["body"] == '{"v": 1}'
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"]["run_id"]["stringValue"] == "r-1"
    assert record["messageAttributes"]["run_id"]["dataType"] == "String"
    assert record["messageAttributes"]["attempt"]["dataType"] == "Number"
    assert record["md5OfBody"] == hashlib.md5(b'{"v": 1}').hexdigest()
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queues["arn"]
    assert record["awsRegion"] == REGION


def test_drain_with_lambda_runtime_invoke_poison_to_dlq(sqs, queues, handlers: str) -> None:
    # Given a real handler module invoked through the local Lambda runtime
    send_bodies(sqs, queues["url"], ["fine", "poison pill"])
    seen: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> Invocation:
        seen.append(event)
        return lambda_runtime.invoke(
            f"{handlers}.sqs_fail_bodies_starting_poison",
            event,
            env={},
            function_name="consumer",
            timeout_seconds=30,
            memory_mb=128,
        )

    # When the mapping drains the queue
    mapping(sqs, queues, invoke).drain(deadline_seconds=120)
    # Then the good message was handled once and the poison ended in the DLQ
    handled = Counter(r["body"] for e in seen for r in e["Records"])
    assert handled == Counter({"fine": 1, "poison pill": 3})
    assert message_count(sqs, queues["url"]) == 0
    assert receive_bodies(sqs, queues["dlq_url"]) == ["poison pill"]
