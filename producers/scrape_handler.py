"""ProducerFunction: scrape the calendar and enqueue this run's events (EventBridge schedule)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from villages_sync.aws.clients import aws_clients, s3_client
from villages_sync.aws.queue import SweepQueue
from villages_sync.aws.runs_table import RunsTable
from villages_sync.package_logs import log_through, set_log_level
from villages_sync.produce import ProducerSummary, produce_run
from villages_sync.raw_capture import RawCapture
from villages_sync.recovery import recover_earlier_runs
from villages_sync.run_ids import new_run_id
from villages_sync.settings import ProducerSettings

if TYPE_CHECKING:  # a type only: Lambda passes its own context object
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="villages-sync-producer")
# villages_sync's own loggers (the calendar client's retries and drift, the sweep's refusals)
# write through this one, once for the process: its JSON, its level, its correlation id
log_through(logger)
DEADLINE_MARGIN = 90.0  # seconds kept for normalising, sending and recording the run
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = ProducerSettings.from_env(os.environ)
    set_log_level(logger, settings.log_level)
    now = datetime.now(UTC)
    run_id = new_run_id(now)
    logger.set_correlation_id(run_id)
    clients = aws_clients()
    runs = RunsTable(clients.dynamodb, settings.runs_table_name)
    bucket = settings.raw_capture_bucket
    capture = RawCapture(s3_client(), bucket) if bucket else None
    try:
        summary = produce_run(
            settings,
            run_id=run_id,
            now=now,
            runs=runs,
            sqs=clients.sqs,
            # Fail the run cleanly before Lambda's timeout would kill it mid-scrape, leaving
            # time to record it and to pack and send what was read.
            deadline_seconds=context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN,
            capture=capture,
        )
    except Exception:
        logger.exception("run failed: nothing will be deleted for it")
        metrics.add_metric(name="RunFailed", unit=MetricUnit.Count, value=1)
        raise
    finally:
        if capture is not None:
            # Counted whether the run succeeded or not: the capture never fails it.
            failed = int(capture.failed)
            metrics.add_metric(name="RawCaptureFailed", unit=MetricUnit.Count, value=failed)
        # Today's run is recorded first; the repair of earlier runs never stops it.
        _recover(runs, SweepQueue(clients.sqs, settings.sweep_queue_url), run_id)
    _emit_metrics(summary)
    if summary.degraded:
        logger.error("run degraded: nothing will be deleted", extra={"summary": summary.as_dict()})
    else:
        logger.info("run enqueued", extra={"summary": summary.as_dict()})
    return summary.as_dict()


def _recover(runs: RunsTable, sweep_queue: SweepQueue, run_id: str) -> None:
    """End abandoned earlier runs and request their missing sweeps; a failure is logged and
    counted (RecoveryFailed), and the next run tries again."""
    try:
        recover_earlier_runs(runs, sweep_queue, before_run_id=run_id, now=time.time())
    except Exception:
        logger.exception("recovery of earlier runs failed: the next run tries again")
        metrics.add_metric(name="RecoveryFailed", unit=MetricUnit.Count, value=1)


def _emit_metrics(summary: ProducerSummary) -> None:
    tallies = summary.tallies
    metrics.add_metric(name="EventsFetched", unit=MetricUnit.Count, value=tallies.fetched)
    metrics.add_metric(name="EventsEnqueued", unit=MetricUnit.Count, value=tallies.events)
    metrics.add_metric(
        name="EventsRejected",
        unit=MetricUnit.Count,
        value=summary.rejected,
    )
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=tallies.messages)
    metrics.add_metric(name="ScrapeSeconds", unit=MetricUnit.Seconds, value=tallies.scrape_seconds)
    metrics.add_metric(name="RunDrift", unit=MetricUnit.Count, value=int(tallies.drift))
    metrics.add_metric(name="RunDegraded", unit=MetricUnit.Count, value=int(summary.degraded))
    metrics.add_metric(
        name="RunDurationSeconds", unit=MetricUnit.Seconds, value=summary.duration_seconds
    )
    if summary.completed:
        metrics.add_metric(name="RunCompleted", unit=MetricUnit.Count, value=1)
