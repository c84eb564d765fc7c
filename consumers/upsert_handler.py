"""ConsumerFunction: upsert the events of each SQS message, reporting partial batch failures."""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from villages_sync.aws.clients import aws_clients
from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.queue import SweepQueue
from villages_sync.aws.runs_table import RunsTable
from villages_sync.consume import consume_message
from villages_sync.models import UpsertOutcome
from villages_sync.package_logs import log_through, set_log_level
from villages_sync.settings import ConsumerSettings
from villages_sync.sqs_batch import SQSRecord, process_partial_response

if TYPE_CHECKING:  # a type only: Lambda passes its own context object
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="villages-sync-consumer")
# villages_sync's own loggers (the calendar client's retries and drift, the sweep's refusals)
# write through this one, once for the process: its JSON, its level, its correlation id
log_through(logger)
metrics = Metrics()

_OUTCOME_METRICS = {
    UpsertOutcome.ADDED: "EventsAdded",
    UpsertOutcome.UPDATED: "EventsUpdated",
    UpsertOutcome.UNCHANGED: "EventsUnchanged",
    UpsertOutcome.SUPERSEDED: "EventsSuperseded",
    UpsertOutcome.KEPT: "EventsKept",
    UpsertOutcome.INVALID: "EventsInvalid",
    UpsertOutcome.DEFERRED: "EventsDeferred",
}
_NOT_UPSERTED = (
    UpsertOutcome.SUPERSEDED,
    UpsertOutcome.KEPT,
    UpsertOutcome.INVALID,
    UpsertOutcome.DEFERRED,
)


@dataclass(slots=True)
class _Invocation:
    events: EventsTable
    runs: RunsTable
    sweep_queue: SweepQueue
    counts: Counter[str] = field(default_factory=Counter)


def record_handler(record: SQSRecord, invocation: _Invocation) -> None:
    """Raise to fail this record alone; it returns to the queue and, in the end, the DLQ."""
    try:
        outcome = consume_message(
            record.body,
            events=invocation.events,
            runs=invocation.runs,
            sweep_queue=invocation.sweep_queue,
            now=time.time(),
        )
    except Exception as error:
        logger.warning(
            "message failed",
            extra={
                "message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "error": f"{type(error).__name__}: {error}",
            },
        )
        invocation.counts["MessagesFailed"] += 1
        raise
    invocation.counts.update({_OUTCOME_METRICS[k]: v for k, v in outcome.counts.items()})
    invocation.counts["EventsUpserted"] += sum(
        v for k, v in outcome.counts.items() if k not in _NOT_UPSERTED
    )
    for problem in outcome.invalid:
        logger.warning(
            "event failed validation: not stored, its stored copy kept",
            extra={"run_id": outcome.run_id, "sequence": outcome.sequence, "problem": problem},
        )
    if outcome.dropped:
        invocation.counts["MessagesDropped"] += 1
        logger.info(
            "message from a superseded or finished run dropped: nothing written",
            extra={"run_id": outcome.run_id, "sequence": outcome.sequence},
        )
    if outcome.completed_run:
        invocation.counts["RunCompleted"] += 1
        logger.info("run completed: sweep requested", extra={"run_id": outcome.run_id})


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = ConsumerSettings.from_env(os.environ)
    set_log_level(logger, settings.log_level)
    clients = aws_clients()
    runs = RunsTable(clients.dynamodb, settings.runs_table_name)
    invocation = _Invocation(
        events=EventsTable(clients.dynamodb, settings.table_name),
        runs=runs,
        sweep_queue=SweepQueue(clients.sqs, settings.sweep_queue_url),
    )
    try:
        return process_partial_response(event, partial(record_handler, invocation=invocation))
    finally:
        for name, value in sorted(invocation.counts.items()):
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
