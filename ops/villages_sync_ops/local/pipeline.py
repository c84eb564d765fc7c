"""A real run executed locally: producer, then queue, then consumer, then sweep.

The handlers are the Lambda handlers themselves, invoked through the local Lambda runtime with
the environment the template gives each function; queues drain through the local event-source
mappings that the template declares. Nothing here restates a resource: it all comes from
``template.yaml`` via :func:`villages_sync_ops.local.provisioning.provision`.
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

from villages_sync.aws.clients import AwsClients, aws_clients, events_client, s3_client
from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.runs_table import RunNotFoundError, RunsTable
from villages_sync.models import RunRecord, RunStatus
from villages_sync.run_ids import RunId, is_run_id, run_id_floor

from villages_sync_ops.local.event_source import BatchReport, SqsEventSourceMapping
from villages_sync_ops.local.lambda_runtime import Invocation, invoke
from villages_sync_ops.local.provisioning import provision
from villages_sync_ops.local.stream_source import DynamoDbStreamMapping, stream_mapping
from villages_sync_ops.local.template import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    EventSourceMappingSpec,
    FunctionSpec,
    LocalResources,
    load_template,
)
from villages_sync_ops.skill.envelopes import LOCAL_SKILL_ID

PRODUCER = "ProducerFunction"
EVENTS_TABLE = "EventsTable"
RUNS_TABLE = "RunsTable"

Progress = Callable[[str, str], None]  # (stage, message)
# The stage each queue's poller reports as (a queue not named here: its function's id).
STAGES = {"EventsQueue": "consumer", "SweepQueue": "sweep", "RemindersQueue": "reminders"}


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
    parameters: Mapping[str, str] | None = None,
    change_feed: bool = True,
) -> LocalDeployment:
    """Create whatever the template declares and the endpoints lack (idempotent).

    Tables go to ``dynamodb_endpoint_url`` when given, queues (and tables otherwise) to
    ``endpoint_url``. ``parameters`` (template parameters; ``environment`` is the Environment
    one) shape the functions' environment. ``change_feed=False`` deploys without the events
    table's stream and its mapping (``provision``'s ``streams``): the feed only reads the table,
    so what the sync stores is the same; tests that are not about the feed use it.
    """
    clients = aws_clients(endpoint_url, region, dynamodb_endpoint_url=dynamodb_endpoint_url)
    resources = provision(
        load_template(template_path),
        dynamodb=clients.dynamodb,
        sqs=clients.sqs,
        s3=s3_client(endpoint_url, region),  # buckets beside the queues (moto)
        # the change feed's bus and the rules on it (moto delivers to their SQS targets)
        events=events_client(endpoint_url, region),
        streams=change_feed,
        # A local deployment names the local skill (the id local envelopes carry), as a real
        # one is given the skill's id: the skill function refuses requests without one.
        parameters={"Environment": environment, "SkillId": LOCAL_SKILL_ID, **(parameters or {})},
    )
    return LocalDeployment(endpoint_url, region, resources, clients, dynamodb_endpoint_url)


@dataclass(slots=True)
class SyncOptions:
    calendar_base_url: str | None = None  # None: the template's value (the real site)
    days_ahead: int | None = None
    # Where the functions' own output goes (their JSON logs, EMF metrics, warnings), as Lambda
    # sends a function's stdout and stderr to CloudWatch Logs.
    function_log: TextIO | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)  # every function
    function_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # per logical id
    drain_deadline_seconds: float = 900.0
    # Drop the stream records read from an in-process moto (local/moto_streams.py): the demo.
    trim_read_stream_records: bool = False


class SyncInterrupted(Exception):
    """Ctrl-C (or SIGTERM, or a closed pipe) during a local run: which stage, the run this sync
    started, and what stopped it (the ``KeyboardInterrupt``, which may carry its signal)."""

    def __init__(self, stage: str, run_id: RunId | None, stop: BaseException | None = None) -> None:
        super().__init__(f"interrupted during the {stage}")
        self.stage = stage
        self.run_id = run_id
        self.stop = stop if stop is not None else KeyboardInterrupt()


@dataclass(frozen=True, slots=True)
class InterruptOutcome:
    run_id: RunId | None
    marked_failed: bool
    run: RunRecord | None
    messages_left: int  # on the events queue, all visible again


@dataclass(slots=True)
class SyncReport:
    run_id: RunId | None
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
            not self.producer_error
            and self.run is not None
            and self.run.status is RunStatus.COMPLETED
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
        self._run_floor = ""
        self._stage = "producer"
        self._stream_mappings: list[DynamoDbStreamMapping] | None = None

    def run_sync(self) -> SyncReport:
        """One run. Raises SyncInterrupted on Ctrl-C (or anything else that stops the command
        from outside: a ``KeyboardInterrupt``, whatever it was doing, progress lines included);
        the caller then calls ``interrupt``."""
        self._stage = "producer"
        try:
            report = self._run_sync()
        except KeyboardInterrupt as stop:
            raise SyncInterrupted(self._stage, self.own_run_id(), stop) from None
        return report

    def _run_sync(self) -> SyncReport:
        timings: dict[str, float] = {}
        started = time.monotonic()
        self._run_floor = run_id_floor(datetime.now(UTC))
        for mapping in self.stream_mappings():
            mapping.mark_latest()  # this sync's changes only (see stream_source)
        self._progress("producer", "scraping the calendar and enqueuing events")
        invocation = self.invoke_function(PRODUCER, scheduled_event(self.deployment.region))
        timings["producer"] = round(time.monotonic() - started, 3)
        payload = invocation.payload if isinstance(invocation.payload, dict) else None
        error = invocation.error_text
        # Only the run this sync started: a producer that failed before recording one has none.
        if payload:
            reported = payload.get("run_id")
            run_id = reported if is_run_id(reported) else None
        else:
            run_id = self.own_run_id()
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
        mappings = [
            (spec, self.event_source_mapping(spec))
            for spec in self.deployment.resources.event_source_mappings
        ]
        deadline = time.monotonic() + self.options.drain_deadline_seconds
        done: dict[str, int] = {}
        failed: dict[str, int] = {}
        # N of M: everything on the events queue now (this run's messages, and any an
        # interrupted run left behind: those are consumed too).
        waiting = self._events_waiting()
        # Two rounds at most: the change feed publishes what the queues' work changed, and the
        # bus's rules put some of it on a queue (the reminders'), drained in the second round.
        for round_number in (1, 2):
            while time.monotonic() < deadline:
                handled = 0
                for spec, mapping in mappings:
                    stage = STAGES.get(spec.queue_logical_id, spec.function_logical_id)
                    self._stage = stage
                    begun = time.monotonic()

                    def on_batch(batch: BatchReport, stage: str = stage) -> None:
                        done[stage] = done.get(stage, 0) + batch.records_deleted
                        failed[stage] = failed.get(stage, 0) + batch.records_failed
                        total = max(waiting, done[stage]) if stage == "consumer" else None
                        count = getattr(self._progress, "count", None)
                        if count is not None:
                            count(stage, done[stage], total, failed[stage])
                        else:
                            self._progress(stage, _batch_text(batch))

                    drained = mapping.drain(
                        deadline_seconds=max(1.0, deadline - time.monotonic()), on_batch=on_batch
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
                    break
            if round_number == 2:
                break  # the reminders' work writes nothing the change feed reads
            # The queues are drained: what the run changed is on the events table's stream now.
            invocations = 0
            for stream in self.stream_mappings():
                self._stage = "changes"
                begun = time.monotonic()
                read = stream.drain()
                invocations += read.invocations
                if report is not None:
                    report.stage_seconds["changes"] = round(time.monotonic() - begun, 3)
                self._progress(
                    "changes",
                    f"{read.records_read} stream records, {read.invocations} batch(es), "
                    f"{read.records_failed_to_destination} to ChangesFailureQueue",
                )
            if invocations == 0:
                break

    def stream_mappings(self) -> list[DynamoDbStreamMapping]:
        """The template's DynamoDB stream mappings, polling here (kept: they hold positions)."""
        if self._stream_mappings is None:
            self._stream_mappings = [
                stream_mapping(
                    spec,
                    self.deployment.resources,
                    dynamodb=self.deployment.clients.dynamodb,
                    sqs=self.deployment.clients.sqs,
                    dynamodb_url=self.deployment.dynamodb_url,
                    region=self.deployment.region,
                    invoke=lambda event, fn=spec.function_logical_id: self.invoke_function(
                        fn, event
                    ),
                    trim_read_records=self.options.trim_read_stream_records,
                )
                for spec in self.deployment.resources.stream_mappings
                if spec.enabled
            ]
        return self._stream_mappings

    def _events_waiting(self) -> int:
        attributes = self.deployment.clients.sqs.get_queue_attributes(
            QueueUrl=self.deployment.resources.queue_urls["EventsQueue"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def own_run_id(self) -> RunId | None:
        """The run this pipeline's producer started (None before it recorded one). Runs ids sort
        by start time, and one sync runs at a time per environment (the CLI's lock)."""
        if not self._run_floor:
            return None
        newer = self.deployment.runs.newer_runs(self._run_floor)
        return newer[-1].run_id if newer else None

    def interrupt(self, run_id: RunId | None, reason: str) -> InterruptOutcome:
        """After Ctrl-C: fail the run if it is still scraping or enqueued (so it is never swept)
        and count what is left on the events queue (the mappings made it visible again)."""
        run: RunRecord | None = None
        marked = False
        runs = self.deployment.runs
        if run_id:
            with contextlib.suppress(RunNotFoundError):
                run = runs.get(run_id)
            if run is not None and run.status in (RunStatus.SCRAPING, RunStatus.ENQUEUED):
                runs.fail_run(run_id, f"interrupted: {reason}", now=time.time())
                marked = True
                run = runs.get(run_id)
        return InterruptOutcome(run_id, marked, run, self._events_waiting())

    def invoke_function(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        spec = self.deployment.resources.functions[logical_id]
        with _redirect_output(self.options.function_log):
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
        env["AWS_ENDPOINT_URL_S3"] = self.deployment.endpoint_url
        env["AWS_ENDPOINT_URL_EVENTS"] = self.deployment.endpoint_url
        if self.options.calendar_base_url is not None:
            env["CALENDAR_BASE_URL"] = self.options.calendar_base_url
        if self.options.days_ahead is not None:
            env["DAYS_AHEAD"] = str(self.options.days_ahead)
        env.update(self.options.extra_env)
        env.update(self.options.function_env.get(spec.logical_id, {}))
        # Tracing is off locally (no X-Ray daemon) unless the run's settings turn it on.
        env.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        return env

    def event_source_mapping(self, spec: EventSourceMappingSpec) -> SqsEventSourceMapping:
        """The SQS poller of one of the template's event-source mappings, invoking its function
        here (drain it, or build the records it would hand the function)."""
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
        return mapping


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
def _redirect_output(stream: TextIO | None) -> Iterator[None]:
    """The function's stdout and stderr (warnings too) go where Lambda would send them."""
    if stream is None:
        yield
        return
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        yield
