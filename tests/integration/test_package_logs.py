"""The shared package's warnings carry the run id (issue 25): villages_sync's loggers write
through the function's Powertools logger, so the calendar client's retry warnings, logged deep
in villages_sync, reach the function's log with the run's correlation id, each once.

Through the local Lambda runtime (the one `villages-sync sync` uses): its ``invoke`` writes the
function's JSON lines to the function log, as Lambda writes stdout to CloudWatch Logs.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions, scheduled_event
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the function's log lines, not DynamoDB: the run's writes are test_pipeline's"
)

RETRY_WARNING = "calendar request failed; retrying"


def test_producer_retry_warning_from_the_calendar_client_carries_the_run_id(deployment):
    # Given a calendar whose first two events requests fail with 500 (retried, fast)
    events = generate_events(40, seed=25, today=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())
    log = io.StringIO()
    with RunningCalendar(events, faults=Faults(fail_first_n=2)) as calendar:
        pipeline = LocalPipeline(
            deployment,
            SyncOptions(
                calendar_base_url=calendar.base_url,
                function_log=log,
                extra_env={"BACKOFF_BASE_SECONDS": "0.01", "BACKOFF_MAX_SECONDS": "0.05"},
            ),
        )

        # When the producer function is invoked by the local Lambda runtime
        invocation = pipeline.invoke_function(
            "ProducerFunction", scheduled_event(deployment.region)
        )

    # Then the run succeeded after two retries, and the function's log holds each retry warning
    # once, as Powertools JSON with the run's id as correlation id and the client's own fields
    assert invocation.succeeded, invocation.error_text
    run_id = invocation.payload["run_id"]
    assert invocation.payload["calendar_retries"] == 2
    lines = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    retries = [line for line in lines if line.get("message") == RETRY_WARNING]
    assert len(retries) == 2, retries
    assert {line["correlation_id"] for line in retries} == {run_id}
    assert {line["level"] for line in retries} == {"WARNING"}
    assert {line["service"] for line in retries} == {"villages-sync-producer"}
    assert all(line["problem"] and line["attempt"] for line in retries)
    # and the handler's own closing line carries the same id
    enqueued = [line for line in lines if line.get("message") == "run enqueued"]
    assert [line["correlation_id"] for line in enqueued] == [run_id]


def test_package_loggers_propagate_again_after_the_invocation(deployment):
    # Given a producer invocation (its handler copies its logger's config onto villages_sync's)
    with RunningCalendar(generate_events(10, seed=3, today=datetime.now().date())) as calendar:
        pipeline = LocalPipeline(
            deployment,
            SyncOptions(calendar_base_url=calendar.base_url, function_log=io.StringIO()),
        )
        assert pipeline.invoke_function("ProducerFunction", scheduled_event(deployment.region))

    # Then, the invocation over, villages_sync's logger is as the process had it: it propagates
    # to the root logger (the command line's and the tests' handlers) and holds no handler of
    # the function's
    package = logging.getLogger("villages_sync")
    assert package.propagate is True
    assert package.handlers == []


def test_warm_producer_after_other_functions_still_logs_the_package_through_its_logger(
    deployment,
):
    # Given a producer invocation, then the consumer's and the sweep's (the queues drained):
    # the producer's module is warm, its import's logger copy undone after each invocation
    today = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()
    backoff = {"BACKOFF_BASE_SECONDS": "0.01", "BACKOFF_MAX_SECONDS": "0.05"}
    with RunningCalendar(generate_events(20, seed=7, today=today)) as calendar:
        first = LocalPipeline(
            deployment,
            SyncOptions(
                calendar_base_url=calendar.base_url, function_log=io.StringIO(), extra_env=backoff
            ),
        )
        assert first.run_sync().succeeded

    # When the producer is invoked again, against a calendar whose first two requests fail,
    # its settings now asking for DEBUG
    log = io.StringIO()
    events = generate_events(20, seed=8, today=today)
    with RunningCalendar(events, faults=Faults(fail_first_n=2)) as calendar:
        again = LocalPipeline(
            deployment,
            SyncOptions(
                calendar_base_url=calendar.base_url,
                function_log=log,
                extra_env={**backoff, "LOG_LEVEL": "DEBUG"},
            ),
        )
        invocation = again.invoke_function("ProducerFunction", scheduled_event(deployment.region))

    # Then its retry warnings, logged in villages_sync, carry this run's id, each once, the
    # client's DEBUG lines are there at the level the settings name, and the handler's own
    # closing line is written once
    assert invocation.succeeded, invocation.error_text
    run_id = invocation.payload["run_id"]
    lines = [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
    retries = [line for line in lines if line.get("message") == RETRY_WARNING]
    assert len(retries) == 2, retries
    assert {line["correlation_id"] for line in retries} == {run_id}
    assert {line["service"] for line in retries} == {"villages-sync-producer"}
    pages = [line for line in lines if line.get("message") == "calendar page fetched"]
    assert pages and {line["correlation_id"] for line in pages} == {run_id}
    assert [
        line.get("correlation_id") for line in lines if line.get("message") == "run enqueued"
    ] == [run_id]
