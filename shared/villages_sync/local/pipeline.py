"""A real run executed locally: producer, then queue, then consumer, then sweep.

The handlers are the Lambda handlers themselves, invoked through the local Lambda runtime with
the environment the template gives each function; queues drain through the local event-source
mappings that the template declares. Nothing here restates a resource: it all comes from
``template.yaml`` via :func:`villages_sync.local.template.provision`.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from villages_sync.aws.clients import AwsClients, aws_clients
from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.runs_table import RunNotFoundError, RunsTable
from villages_sync.local.event_source import BatchReport, SqsEventSourceMapping
from villages_sync.local.lambda_runtime import Invocation, invoke
from villages_sync.local.template import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    FunctionSpec,
    LocalResources,
    load_template,
    provision,
)
from villages_sync.models import RunRecord

PRODUCER = "ProducerFunction"
EVENTS_TABLE = "EventsTable"
RUNS_TABLE = "RunsTable"

Progress = Callable[[str, str], None]  # (stage, message)


@dataclass(slots=True)
class LocalDeployment:
    """The template's tables and queues, created where the endpoints point, and clients for it.

    ``endpoint_url`` serves SQS, and DynamoDB too unless ``dynamodb_endpoint_url`` is set
    (DynamoDB Local beside moto).
    """

    endpoint_url: str
    region: str
    resources: LocalResources
    clients: AwsClients
    dynamodb_endpoint_url: str | None = None

    @property
    def dynamodb_url(self) -> str:
        return self.dynamodb_endpoint_url or self.endpoint_url

    @property
    def events(self) -> EventsTable:
        return EventsTable(self.clients.dynamodb, self.resources.tables[EVENTS_TABLE])

    @property
    def runs(self) -> RunsTable:
        return RunsTable(self.clients.dynamodb, self.resources.tables[RUNS_TABLE])


def deploy_locally(
    endpoint_url: str,
    *,
    dynamodb_endpoint_url: str | None = None,
    environment: str = "local",
    region: str = DEFAULT_REGION,
    template_path: Path | None = None,
) -> LocalDeployment:
    """Create whatever the template declares and the endpoints lack (idempotent).

    Tables go to ``dynamodb_endpoint_url`` when given, queues (and tables otherwise) to
    ``endpoint_url``.
    """
    clients = aws_clients(endpoint_url, region, dynamodb_endpoint_url=dynamodb_endpoint_url)
    resources = provision(
        load_template(template_path),
        dynamodb=clients.dynamodb,
        sqs=clients.sqs,
        parameters={"Environment": environment},
    )
    return LocalDeployment(endpoint_url, region, resources, clients, dynamodb_endpoint_url)


@dataclass(slots=True)
class SyncOptions:
    calendar_base_url: str | None = None  # None: the template's value (the real site)
    days_ahead: int | None = None
    function_log: TextIO | None = None  # where the functions' own logs and EMF metrics go
    extra_env: Mapping[str, str] = field(default_factory=dict)
    drain_deadline_seconds: float = 900.0


@dataclass(slots=True)
class SyncReport:
    run_id: str | None
    producer: dict[str, Any] | None
    producer_error: str
    run: RunRecord | None
    consumer_invocations: int = 0
    records_processed: int = 0
    records_failed: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return (
            not self.producer_error and self.run is not None and str(self.run.status) == "completed"
        )


class LocalPipeline:
    """Runs the deployed functions the way Lambda would, against one endpoint."""

    def __init__(
        self,
        deployment: LocalDeployment,
        options: SyncOptions | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.deployment = deployment
        self.options = options or SyncOptions()
        self._progress = progress or (lambda stage, message: None)

    def run_sync(self) -> SyncReport:
        timings: dict[str, float] = {}
        started = time.monotonic()
        self._progress("producer", "scraping the calendar and enqueuing events")
        invocation = self.invoke_function(PRODUCER, scheduled_event(self.deployment.region))
        timings["producer"] = round(time.monotonic() - started, 3)
        payload = invocation.payload if isinstance(invocation.payload, dict) else None
        error = invocation.error_text
        run_id = payload.get("run_id") if payload else self._newest_run_id()
        if error:
            self._progress("producer", f"failed: {error}")
        else:
            self._progress(
                "producer",
                f"{payload['fetched']} events fetched, {payload['events']} enqueued in "
                f"{payload['messages']} messages ({timings['producer']:.1f} s)",
            )
        report = SyncReport(run_id, payload, error, None, stage_seconds=timings)
        if not error:
            # Even after a failed producer the queues would hold whatever it sent; a failed
            # run never completes, so draining would only upsert. We skip it for a prompt exit.
            self.drain_queues(report)
        if run_id:
            with contextlib.suppress(RunNotFoundError):
                report.run = self.deployment.runs.get(run_id)
        timings["total"] = round(time.monotonic() - started, 3)
        return report

    def drain_queues(self, report: SyncReport | None = None) -> None:
        """Drain every event-source mapping until a full pass finds no work."""
        mappings = [self._mapping(spec) for spec in self.deployment.resources.event_source_mappings]
        deadline = time.monotonic() + self.options.drain_deadline_seconds
        while time.monotonic() < deadline:
            handled = 0
            for spec, mapping in mappings:
                stage = "consumer" if spec.queue_logical_id == "EventsQueue" else "sweep"
                begun = time.monotonic()
                drained = mapping.drain(
                    deadline_seconds=max(1.0, deadline - time.monotonic()),
                    on_batch=lambda batch, stage=stage: self._progress(stage, _batch_text(batch)),
                )
                handled += drained.records_received
                if report is not None:
                    report.stage_seconds[stage] = round(
                        report.stage_seconds.get(stage, 0.0) + time.monotonic() - begun, 3
                    )
                    if stage == "consumer":
                        report.consumer_invocations += drained.invocations
                    report.records_processed += drained.records_deleted
                    report.records_failed += drained.records_failed
            if handled == 0:
                return

    def invoke_function(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        spec = self.deployment.resources.functions[logical_id]
        with _redirect_stdout(self.options.function_log):
            return invoke(
                spec.handler_path,
                event,
                env=self.function_env(spec),
                function_name=spec.function_name,
                timeout_seconds=spec.timeout_seconds,
                memory_mb=spec.memory_mb,
                region=self.deployment.region,
            )

    def function_env(self, spec: FunctionSpec) -> dict[str, str]:
        env = dict(spec.environment)
        # Each service's own variable too, so none the caller's environment holds points elsewhere.
        env["AWS_ENDPOINT_URL"] = self.deployment.endpoint_url
        env["AWS_ENDPOINT_URL_SQS"] = self.deployment.endpoint_url
        env["AWS_ENDPOINT_URL_DYNAMODB"] = self.deployment.dynamodb_url
        if self.options.calendar_base_url is not None:
            env["CALENDAR_BASE_URL"] = self.options.calendar_base_url
        if self.options.days_ahead is not None:
            env["DAYS_AHEAD"] = str(self.options.days_ahead)
        env.update(self.options.extra_env)
        return env

    def _mapping(self, spec: Any) -> tuple[Any, SqsEventSourceMapping]:
        resources = self.deployment.resources
        mapping = SqsEventSourceMapping(
            self.deployment.clients.sqs,
            queue_url=resources.queue_urls[spec.queue_logical_id],
            queue_arn=resources.queue_arns[spec.queue_logical_id],
            invoke=lambda event, fn=spec.function_logical_id: self.invoke_function(fn, event),
            batch_size=spec.batch_size,
            report_batch_item_failures=spec.report_batch_item_failures,
            region=self.deployment.region,
        )
        return spec, mapping

    def _newest_run_id(self) -> str | None:
        runs = self.deployment.runs.recent_runs(limit=1)
        return runs[0].run_id if runs else None


def scheduled_event(region: str) -> dict[str, Any]:
    """The event EventBridge Scheduler's classic rule target receives (documented shape)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": DEFAULT_ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{DEFAULT_ACCOUNT_ID}:rule/villages-sync-local"],
        "detail": {},
    }


def _batch_text(batch: BatchReport) -> str:
    text = f"batch of {batch.records_received} message(s)"
    return text + (f", {batch.records_failed} failed" if batch.records_failed else "")


@contextlib.contextmanager
def _redirect_stdout(stream: TextIO | None) -> Iterator[None]:
    if stream is None:
        yield
        return
    with contextlib.redirect_stdout(stream):
        yield
