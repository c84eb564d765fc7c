"""Where a command's resources are: the local emulator, another endpoint, or a deployed stack.

``--endpoint-url`` wins over ``AWS_ENDPOINT_URL``; with neither (and no ``--stack``) the
commands share one local emulator. DynamoDB may live elsewhere, the boto3 way:
``--dynamodb-endpoint-url``, else ``--endpoint-url``, else ``AWS_ENDPOINT_URL_DYNAMODB``, else
``AWS_ENDPOINT_URL`` (and likewise ``AWS_ENDPOINT_URL_SQS`` for the queues); what none of them
names is the shared emulator's (whose DynamoDB may be DynamoDB Local). Only the commands that
write (``sync``, ``demo``, ``emulator start``) start it or create tables and queues: the
read-only ones (``resolve_target(create=False)``) find what exists, or say what is missing.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError
from villages_sync.aws.clients import AwsClients, aws_clients, configured_endpoint
from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.runs_table import RunsTable

from villages_sync_ops.local.emulator import (
    default_state_dir,
    ensure_shared_emulator,
    shared_emulator_status,
    use_emulator_credentials,
)
from villages_sync_ops.local.intrinsics import TemplateError, TemplateResolver
from villages_sync_ops.local.pipeline import deploy_locally
from villages_sync_ops.local.template import DEFAULT_REGION, load_template, read_queues, read_tables

# Existence checks fail fast: a dead endpoint is an answer, not something to retry for a minute.
_PROBE = Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=3)

# Stack output key -> queue name shown by `status` (DLQs end in "DLQ").
QUEUE_OUTPUTS = {
    "EventsQueueUrl": "EventsQueue",
    "EventsDLQUrl": "EventsDLQ",
    "SweepQueueUrl": "SweepQueue",
    "SweepDLQUrl": "SweepDLQ",
    "ChangesFailureQueueUrl": "ChangesFailureQueue",
}
# Each DLQ and the queue its messages came from. Replaying the reminders' is safe: a change
# RemindersFunction already applied is skipped (its reminder's item records the change id).
DLQ_SOURCES = {
    "EventsDLQ": "EventsQueue",
    "SweepDLQ": "SweepQueue",
    "RemindersDLQ": "RemindersQueue",
}


class TargetError(RuntimeError):
    pass


class NotFoundError(TargetError):
    """Nothing to read: no emulator, or no tables and queues for the environment."""


@dataclass(slots=True)
class Target:
    description: str
    clients: AwsClients
    events_table: str
    runs_table: str
    queue_urls: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> name (reminders...)
    changes_table: str = ""  # "": a stack deployed before the change feed

    @property
    def events(self) -> EventsTable:
        return EventsTable(self.clients.dynamodb, self.events_table)

    @property
    def runs(self) -> RunsTable:
        return RunsTable(self.clients.dynamodb, self.runs_table)

    @property
    def dlq_names(self) -> set[str]:
        return {name for name in self.queue_urls if name.endswith("DLQ")}


@dataclass(frozen=True, slots=True)
class LocalEndpoints:
    sqs: str
    dynamodb: str

    def __str__(self) -> str:
        if self.sqs == self.dynamodb:
            return self.sqs
        return f"{self.sqs} (DynamoDB: {self.dynamodb})"


def local_endpoints(
    endpoint_url: str | None, dynamodb_endpoint_url: str | None = None, *, start: bool = True
) -> LocalEndpoints:
    """The endpoints for local work: the flags, the environment, or the shared emulator
    (started on demand unless ``start`` is false: then NotFoundError when it is not running)."""
    sqs = endpoint_url or configured_endpoint("sqs")
    dynamodb = dynamodb_endpoint_url or endpoint_url or configured_endpoint("dynamodb")
    if sqs and dynamodb:
        return LocalEndpoints(sqs, dynamodb)
    use_emulator_credentials()
    state_dir = default_state_dir()
    if start:
        ensure_shared_emulator(state_dir)
    shared = shared_emulator_status(state_dir)
    if shared is None:
        if not start:
            raise NotFoundError(
                "no local emulator is running, so there is nothing to read (its data went with "
                "it); `villages-sync sync` or `villages-sync emulator start` starts one"
            )
        raise TargetError(f"the shared emulator stopped as it started; see {state_dir}")
    return LocalEndpoints(sqs or shared.endpoint_url, dynamodb or shared.dynamodb_url)


def local_endpoint(endpoint_url: str | None) -> str:
    """The SQS (and default) endpoint for local work (see local_endpoints)."""
    return local_endpoints(endpoint_url).sqs


def resolve_target(
    *,
    endpoint_url: str | None,
    stack: str | None,
    environment: str,
    region: str | None,
    dynamodb_endpoint_url: str | None = None,
    create: bool = True,
) -> Target:
    if stack:
        return _stack_target(stack, endpoint_url, region, dynamodb_endpoint_url)
    if not create:
        endpoints = local_endpoints(endpoint_url, dynamodb_endpoint_url, start=False)
        return _existing_target(endpoints, environment, region or DEFAULT_REGION)
    endpoints = local_endpoints(endpoint_url, dynamodb_endpoint_url)
    deployment = deploy_locally(
        endpoints.sqs,
        dynamodb_endpoint_url=endpoints.dynamodb,
        environment=environment,
        region=region or DEFAULT_REGION,
    )
    resources = deployment.resources
    return Target(
        description=f"{endpoints} (environment {environment})",
        clients=deployment.clients,
        events_table=resources.tables["EventsTable"],
        runs_table=resources.tables["RunsTable"],
        queue_urls=dict(resources.queue_urls),
        tables=dict(resources.tables),
    )


def _check_listening(url: str | None) -> None:
    """Nothing listening is said as such: boto3 would first look for credentials and report
    "Unable to locate credentials", which points the wrong way."""
    if not url:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=5):
            return
    except OSError as error:
        raise NotFoundError(
            f"nothing answers at {url} ({error.strerror or error}): check --endpoint-url "
            "(or AWS_ENDPOINT_URL), or start the local emulator: villages-sync emulator start"
        ) from None


def _existing_target(endpoints: LocalEndpoints, environment: str, region: str) -> Target:
    """The environment's tables and queues where they already are; NotFoundError otherwise."""
    endpoint = str(endpoints)
    try:
        resolver = TemplateResolver(
            load_template(), parameters={"Environment": environment}, region=region
        )
    except TemplateError as error:
        raise TargetError(f"--env {environment}: {error}") from None
    tables = {k: spec.table_name for k, spec in read_tables(resolver).items()}
    queues = {k: spec.queue_name for k, spec in read_queues(resolver).items()}
    for url in {endpoints.dynamodb, endpoints.sqs}:
        _check_listening(url)
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=endpoints.dynamodb, region_name=region, config=_PROBE
    )
    sqs = boto3.client("sqs", endpoint_url=endpoints.sqs, region_name=region, config=_PROBE)
    try:
        existing = set(dynamodb.list_tables()["TableNames"])
        queue_urls = {}
        for logical_id, name in queues.items():
            try:
                queue_urls[logical_id] = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            except ClientError:
                continue
    except (BotoCoreError, ClientError) as error:
        raise NotFoundError(f"{endpoint} does not answer as AWS does: {error}") from None
    missing = sorted(n for n in tables.values() if n not in existing)
    missing += sorted(n for k, n in queues.items() if k not in queue_urls)
    if missing:
        prefix = tables["EventsTable"].removesuffix(environment)
        others = sorted(n.removeprefix(prefix) for n in existing if n.startswith(prefix))
        hint = f"; environments there: {', '.join(others)}" if others else ""
        raise NotFoundError(
            f"environment {environment!r} has no {', '.join(missing[:2])}"
            f"{' ...' if len(missing) > 2 else ''} at {endpoint}{hint} "
            f"(`villages-sync sync --env {environment}` creates them)"
        )
    return Target(
        description=f"{endpoint} (environment {environment})",
        clients=aws_clients(endpoints.sqs, region, dynamodb_endpoint_url=endpoints.dynamodb),
        events_table=tables["EventsTable"],
        runs_table=tables["RunsTable"],
        queue_urls=queue_urls,
        tables=dict(tables),
        changes_table=tables["ChangesTable"],
    )


def _stack_target(
    stack: str, endpoint_url: str | None, region: str | None, dynamodb_endpoint_url: str | None
) -> Target:
    try:
        cloudformation = boto3.client(
            "cloudformation", endpoint_url=endpoint_url, region_name=region
        )
    except NoRegionError:
        raise TargetError(
            f"--stack {stack} needs a region: pass --region, or set AWS_REGION "
            "(or a region in your AWS profile)"
        ) from None
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as error:
        raise TargetError(f"stack {stack!r}: {error}") from error
    outputs: dict[str, Any] = {
        o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])
    }
    missing = [key for key in ("EventsTableName", "RunsTableName") if key not in outputs]
    if missing:
        raise TargetError(f"stack {stack!r} has no output {', '.join(missing)}")
    return Target(
        description=f"stack {stack}",
        clients=aws_clients(endpoint_url, region, dynamodb_endpoint_url=dynamodb_endpoint_url),
        events_table=outputs["EventsTableName"],
        runs_table=outputs["RunsTableName"],
        queue_urls={name: outputs[key] for key, name in QUEUE_OUTPUTS.items() if key in outputs},
        tables={"RemindersTable": outputs["RemindersTableName"]}
        if "RemindersTableName" in outputs
        else {},
        changes_table=outputs.get("ChangesTableName", ""),
    )
