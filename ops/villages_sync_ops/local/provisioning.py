"""Create ``template.yaml``'s tables, queues and buckets in a local endpoint (moto, usually),
from the specs ``template`` reads, and return what the local runtime needs to run each function
as Lambda would: table names, queue URLs and ARNs, the functions and their event-source mappings.

Only the resources that hold state are created. Functions are not deployed: the local runtime
imports their handlers in-process (the layer is this installed package), so Lambda functions,
layers, IAM roles, schedules, log groups, the alarm topic, alarms and the dashboard have no local
counterpart; ``tests/integration/test_template_provision.py`` checks that what is created here
matches what CloudFormation creates from the translated template. A bucket's policy is applied
less its TLS-only statement at a plain-HTTP emulator (``without_tls_only``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from villages_sync_ops.local.event_rules import (
    provision_event_rules,
    read_event_buses,
    read_event_rules,
)
from villages_sync_ops.local.template import (
    DEFAULT_REGION,
    BucketSpec,
    LocalResources,
    QueueSpec,
    TableSpec,
    TemplateError,
    TemplateResolver,
    read_buckets,
    read_event_source_mappings,
    read_functions,
    read_queues,
    read_stream_mappings,
    read_tables,
)


def provision(
    template: Mapping[str, Any],
    *,
    dynamodb: Any,
    sqs: Any,
    s3: Any = None,
    events: Any = None,
    parameters: Mapping[str, str] | None = None,
    stack_name: str | None = None,
    streams: bool = True,
) -> LocalResources:
    """Create the template's tables, queues and buckets where the clients point; return what
    runs there. Without an ``s3`` client the buckets are read but not created; without an
    ``events`` client, the EventBridge buses and rules (``event_rules``) likewise. With
    ``streams=False`` no table gets its stream and no stream mapping is returned (a deployment
    without the change feed, for tests that are not about it).

    Idempotent: a table that exists is left as it is (its keys cannot change anyway; TTL is
    enabled if it is off); a queue that exists gets the template's attributes again. Dead-letter
    queues are created before the queues that redrive to them, whatever their order in the file.
    Functions, layers, roles, alarms and the dashboard are not created (see the module docstring).
    """
    resolver = TemplateResolver(
        template,
        parameters=parameters,
        stack_name=stack_name,
        region=dynamodb.meta.region_name or DEFAULT_REGION,
    )
    table_specs = read_tables(resolver)
    if not streams:
        table_specs = {
            logical_id: dataclasses.replace(spec, stream_specification=None)
            for logical_id, spec in table_specs.items()
        }
    for spec in table_specs.values():
        _create_table(dynamodb, spec)
    queue_specs = read_queues(resolver)
    for spec in _dead_letter_queues_first(queue_specs):
        url, arn = _create_queue(sqs, spec, resolver.known_queue_arns)
        resolver.known_queue_urls[spec.logical_id] = url
        resolver.known_queue_arns[spec.logical_id] = arn
    bucket_specs = read_buckets(resolver)
    if s3 is not None:
        for bucket in bucket_specs.values():
            _create_bucket(s3, bucket)
    event_buses, event_rules = read_event_buses(resolver), read_event_rules(resolver)
    if events is not None:
        provision_event_rules(events, event_buses, event_rules, resolver.known_queue_arns)
    return LocalResources(
        stack_name=resolver.stack_name,
        parameters=dict(resolver.parameters),
        queue_urls=dict(resolver.known_queue_urls),
        queue_arns=dict(resolver.known_queue_arns),
        functions=read_functions(resolver),
        event_source_mappings=read_event_source_mappings(resolver),
        table_specs=table_specs,
        queue_specs=queue_specs,
        bucket_specs=bucket_specs,
        stream_mappings=read_stream_mappings(resolver) if streams else [],
        event_buses=event_buses,
        event_rules=event_rules,
    )


def _create_table(dynamodb: Any, spec: TableSpec) -> None:
    request: dict[str, Any] = {
        "TableName": spec.table_name,
        "KeySchema": spec.key_schema,
        "AttributeDefinitions": spec.attribute_definitions,
        "BillingMode": spec.billing_mode,
    }
    if spec.provisioned_throughput:
        request["ProvisionedThroughput"] = spec.provisioned_throughput
    if spec.global_secondary_indexes:
        request["GlobalSecondaryIndexes"] = spec.global_secondary_indexes
    if spec.local_secondary_indexes:
        request["LocalSecondaryIndexes"] = spec.local_secondary_indexes
    if spec.stream_specification:
        # CloudFormation's property has the view type only; the API wants the switch too.
        request["StreamSpecification"] = {"StreamEnabled": True, **spec.stream_specification}
    try:
        dynamodb.create_table(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        if spec.stream_specification:
            _enable_stream(dynamodb, spec.table_name, request["StreamSpecification"])
    if spec.ttl_attribute is None:
        return
    current = dynamodb.describe_time_to_live(TableName=spec.table_name)
    if current["TimeToLiveDescription"].get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=spec.table_name,
            TimeToLiveSpecification={"AttributeName": spec.ttl_attribute, "Enabled": True},
        )


def _enable_stream(dynamodb: Any, table_name: str, stream: Mapping[str, Any]) -> None:
    """A table made before the template gave it a stream (a kept local emulator) gets one."""
    current = dynamodb.describe_table(TableName=table_name)["Table"].get("StreamSpecification")
    if not (current or {}).get("StreamEnabled"):
        dynamodb.update_table(TableName=table_name, StreamSpecification=dict(stream))


def _dead_letter_queues_first(specs: Mapping[str, QueueSpec]) -> list[QueueSpec]:
    ordered: list[QueueSpec] = []
    placed: set[str] = set()
    pending = dict(specs)
    while pending:
        ready = [
            spec
            for spec in pending.values()
            if spec.dead_letter_queue_logical_id is None
            or spec.dead_letter_queue_logical_id in placed
        ]
        if not ready:
            unplaced = sorted(pending)
            raise TemplateError(f"queues redrive in a cycle or to unknown queues: {unplaced}")
        for spec in ready:
            ordered.append(spec)
            placed.add(spec.logical_id)
            del pending[spec.logical_id]
    return ordered


def _create_queue(sqs: Any, spec: QueueSpec, arns: Mapping[str, str]) -> tuple[str, str]:
    attributes = dict(spec.attributes)
    if spec.dead_letter_queue_logical_id is not None:
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": arns[spec.dead_letter_queue_logical_id],
                "maxReceiveCount": spec.max_receive_count,
            }
        )
    try:
        url = sqs.get_queue_url(QueueName=spec.queue_name)["QueueUrl"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in (
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        ):
            raise
        url = sqs.create_queue(QueueName=spec.queue_name, Attributes=attributes)["QueueUrl"]
    else:
        # FifoQueue can only be given at creation; everything else converges to the template.
        changeable = {k: v for k, v in attributes.items() if k != "FifoQueue"}
        sqs.set_queue_attributes(QueueUrl=url, Attributes=changeable)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _create_bucket(s3: Any, spec: BucketSpec) -> None:
    """Create the bucket if missing, then set every configuration the template gives it
    (again, when it exists: a bucket converges to the template like a queue)."""
    request: dict[str, Any] = {"Bucket": spec.bucket_name}
    region = s3.meta.region_name or DEFAULT_REGION
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",):
            raise
    name = spec.bucket_name
    if spec.encryption:
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=spec.encryption)
    if spec.public_access_block:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=spec.public_access_block
        )
    if spec.ownership_controls:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=spec.ownership_controls)
    if spec.lifecycle_rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": spec.lifecycle_rules}
        )
    policy = spec.policy
    if policy and str(s3.meta.endpoint_url).startswith("http://"):
        policy = without_tls_only(policy)
    if policy and policy.get("Statement"):
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))


def without_tls_only(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The policy less its statements denying requests not over TLS (``aws:SecureTransport``
    false). An emulator on 127.0.0.1 speaks plain HTTP, and moto enforces bucket policies:
    with them, the local bucket would refuse every request. Every other statement stays."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [
        statement
        for statement in statements
        if not (
            statement.get("Effect") == "Deny"
            and str(
                statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
            ).lower()
            == "false"
        )
    ]
    return {**policy, "Statement": kept}
