"""SweepFunction: one request per completed run, from the sweep queue."""

from __future__ import annotations

import os
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from villages_sync.aws.clients import aws_clients
from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.runs_table import RunsTable
from villages_sync.models import SweepOutcome
from villages_sync.package_logs import log_through, set_log_level
from villages_sync.settings import SweepSettings
from villages_sync.sqs_batch import SQSRecord, process_partial_response
from villages_sync.sweep import sweep_run
from villages_sync.sweep_trigger import decode_sweep_request

if TYPE_CHECKING:  # a type only: Lambda passes its own context object
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="villages-sync-sweep")
# villages_sync's own loggers (the calendar client's retries and drift, the sweep's refusals)
# write through this one, once for the process: its JSON, its level, its correlation id
log_through(logger)
metrics = Metrics()


def record_handler(record: SQSRecord, settings: SweepSettings) -> dict[str, Any]:
    run_id = decode_sweep_request(record.body)
    logger.set_correlation_id(run_id)
    clients = aws_clients()
    summary = sweep_run(
        run_id,
        events=EventsTable(clients.dynamodb, settings.table_name),
        runs=RunsTable(clients.dynamodb, settings.runs_table_name),
        rules=settings.rules,
        now=time.time(),
    )
    if summary.already_done:
        logger.info("sweep already recorded for this run", extra={"sweep": summary.as_dict()})
    elif summary.outcome is SweepOutcome.REFUSED:
        logger.warning("sweep refused: nothing deleted", extra={"sweep": summary.as_dict()})
        metrics.add_metric(name="SweepRefused", unit=MetricUnit.Count, value=1)
    else:
        logger.info("sweep done", extra={"sweep": summary.as_dict()})
        metrics.add_metric(name="EventsDeleted", unit=MetricUnit.Count, value=summary.deleted)
        metrics.add_metric(name="EventsMissed", unit=MetricUnit.Count, value=summary.missed)
    return summary.as_dict()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = SweepSettings.from_env(os.environ)
    set_log_level(logger, settings.log_level)
    return process_partial_response(event, partial(record_handler, settings=settings))
