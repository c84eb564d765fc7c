"""ChangesFunction: the events table's stream in, calendar changes out on the changes bus."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from villages_sync.aws.changes_bus import ChangesBus
from villages_sync.aws.changes_table import ChangesTable
from villages_sync.aws.clients import aws_clients, events_client
from villages_sync.feed import publish_stream_batch
from villages_sync.settings import ChangesSettings

if TYPE_CHECKING:  # a type only: Lambda passes its own context object
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="villages-sync-changes")
metrics = Metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = ChangesSettings.from_env(os.environ)
    logger.setLevel(settings.log_level)
    # villages_sync's own loggers (the bus's retries, unreadable records) write through this one
    copy_config_to_registered_loggers(source_logger=logger, include={"villages_sync"})
    records = event.get("Records") or []
    outcome = publish_stream_batch(
        records,
        table=ChangesTable(aws_clients().dynamodb, settings.changes_table_name),
        bus=ChangesBus(events_client(), settings.changes_bus_name),
        now=time.time(),
    )
    for change in outcome.published:
        logger.info(
            "change published",
            extra={"kind": str(change.kind), "change_id": change.change_id,
                   "event_id": change.detail["event_id"], "run_id": change.detail["run_id"]},
        )  # fmt: skip
    for name, value in sorted(outcome.counts.items()):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if records and len(outcome.failed_sequence_numbers) == len(records):
        # Every record failed: an error, so the Errors alarm sees it (Lambda retries the same).
        raise RuntimeError(f"all {len(records)} stream records failed")
    return outcome.batch_response()
