"""A local SQS event-source mapping that behaves like Lambda's SQS poller.

Batches of up to ``batch_size`` records in Lambda's documented record shape; a partial batch
response deletes every record not listed in ``batchItemFailures`` (an empty or unknown
``itemIdentifier``, or a failed invocation, fails the whole batch, as documented). Failed
records go back to the queue, and the queue's own redrive policy moves a record to its DLQ after
``maxReceiveCount`` receives, as SQS does.

Two local liberties, so that a run with poison messages finishes promptly and an interrupted
run leaves nothing hidden: a failed record is made visible again at once (ChangeMessageVisibility
0) instead of after the queue's visibility timeout, which is when Lambda would see it again; and
so are the records of a batch that Ctrl-C interrupted, so the next run need not wait ~6 minutes
for them (they are idempotent: whoever consumes them next applies them safely).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from villages_sync_ops.local.intrinsics import DEFAULT_REGION
from villages_sync_ops.local.lambda_runtime import Invocation

MAX_RECEIVE = 10  # ReceiveMessage's own limit per call


@dataclass(frozen=True)
class BatchReport:
    records_received: int
    records_deleted: int
    records_failed: int
    invocation_error: str


@dataclass
class DrainReport:
    invocations: int = 0
    records_received: int = 0
    records_deleted: int = 0
    records_failed: int = 0
    failed_invocations: int = 0
    elapsed_seconds: float = 0.0


class SqsEventSourceMapping:
    def __init__(
        self,
        sqs: Any,
        *,
        queue_url: str,
        queue_arn: str,
        invoke: Callable[[dict[str, Any]], Invocation],
        batch_size: int = 10,
        report_batch_item_failures: bool = True,
        region: str = DEFAULT_REGION,
    ) -> None:
        self._sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self._invoke = invoke
        self.batch_size = batch_size
        self.report_batch_item_failures = report_batch_item_failures
        self.region = region

    def drain(
        self,
        *,
        deadline_seconds: float = 300.0,
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> DrainReport:
        """Poll and invoke until the queue holds nothing visible or in flight, or the deadline."""
        report = DrainReport()
        started = time.monotonic()
        while time.monotonic() - started < deadline_seconds:
            received: list[dict[str, Any]] = []
            try:
                messages = self._receive_batch(received)
                if not messages:
                    if self._queue_is_empty():
                        break
                    continue
                batch = self._process(messages)
            except BaseException:  # KeyboardInterrupt above all: hand the batch back at once
                self._release(received)
                raise
            report.invocations += 1
            report.records_received += batch.records_received
            report.records_deleted += batch.records_deleted
            report.records_failed += batch.records_failed
            report.failed_invocations += int(bool(batch.invocation_error))
            if on_batch:
                on_batch(batch)
        report.elapsed_seconds = time.monotonic() - started
        return report

    def _receive_batch(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Fill ``messages`` (the caller's list, so an interrupted receive still knows what it
        holds) with up to ``batch_size`` records."""
        while len(messages) < self.batch_size:
            # A Ctrl-C in the middle of this call would leave messages in flight whose receipt
            # handles we never saw (hidden for the whole visibility timeout): hold it until the
            # messages are in ``messages``, where an interrupt hands them back.
            with _interrupts_deferred():
                response = self._sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=min(MAX_RECEIVE, self.batch_size - len(messages)),
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                    WaitTimeSeconds=0,
                )
                received = response.get("Messages", [])
                messages.extend(received)
            if len(received) < MAX_RECEIVE:
                break
        return messages

    def _release(self, messages: list[dict[str, Any]]) -> None:
        """Make ``messages`` visible again now (those already deleted are simply not found)."""
        for entries in _entry_batches(messages, VisibilityTimeout=0):
            with contextlib.suppress(Exception):
                self._sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)

    def _queue_is_empty(self) -> bool:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(int(value) == 0 for value in attributes.values())

    def _process(self, messages: list[dict[str, Any]]) -> BatchReport:
        records = [self.lambda_record(message) for message in messages]
        invocation = self._invoke({"Records": records})
        failed_ids = self._failed_ids(invocation, {r["messageId"] for r in records})
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        failed = [m for m in messages if m["MessageId"] in failed_ids]
        for entries in _entry_batches(done):
            self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        for entries in _entry_batches(failed, VisibilityTimeout=0):
            self._sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
        return BatchReport(
            records_received=len(messages),
            records_deleted=len(done),
            records_failed=len(failed),
            invocation_error=invocation.error_text,
        )

    def _failed_ids(self, invocation: Invocation, all_ids: set[str]) -> set[str]:
        if invocation.error is not None:
            return all_ids
        if not self.report_batch_item_failures:
            return set()
        payload = invocation.payload
        if payload is None:
            return set()
        failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
        if failures is None:
            return set()
        if not isinstance(failures, list):
            return all_ids
        failed: set[str] = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in all_ids:
                return all_ids  # documented: a malformed response fails the whole batch
            failed.add(identifier)
        return failed

    def lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        """The record Lambda's SQS poller hands the function for one received message."""
        body = message["Body"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": {key: str(value) for key, value in message.get("Attributes", {}).items()},
            "messageAttributes": {
                name: _lambda_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """SIGINT during the block is raised as KeyboardInterrupt when the block ends (main thread
    only: elsewhere signals are not delivered anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _entry_batches(messages: list[dict[str, Any]], **extra: Any) -> Iterator[list[dict[str, Any]]]:
    """Batch-call entries for ``messages`` by receipt handle, at most ten per call."""
    for start in range(0, len(messages), MAX_RECEIVE):
        chunk = messages[start : start + MAX_RECEIVE]
        yield [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], **extra}
            for i, m in enumerate(chunk)
        ]


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS's MessageAttributeValue in Lambda's event spelling (camelCase)."""
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [
            base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])
        ],
        "dataType": value.get("DataType"),
    }
