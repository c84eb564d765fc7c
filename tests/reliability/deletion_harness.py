"""Issue 9's proof harness: runs the real handlers step by step, injects faults, reads state.

Built on ``reliability_harness.Harness`` (the local pipeline over the shared deployment); what
it adds is finer control than ``run_sync``: produce only, drain one queue, put messages back,
crash an invocation between two writes, and wipe the deployment between hypothesis examples
through the AWS APIs themselves (so it works on whatever backend the ``deployment`` fixture
gives).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from botocore.exceptions import ClientError
from reliability_harness import FAST_RETRIES, Harness, error_response, hooked
from support.sqs import receive_all, send_bodies
from villages_sync.aws.clients import _cached_clients, aws_clients
from villages_sync.models import RunRecord
from villages_sync.visible_events import visible_events
from villages_sync_ops.local.lambda_runtime import Invocation
from villages_sync_ops.local.pipeline import PRODUCER, LocalPipeline, SyncOptions, scheduled_event

EVENTS_QUEUE, EVENTS_DLQ = "EventsQueue", "EventsDLQ"
SWEEP_QUEUE, SWEEP_DLQ = "SweepQueue", "SweepDLQ"

# Operations a crash or a one-off error can hit: the writes between which a process can die.
WRITE_OPERATIONS = {
    "dynamodb": ("PutItem", "UpdateItem", "DeleteItem"),
    "sqs": ("SendMessage", "SendMessageBatch"),
}


@dataclass
class Fault:
    """One injected AWS fault, armed for one step.

    ``crash``: the ``nth`` call of ``operation`` (counted inside function invocations) kills the
    invocation: that call and every later AWS call of the same invocation raise, as if the
    process died; the next invocation starts alive. ``error``: that one call answers a
    non-retryable error (the code handles it). ``throttle``: the first sending of each distinct
    request of DynamoDB writes and queries is throttled (botocore retries), at most ``limit``.
    """

    kind: str  # crash | error | throttle
    service: str = "dynamodb"
    operation: str = "PutItem"
    nth: int = 1
    limit: int = 3
    fired: int = 0
    calls: int = 0
    dead: bool = False
    seen_bodies: set[bytes] = field(default_factory=set)


class DeletionWorld(Harness):
    """The deployment, the stand-in calendar and the pieces of a run, for one test."""

    def __init__(self, deployment: Any, calendar: Any, *, page_size: int, days_ahead: int):
        super().__init__(deployment)
        self.calendar = calendar
        self.page_size = page_size
        self.days_ahead = days_ahead
        self.extra_env: dict[str, str] = {}
        self.fault: Fault | None = None
        self._in_invocation = False

    # --- between examples ----------------------------------------------------------------

    def wipe(self) -> None:
        """Empty every table and queue of the deployment (through the APIs: any backend)."""
        for logical_id, table in self.deployment.resources.tables.items():
            keys = self._key_names(table)
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    self.dynamodb.delete_item(
                        TableName=table, Key={k: item[k] for k in keys if k in item}
                    )
            assert not self.dynamodb.scan(TableName=table, Limit=1)["Items"], logical_id
        for logical_id in self.deployment.resources.queue_urls:
            receive_all(self.sqs, self.queue_url(logical_id), visibility_timeout=60, delete=True)
        self.fault = None
        self.extra_env = {}

    def _key_names(self, table: str) -> list[str]:
        schema = self.dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
        return [k["AttributeName"] for k in schema]

    # --- the pieces of a run ---------------------------------------------------------------

    def pipeline(self, base_url: str | None = None, **extra_env: str) -> LocalPipeline:
        options = SyncOptions(
            calendar_base_url=base_url or self.calendar.base_url,
            days_ahead=self.days_ahead,
            function_log=self.log,
            extra_env={
                **FAST_RETRIES,
                "PAGE_SIZE": str(self.page_size),
                "MAX_CONCURRENCY": "1",  # pages in order: a mid-scrape change is reproducible
                "MESSAGE_MAX_EVENTS": "4",  # several messages a run, for redelivery and crashes
                **self.extra_env,
                **extra_env,
            },
        )
        pipeline = LocalPipeline(self.deployment, options)
        invoke = pipeline.invoke_function

        def invoke_in_process(logical_id: str, event: dict[str, Any]) -> Invocation:
            # One invocation is one process: a crash ends with it.
            self._in_invocation = True
            try:
                return invoke(logical_id, event)
            finally:
                self._in_invocation = False
                if self.fault is not None:
                    self.fault.dead = False

        pipeline.invoke_function = invoke_in_process  # type: ignore[method-assign]
        return pipeline

    def produce(self, base_url: str | None = None) -> tuple[LocalPipeline, Invocation, str | None]:
        """The producer alone; its run id (from its answer, or the newest run record)."""
        before = {run.run_id for run in self.deployment.runs.recent_runs(limit=50)}
        pipeline = self.pipeline(base_url)
        invocation = pipeline.invoke_function(PRODUCER, scheduled_event(self.deployment.region))
        run_id = invocation.payload.get("run_id") if invocation.succeeded else None
        if run_id is None:
            new = [
                run.run_id
                for run in self.deployment.runs.recent_runs(limit=50)
                if run.run_id not in before
            ]
            run_id = max(new) if new else None
        return pipeline, invocation, run_id

    def drain(self, pipeline: LocalPipeline, *logical_ids: str) -> None:
        """Drain the named queues' event-source mappings (all of them when none is named)."""
        for spec in self.deployment.resources.event_source_mappings:
            if logical_ids and spec.queue_logical_id not in logical_ids:
                continue
            mapping = pipeline.event_source_mapping(spec)
            mapping.drain(deadline_seconds=120)

    def drain_all(self, pipeline: LocalPipeline) -> None:
        pipeline.drain_queues()

    def redeliver(self, rng: random.Random, *, copies: int = 2) -> list[str]:
        """Every message on the events queue put back ``copies`` times, shuffled."""
        bodies = self.take_messages(EVENTS_QUEUE)
        again = [body for body in bodies for _ in range(copies)]
        rng.shuffle(again)
        self.put_messages(again, EVENTS_QUEUE)
        return bodies

    # --- faults ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def injecting(self, fault: Fault | None) -> Iterator[None]:
        if fault is None:
            yield
            return
        self.fault = fault

        def before_send(request: Any, **_: Any) -> Any:
            return self._before_send(fault, request)

        # The handlers' clients: the factory's cached ones for this endpoint.
        clients = aws_clients(self.deployment.endpoint_url, self.deployment.region)
        try:
            with (
                hooked(clients.dynamodb, "before-send.dynamodb", before_send),
                hooked(clients.sqs, "before-send.sqs", before_send),
            ):
                yield
        finally:
            self.fault = None
            if fault.kind == "throttle":
                _cached_clients.cache_clear()  # adaptive retries forget the throttling

    def _before_send(self, fault: Fault, request: Any) -> Any:
        if not self._in_invocation:
            return None
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        service = "sqs" if target.startswith("AmazonSQS") else "dynamodb"
        operation = target.rpartition(".")[2]
        if fault.dead:
            raise RuntimeError("injected: the function's process died")
        if fault.kind == "throttle":
            if service != "dynamodb" or fault.fired >= fault.limit:
                return None
            if operation not in (
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "TransactWriteItems",
                "Query",
            ):
                return None
            body = bytes(request.body or b"")
            if body in fault.seen_bodies:
                return None
            fault.seen_bodies.add(body)
            fault.fired += 1
            return error_response(request, 400, "ThrottlingException", "injected throttle")
        if service != fault.service or operation != fault.operation or fault.fired:
            return None
        fault.calls += 1
        if fault.calls < fault.nth:
            return None
        fault.fired += 1
        if fault.kind == "crash":
            fault.dead = True
            raise RuntimeError("injected: the function's process died")
        raise ClientError(
            {"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, operation
        )

    # --- reading state back ----------------------------------------------------------------

    def items(self) -> dict[str, dict[str, Any]]:
        """Every item of the events table, by event_id, as the product stored it."""
        from villages_sync.aws.items import from_attributes

        table = self.deployment.resources.tables["EventsTable"]
        found: dict[str, dict[str, Any]] = {}
        # Tombstones (what the sweep leaves of a deleted item) are not events.
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=table, FilterExpression="attribute_not_exists(deleted_by)"
        )
        for page in pages:
            for raw in page["Items"]:
                item = from_attributes(raw)
                found[item["event_id"]] = item
        return found

    def tombstones_by_run(self) -> dict[str, int]:
        """How many items each run's sweep deleted (the tombstones it left), by run id."""
        table = self.deployment.resources.tables["EventsTable"]
        counts: dict[str, int] = {}
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=table, FilterExpression="attribute_exists(deleted_by)"
        )
        for page in pages:
            for raw in page["Items"]:
                run_id = raw["deleted_by"]["S"]
                counts[run_id] = counts.get(run_id, 0) + 1
        return counts

    def put_raw_item(self, item: dict[str, Any]) -> None:
        from villages_sync.aws.items import to_attributes

        table = self.deployment.resources.tables["EventsTable"]
        self.dynamodb.put_item(TableName=table, Item=to_attributes(item))

    def listed_on(self, day: date) -> list[dict[str, Any]]:
        """The skill's read path: ``events --date day``."""
        return visible_events(self.deployment.events.events_on(day), now=time.time())

    def runs(self) -> list[RunRecord]:
        return self.deployment.runs.recent_runs(limit=200)

    def peek(self, logical_id: str) -> list[str]:
        """The bodies on a queue, left there (received, then made visible again)."""
        url = self.queue_url(logical_id)
        messages = receive_all(self.sqs, url, visibility_timeout=60)
        for start in range(0, len(messages), 10):
            self.sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages[start : start + 10])
                ],
            )
        return [m["Body"] for m in messages]

    def send(self, bodies: list[str], logical_id: str) -> None:
        send_bodies(self.sqs, self.queue_url(logical_id), bodies)


def optional_attribute(record: object, name: str, default: Any = None) -> Any:
    """A RunRecord field the lead is adding (issue 9): absent on older code."""
    return getattr(record, name, default)
