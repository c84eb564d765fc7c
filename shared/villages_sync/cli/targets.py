"""Where a command's resources are: the local emulator, another endpoint, or a deployed stack.

``--endpoint-url`` wins over ``AWS_ENDPOINT_URL``; with neither (and no ``--stack``) the
commands share one local emulator, started on demand. DynamoDB may live elsewhere, the boto3
way: ``--dynamodb-endpoint-url``, else ``--endpoint-url``, else ``AWS_ENDPOINT_URL_DYNAMODB``,
else ``AWS_ENDPOINT_URL`` (and likewise ``AWS_ENDPOINT_URL_SQS`` for the queues); what none of
them names is the shared emulator's (whose DynamoDB may be DynamoDB Local).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

from villages_sync.aws.clients import AwsClients, aws_clients, configured_endpoint
from villages_sync.aws.events_table import EventsTable
from villages_sync.aws.runs_table import RunsTable
from villages_sync.local.emulator import (
    default_state_dir,
    ensure_shared_emulator,
    shared_emulator_status,
    use_emulator_credentials,
)
from villages_sync.local.pipeline import deploy_locally
from villages_sync.local.template import DEFAULT_REGION

# Stack output key -> queue name shown by `status` (DLQs end in "DLQ").
QUEUE_OUTPUTS = {
    "EventsQueueUrl": "EventsQueue",
    "EventsDLQUrl": "EventsDLQ",
    "SweepQueueUrl": "SweepQueue",
    "SweepDLQUrl": "SweepDLQ",
}
DLQ_SOURCES = {"EventsDLQ": "EventsQueue", "SweepDLQ": "SweepQueue"}


class TargetError(RuntimeError):
    pass


@dataclass(slots=True)
class Target:
    description: str
    clients: AwsClients
    events_table: str
    runs_table: str
    queue_urls: dict[str, str] = field(default_factory=dict)

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
    endpoint_url: str | None, dynamodb_endpoint_url: str | None = None
) -> LocalEndpoints:
    """The endpoints for local work: the flags, the environment, or the shared emulator."""
    sqs = endpoint_url or configured_endpoint("sqs")
    dynamodb = dynamodb_endpoint_url or endpoint_url or configured_endpoint("dynamodb")
    if sqs and dynamodb:
        return LocalEndpoints(sqs, dynamodb)
    use_emulator_credentials()
    state_dir = default_state_dir()
    ensure_shared_emulator(state_dir)
    shared = shared_emulator_status(state_dir)
    if shared is None:
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
) -> Target:
    if stack:
        return _stack_target(stack, endpoint_url, region, dynamodb_endpoint_url)
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
    )


def _stack_target(
    stack: str, endpoint_url: str | None, region: str | None, dynamodb_endpoint_url: str | None
) -> Target:
    cloudformation = boto3.client("cloudformation", endpoint_url=endpoint_url, region_name=region)
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
    )
