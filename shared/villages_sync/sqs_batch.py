"""SQS partial batch responses for the consumer and the sweep, without Powertools' batch utility.

Behaves as ``aws_lambda_powertools.utilities.batch.process_partial_response`` with
``BatchProcessor(EventType.SQS)`` does (tests/unit/test_sqs_batch.py holds the two side by side):
each record goes to ``record_handler(record=SQSRecord)``; one that raises an ``Exception`` is
listed in ``batchItemFailures`` by its message id, in the batch's order, and only it returns to
the queue; when every record failed, ``BatchProcessingError`` is raised instead, so the whole
batch is retried and the invocation counts as an error; an event without a non-empty
``Records`` list raises ``UnexpectedBatchTypeError``. Powertools' version loads its event data
classes, its Kafka and pydantic support and more: 23 ms of a cold import in one
``python -X importtime`` run here, for the forty lines below.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, cast

logger = logging.getLogger(__name__)

ExceptionInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
PartialItemFailureResponse = dict[str, list[dict[str, str]]]


class BatchProcessingError(Exception):
    """Every record of the batch failed (each one's traceback is in ``str()``)."""

    def __init__(self, msg: str = "", child_exceptions: list[ExceptionInfo] | None = None):
        super().__init__(msg)
        self.msg = msg
        self.child_exceptions = child_exceptions or []

    def __str__(self) -> str:
        parts = [f"{super().__str__()}\n"]
        parts += ["".join(traceback.format_exception(*info)) for info in self.child_exceptions]
        return "\n".join(parts)


class UnexpectedBatchTypeError(BatchProcessingError):
    """The event is not a batch of SQS records."""


class SQSRecordAttributes:
    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @property
    def approximate_receive_count(self) -> str:
        return cast(str, self._data["ApproximateReceiveCount"])


class SQSRecord:
    """One record of Lambda's SQS event; fields are read when used, as Powertools' data class
    reads them (a record without a body fails in the record handler, not before it)."""

    __slots__ = ("raw_event",)

    def __init__(self, raw_event: Mapping[str, Any]) -> None:
        self.raw_event = raw_event

    @property
    def message_id(self) -> str:
        return cast(str, self.raw_event["messageId"])

    @property
    def body(self) -> str:
        return cast(str, self.raw_event["body"])

    @property
    def attributes(self) -> SQSRecordAttributes:
        return SQSRecordAttributes(self.raw_event["attributes"])


def process_partial_response(
    event: Mapping[str, Any], record_handler: Callable[..., Any]
) -> PartialItemFailureResponse:
    """Run ``record_handler`` on each record; the response Lambda's SQS poller expects."""
    if not isinstance(event, Mapping):
        raise ValueError("Invalid event format. Please ensure batch event is a valid SQS event.")
    records = event.get("Records", [])
    if not records or not isinstance(records, list):
        raise UnexpectedBatchTypeError(
            "Unexpected batch event type. Possible values are: SQS, KinesisDataStreams, "
            "DynamoDBStreams, Kafka"
        )
    failed: list[SQSRecord] = []
    exceptions: list[ExceptionInfo] = []
    for raw in records:
        record = SQSRecord(raw)
        try:
            record_handler(record=record)
        except Exception as error:
            logger.debug("Record processing exception: %s:%s", type(error), error)
            failed.append(record)
            exceptions.append((type(error), error, error.__traceback__))
    if not failed:
        return {"batchItemFailures": []}
    if len(failed) == len(records):
        raise BatchProcessingError(
            msg=f"All records failed processing. {len(exceptions)} individual errors logged "
            "separately below.",
            child_exceptions=exceptions,
        )
    return {"batchItemFailures": [{"itemIdentifier": record.message_id} for record in failed]}
