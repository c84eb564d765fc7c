"""A local DynamoDB-stream event-source mapping that behaves like Lambda's stream poller.

It reads the table's stream through the ``dynamodbstreams`` API (moto and DynamoDB Local both
serve it, at the DynamoDB endpoint), in pages of up to 1,000 records (GetRecords' limit: reading
record by record cost ~8 ms a record on moto), drops what the mapping's ``FilterCriteria``
drops (``event_filter``), and invokes the function with batches of up to ``batch_size`` records
in Lambda's record shape. The response is read as Lambda documents for streams: with
``ReportBatchItemFailures``, the records before the lowest failed ``SequenceNumber`` are done
and the rest is retried (an empty or unknown identifier, or an error, fails the whole batch);
with ``BisectBatchOnFunctionError`` a failing batch is halved; after ``MaximumRetryAttempts``
the failing records' position goes to the on-failure queue, in Lambda's documented message
shape, and the shard moves on.

Local liberties: it polls only when asked (``drain``, after a sync's queues drained), retries at
once rather than after Lambda's back-off, and ignores ``MaximumRecordAgeInSeconds`` (a local
record is never hours old). With ``trim_read_records`` (``demo``: moto in its own process)
what was read is dropped from moto's stream (``moto_streams``). Its position is kept in
memory: ``mark_latest`` (a sync calls it before its producer starts) reads only what is
written afterwards; without a mark it starts at the stream's trim horizon (the changes table
makes a second reading publish nothing).

Each record is handed on once: the poller remembers the ``eventID``s it handed on, per shard,
and a page of only those is the shard's current end. Real DynamoDB numbers a shard's records
strictly upwards; moto numbers a record by the shard's length when it is made, so two writes
that race (the consumer writes eight items at a time) can share a number, and when they end a
page moto's ``NextShardIterator`` points back at the last one, for ever.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from villages_sync_ops.local.event_filter import matches_any, parse_filter_criteria
from villages_sync_ops.local.intrinsics import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from villages_sync_ops.local.lambda_runtime import Invocation

if TYPE_CHECKING:
    from villages_sync_ops.local.template import LocalResources, StreamMappingSpec

MAX_GET_RECORDS = 1000  # GetRecords' own limit per call


@dataclass
class StreamDrainReport:
    records_read: int = 0
    records_filtered_out: int = 0
    invocations: int = 0
    records_failed_to_destination: int = 0
    elapsed_seconds: float = 0.0


class DynamoDbStreamMapping:
    def __init__(
        self,
        streams: Any,  # a dynamodbstreams client at the DynamoDB endpoint
        sqs: Any,  # for the on-failure destination (at the SQS endpoint)
        *,
        stream_arn: str,
        invoke: Callable[[dict[str, Any]], Invocation],
        function_arn: str,
        batch_size: int,
        filters: Sequence[Mapping[str, Any]] = (),
        report_batch_item_failures: bool = True,
        bisect_on_error: bool = False,
        maximum_retry_attempts: int = -1,
        on_failure_queue_url: str | None = None,
        region: str = DEFAULT_REGION,
        on_shard_read: Callable[[str], None] | None = None,
    ) -> None:
        self._streams = streams
        self._sqs = sqs
        self.stream_arn = stream_arn
        self._invoke = invoke
        self.function_arn = function_arn
        self.batch_size = batch_size
        self.filters = list(filters)
        self.report_batch_item_failures = report_batch_item_failures
        self.bisect_on_error = bisect_on_error
        # -1 is Lambda's "until the record expires": locally, a few attempts stand for it.
        self.maximum_retry_attempts = maximum_retry_attempts if maximum_retry_attempts >= 0 else 3
        self.on_failure_queue_url = on_failure_queue_url
        self.region = region
        # Called with the last sequence number read when a shard has been read to its end.
        self._on_shard_read = on_shard_read
        # Per shard: the last sequence number handed on, or a LATEST iterator taken by a mark.
        self._after: dict[str, str] = {}
        self._latest: dict[str, str] = {}
        # Per shard: the eventIDs handed on (see the module's note on moto's numbering).
        self._handed_on: dict[str, set[str]] = {}
        # The mark's time, less a minute (DynamoDB Local rounds the records' times down to the
        # minute): a LATEST iterator DynamoDB Local refuses (TrimmedDataAccessException, seen
        # after a sync's writes) is replaced by the trim horizon, less the older records (those
        # of the mark's minute come again, and the changes table finds them published).
        self._not_before = 0.0

    # -- position

    def mark_latest(self) -> None:
        """Read only records written from now on (shards created later: from their start)."""
        self._not_before = time.time() - 60.0
        for shard_id in self._shard_ids():
            if shard_id in self._after:
                continue
            self._latest[shard_id] = self._streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="LATEST"
            )["ShardIterator"]

    def _shard_ids(self) -> list[str]:
        shards: list[str] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self._streams.describe_stream(**request)["StreamDescription"]
            shards += [shard["ShardId"] for shard in description.get("Shards", [])]
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _iterator(self, shard_id: str) -> str:
        if shard_id in self._latest:
            return self._latest.pop(shard_id)
        if shard_id in self._after:
            return str(
                self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=self._after[shard_id],
                )["ShardIterator"]
            )
        return str(
            self._streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        )

    # -- polling

    def drain(self) -> StreamDrainReport:
        """Read every shard to its current end, invoking the function as Lambda would."""
        report = StreamDrainReport()
        started = time.monotonic()
        for shard_id in self._shard_ids():
            self._drain_shard(shard_id, report)
        report.elapsed_seconds = time.monotonic() - started
        return report

    def _drain_shard(self, shard_id: str, report: StreamDrainReport) -> None:
        iterator: str | None = self._iterator(shard_id)
        handed_on = self._handed_on.setdefault(shard_id, set())
        from_trim_horizon = False
        while iterator:
            try:
                page = self._streams.get_records(ShardIterator=iterator, Limit=MAX_GET_RECORDS)
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if (
                    code == "TrimmedDataAccessException"
                    and shard_id not in self._after
                    and not from_trim_horizon
                ):
                    from_trim_horizon = True  # once: the trim horizon itself is never trimmed
                    iterator = self._streams.get_shard_iterator(
                        StreamArn=self.stream_arn,
                        ShardId=shard_id,
                        ShardIteratorType="TRIM_HORIZON",
                    )["ShardIterator"]
                    continue
                if code != "ExpiredIteratorException":
                    raise
                iterator = self._iterator(shard_id)  # from the last record handed on
                continue
            records = [r for r in page.get("Records", []) if _record_key(r) not in handed_on]
            if not records:
                # The shard's current end (an open shard answers empty, with an iterator). Not
                # yet past any record: keep the iterator, or the next drain starts over.
                if shard_id not in self._after and page.get("NextShardIterator"):
                    self._latest[shard_id] = page["NextShardIterator"]
                if shard_id in self._after and self._on_shard_read is not None:
                    self._on_shard_read(self._after[shard_id])
                return
            report.records_read += len(records)
            handed_on.update(map(_record_key, records))
            kept = [
                r
                for r in map(self.lambda_record, records)
                if r["dynamodb"].get("ApproximateCreationDateTime", self._not_before)
                >= self._not_before
                and matches_any(r, self.filters)
            ]
            report.records_filtered_out += len(records) - len(kept)
            for start in range(0, len(kept), self.batch_size):
                self._deliver(kept[start : start + self.batch_size], shard_id, report)
            self._after[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            iterator = page.get("NextShardIterator")

    def _deliver(
        self, batch: list[dict[str, Any]], shard_id: str, report: StreamDrainReport
    ) -> None:
        attempts = 0
        while batch:
            report.invocations += 1
            failed_from = self._failed_from(self._invoke({"Records": batch}), batch)
            if failed_from is None:
                return
            batch = batch[failed_from:]  # the records before the failure are done
            if self.bisect_on_error and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(batch[:half], shard_id, report)
                self._deliver(batch[half:], shard_id, report)
                return
            attempts += 1
            if attempts > self.maximum_retry_attempts:
                self._send_to_destination(batch, shard_id, attempts)
                report.records_failed_to_destination += len(batch)
                return

    def _failed_from(self, invocation: Invocation, batch: list[dict[str, Any]]) -> int | None:
        """Where the retry starts (None: the batch succeeded), as Lambda reads the response."""
        if invocation.error is not None:
            return 0
        payload = invocation.payload
        if not self.report_batch_item_failures or not isinstance(payload, dict):
            return None
        failures = payload.get("batchItemFailures")
        if not failures:
            return None
        numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
        positions = []
        for failure in failures if isinstance(failures, list) else [None]:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in numbers:
                return 0  # documented: a malformed response fails the whole batch
            positions.append(numbers.index(identifier))
        return min(positions)

    def _send_to_destination(
        self, batch: list[dict[str, Any]], shard_id: str, attempts: int
    ) -> None:
        """Lambda's on-failure record for a stream batch: where it is, never the data."""
        if not self.on_failure_queue_url:
            return  # no destination: Lambda discards the batch the same way
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
                "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        self._sqs.send_message(QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(message))

    def lambda_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record Lambda's stream poller hands the function for one GetRecords record."""
        stream = dict(record["dynamodb"])
        created = stream.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            stream["ApproximateCreationDateTime"] = float(int(created.timestamp()))
        lambda_record: dict[str, Any] = {
            "eventID": record.get("eventID"),
            "eventName": record.get("eventName"),
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self.region),
            "dynamodb": stream,
            "eventSourceARN": self.stream_arn,
        }
        if "userIdentity" in record:
            lambda_record["userIdentity"] = {
                "type": record["userIdentity"].get("Type"),
                "principalId": record["userIdentity"].get("PrincipalId"),
            }
        return lambda_record


def _record_key(record: Mapping[str, Any]) -> str:
    """A stream record's identity: its eventID (unique per record, on DynamoDB and both
    emulators), else its sequence number."""
    return str(record.get("eventID") or record["dynamodb"]["SequenceNumber"])


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    moment = datetime.fromtimestamp(float(value), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# A stream read that an emulator does not answer fails the sync with botocore's error within a
# minute and a half, instead of holding it (and a test's 180 s) with boto3's default timeouts.
_EMULATOR_CALLS = Config(read_timeout=30, connect_timeout=5, retries={"total_max_attempts": 3})


def stream_mapping(
    spec: StreamMappingSpec,
    resources: LocalResources,
    *,
    dynamodb: Any,
    sqs: Any,
    dynamodb_url: str,
    region: str,
    invoke: Callable[[dict[str, Any]], Invocation],
    trim_read_records: bool = False,
) -> DynamoDbStreamMapping:
    """The poller of one of the template's stream mappings, against a local deployment: the
    stream is read at the DynamoDB endpoint (DynamoDB Local, or moto), the on-failure queue is
    at the SQS one."""
    table_name = resources.tables[spec.table_logical_id]
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    streams = boto3.session.Session(region_name=region).client(
        "dynamodbstreams", endpoint_url=dynamodb_url, config=_EMULATOR_CALLS
    )
    function = resources.functions[spec.function_logical_id]
    queue_id = spec.on_failure_queue_logical_id
    return DynamoDbStreamMapping(
        streams,
        sqs,
        stream_arn=stream_arn,
        invoke=invoke,
        function_arn=f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT_ID}:function:"
        f"{function.function_name}",
        batch_size=spec.batch_size,
        filters=parse_filter_criteria(spec.filter_criteria),
        report_batch_item_failures=spec.report_batch_item_failures,
        bisect_on_error=spec.bisect_batch_on_function_error,
        maximum_retry_attempts=spec.maximum_retry_attempts,
        on_failure_queue_url=resources.queue_urls[queue_id] if queue_id else None,
        region=region,
        on_shard_read=(
            (lambda last: _trim(table_name, region, last)) if trim_read_records else None
        ),
    )


def _trim(table_name: str, region: str, through_sequence: str) -> None:
    from villages_sync_ops.local.moto_streams import trim_read_records

    trim_read_records(table_name, region, through_sequence)
