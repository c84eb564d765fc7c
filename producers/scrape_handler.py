"""ProducerFunction: scrape the calendar and enqueue this run's events (EventBridge schedule)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from villages_sync.aws.clients import aws_clients
from villages_sync.aws.runs_table import RunsTable
from villages_sync.produce import ProducerSummary, produce_run
from villages_sync.run_ids import new_run_id
from villages_sync.settings import ProducerSettings

logger = Logger(service="villages-sync-producer")
DEADLINE_MARGIN = 90.0  # seconds kept for normalising, sending and recording the run
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = ProducerSettings.from_env(os.environ)
    logger.setLevel(settings.log_level)
    # villages_sync's own loggers (the calendar client's retries and drift, the sweep's
    # refusals) write through this one: its JSON, its level, its correlation id (the run's)
    copy_config_to_registered_loggers(source_logger=logger, include={"villages_sync"})
    now = datetime.now(UTC)
    run_id = new_run_id(now)
    logger.set_correlation_id(run_id)
    clients = aws_clients()
    try:
        summary = produce_run(
            settings,
            run_id=run_id,
            now=now,
            runs=RunsTable(clients.dynamodb, settings.runs_table_name),
            sqs=clients.sqs,
            # Fail the run cleanly before Lambda's timeout would kill it mid-scrape, leaving
            # time to record it and to pack and send what was read.
            deadline_seconds=context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN,
        )
    except Exception:
        logger.exception("run failed: nothing will be deleted for it")
        metrics.add_metric(name="RunFailed", unit=MetricUnit.Count, value=1)
        raise
    _emit_metrics(summary)
    if summary.degraded:
        logger.error("run degraded: nothing will be deleted", extra={"summary": summary.as_dict()})
    else:
        logger.info("run enqueued", extra={"summary": summary.as_dict()})
    return summary.as_dict()


def _emit_metrics(summary: ProducerSummary) -> None:
    metrics.add_metric(name="EventsFetched", unit=MetricUnit.Count, value=summary.fetched)
    metrics.add_metric(name="EventsEnqueued", unit=MetricUnit.Count, value=summary.events)
    metrics.add_metric(
        name="EventsRejected",
        unit=MetricUnit.Count,
        value=summary.rejected,
    )
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=summary.messages)
    metrics.add_metric(name="ScrapeSeconds", unit=MetricUnit.Seconds, value=summary.scrape_seconds)
    metrics.add_metric(name="RunDrift", unit=MetricUnit.Count, value=int(summary.drift))
    metrics.add_metric(name="RunDegraded", unit=MetricUnit.Count, value=int(summary.degraded))
    metrics.add_metric(
        name="RunDurationSeconds", unit=MetricUnit.Seconds, value=summary.duration_seconds
    )
    if summary.completed:
        metrics.add_metric(name="RunCompleted", unit=MetricUnit.Count, value=1)
