"""Read ``template.yaml``: what a local run needs to know of each table, queue, bucket, function
and event-source mapping (``provisioning`` creates them in a local endpoint).

``template.yaml`` is the single source of truth: the local runtime never restates a table key, a
queue setting or an environment variable. This module

* loads the template (``template_file``: a YAML loader that turns CloudFormation's short tags,
  ``!Ref``, ``!GetAtt``, ``!Sub`` ..., into their long forms);
* resolves the intrinsic functions it needs (``intrinsics``: parameters, pseudo-parameters,
  ``Ref``/``GetAtt`` of tables, queues and functions, ``Sub``, ``If``/``Equals``/``Not``,
  ``Join``, ``Select``, ``Split``, ``FindInMap``);
* reads each ``AWS::DynamoDB::Table``, ``AWS::SQS::Queue``, ``AWS::S3::Bucket`` and function
  into a spec: table names and keys, queue attributes and redrive, bucket encryption, public
  access block, lifecycle and policy, each function's handler, timeout, memory and resolved
  environment (Globals included), the SQS event-source mappings and the DynamoDB stream ones
  (``read_stream_mappings``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from villages_sync_ops.local.event_rules import EventRuleSpec
from villages_sync_ops.local.intrinsics import (
    BUCKET_TYPE,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    DEFAULT_STACK_NAME,
    FUNCTION_TYPE,
    INTRINSIC_FUNCTIONS,
    QUEUE_TYPE,
    TABLE_TYPE,
    TemplateError,
    TemplateResolver,
    resolve_parameters,
)
from villages_sync_ops.local.template_file import (
    TEMPLATE_ENV_VAR,
    TEMPLATE_FILE_NAME,
    TEMPLATE_LOADER,
    PythonTemplateLoader,
    default_template_path,
    load_template,
)

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "DEFAULT_STACK_NAME",
    "TEMPLATE_ENV_VAR",
    "TEMPLATE_FILE_NAME",
    "TEMPLATE_LOADER",
    "BucketSpec",
    "EventSourceMappingSpec",
    "FunctionSpec",
    "LocalResources",
    "PythonTemplateLoader",
    "QueueSpec",
    "StreamMappingSpec",
    "TableSpec",
    "TemplateError",
    "TemplateResolver",
    "default_template_path",
    "load_template",
    "read_buckets",
    "read_event_source_mappings",
    "read_functions",
    "read_queues",
    "read_stream_mappings",
    "read_tables",
    "resolve_parameters",
]

# Lambda's defaults when a function sets neither the property nor a Global.
_DEFAULT_TIMEOUT_SECONDS = 3
_DEFAULT_MEMORY_MB = 128
# SQS event-source defaults (AWS::Serverless::Function SQS event).
_DEFAULT_SQS_BATCH_SIZE = 10

# Queue properties that are SQS attributes of the same name (RedrivePolicy is handled apart).
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)


# ------------------------------------------------------------------------------ the specs


@dataclass(frozen=True, slots=True)
class TableSpec:
    logical_id: str
    table_name: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    global_secondary_indexes: list[dict[str, Any]]
    local_secondary_indexes: list[dict[str, Any]]
    billing_mode: str
    provisioned_throughput: dict[str, int] | None
    ttl_attribute: str | None  # None: TTL off
    stream_specification: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class QueueSpec:
    logical_id: str
    queue_name: str
    attributes: dict[str, str]  # SQS attributes, without RedrivePolicy
    dead_letter_queue_logical_id: str | None
    max_receive_count: int | None


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    logical_id: str
    function_name: str
    handler_module: str  # e.g. "producers.scrape_handler"
    handler_function: str  # e.g. "lambda_handler"
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]  # Globals merged in, every intrinsic resolved
    reserved_concurrency: int | None

    @property
    def handler_path(self) -> str:
        """``producers.scrape_handler.lambda_handler``: module and function in one dotted path."""
        return f"{self.handler_module}.{self.handler_function}"


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """A bucket as the S3 API sets it up: CloudFormation's properties in the API's shapes."""

    logical_id: str
    bucket_name: str
    encryption: dict[str, Any] | None  # PutBucketEncryption's configuration
    public_access_block: dict[str, bool] | None
    ownership_controls: dict[str, Any] | None
    lifecycle_rules: list[dict[str, Any]]  # PutBucketLifecycleConfiguration's rules
    policy: dict[str, Any] | None  # the AWS::S3::BucketPolicy naming this bucket


@dataclass(frozen=True, slots=True)
class EventSourceMappingSpec:
    function_logical_id: str
    queue_logical_id: str
    batch_size: int
    maximum_batching_window_seconds: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class StreamMappingSpec:
    """A function's DynamoDB stream event (what Lambda's stream poller does for it)."""

    function_logical_id: str
    table_logical_id: str
    batch_size: int
    maximum_batching_window_seconds: int
    starting_position: str
    report_batch_item_failures: bool
    bisect_batch_on_function_error: bool
    maximum_retry_attempts: int  # -1: until the record expires
    maximum_record_age_seconds: int  # -1: the stream's retention
    on_failure_queue_logical_id: str | None
    filter_criteria: dict[str, Any] | None
    enabled: bool = True


@dataclass(slots=True)
class LocalResources:
    stack_name: str
    parameters: dict[str, str]
    queue_urls: dict[str, str]  # logical id -> queue URL
    queue_arns: dict[str, str]  # logical id -> queue ARN
    functions: dict[str, FunctionSpec]
    event_source_mappings: list[EventSourceMappingSpec]
    table_specs: dict[str, TableSpec] = field(default_factory=dict)
    queue_specs: dict[str, QueueSpec] = field(default_factory=dict)
    bucket_specs: dict[str, BucketSpec] = field(default_factory=dict)
    stream_mappings: list[StreamMappingSpec] = field(default_factory=list)
    event_buses: dict[str, str] = field(default_factory=dict)  # logical id -> bus name
    event_rules: dict[str, EventRuleSpec] = field(default_factory=dict)

    @property
    def buckets(self) -> dict[str, str]:
        """Logical id -> bucket name."""
        return {logical_id: spec.bucket_name for logical_id, spec in self.bucket_specs.items()}

    @property
    def tables(self) -> dict[str, str]:
        """Logical id -> table name."""
        return {logical_id: spec.table_name for logical_id, spec in self.table_specs.items()}


def read_tables(resolver: TemplateResolver) -> dict[str, TableSpec]:
    """Every DynamoDB table the template creates, as the CreateTable call would describe it."""
    tables: dict[str, TableSpec] = {}
    for logical_id in resolver.of_type(TABLE_TYPE):
        props = resolver.resolve(resolver.properties(logical_id))
        ttl = props.get("TimeToLiveSpecification") or {}
        tables[logical_id] = TableSpec(
            logical_id=logical_id,
            table_name=resolver.physical_name(logical_id),
            key_schema=props["KeySchema"],
            attribute_definitions=props["AttributeDefinitions"],
            global_secondary_indexes=props.get("GlobalSecondaryIndexes", []),
            local_secondary_indexes=props.get("LocalSecondaryIndexes", []),
            billing_mode=props.get("BillingMode", "PROVISIONED"),
            provisioned_throughput=_int_values(props.get("ProvisionedThroughput")),
            ttl_attribute=ttl.get("AttributeName") if _truthy(ttl.get("Enabled")) else None,
            stream_specification=props.get("StreamSpecification"),
        )
    return tables


def read_queues(resolver: TemplateResolver) -> dict[str, QueueSpec]:
    """Every SQS queue, with its attributes as strings and its dead-letter queue's logical id."""
    queues: dict[str, QueueSpec] = {}
    for logical_id in resolver.of_type(QUEUE_TYPE):
        raw = resolver.properties(logical_id)
        props = resolver.resolve({k: v for k, v in raw.items() if k != "RedrivePolicy"})
        attributes = {
            name: _attribute_string(props[name]) for name in _QUEUE_ATTRIBUTES if name in props
        }
        if "RedriveAllowPolicy" in props:
            attributes["RedriveAllowPolicy"] = json.dumps(props["RedriveAllowPolicy"])
        dlq_id, max_receive = _redrive_target(raw.get("RedrivePolicy"))
        queues[logical_id] = QueueSpec(
            logical_id=logical_id,
            queue_name=resolver.physical_name(logical_id),
            attributes=attributes,
            dead_letter_queue_logical_id=dlq_id,
            max_receive_count=max_receive,
        )
    return queues


def read_buckets(resolver: TemplateResolver) -> dict[str, BucketSpec]:
    """Every S3 bucket that exists with these parameters, with its bucket policy."""
    policies: dict[str, dict[str, Any]] = {}
    for logical_id in resolver.of_type("AWS::S3::BucketPolicy"):
        props = resolver.resolve(resolver.properties(logical_id))
        policies[str(props["Bucket"])] = props["PolicyDocument"]
    buckets: dict[str, BucketSpec] = {}
    for logical_id in resolver.of_type(BUCKET_TYPE):
        props = resolver.resolve(resolver.properties(logical_id))
        name = resolver.physical_name(logical_id)
        encryption = props.get("BucketEncryption")
        buckets[logical_id] = BucketSpec(
            logical_id=logical_id,
            bucket_name=name,
            encryption=_encryption(encryption) if encryption else None,
            public_access_block=props.get("PublicAccessBlockConfiguration"),
            ownership_controls=props.get("OwnershipControls"),
            lifecycle_rules=[
                _lifecycle_rule(rule)
                for rule in (props.get("LifecycleConfiguration") or {}).get("Rules", [])
            ],
            policy=policies.get(name),
        )
    return buckets


def _encryption(properties: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's BucketEncryption as PutBucketEncryption takes it (the API calls the
    default ``ApplyServerSideEncryptionByDefault``)."""
    rules = []
    for rule in properties["ServerSideEncryptionConfiguration"]:
        api = {k: v for k, v in rule.items() if k != "ServerSideEncryptionByDefault"}
        if "ServerSideEncryptionByDefault" in rule:
            api["ApplyServerSideEncryptionByDefault"] = rule["ServerSideEncryptionByDefault"]
        rules.append(api)
    return {"Rules": rules}


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in PutBucketLifecycleConfiguration's shape (the parts
    this template uses: expiry in days under a prefix, incomplete uploads aborted)."""
    known = {"Id", "Status", "Prefix", "ExpirationInDays", "AbortIncompleteMultipartUpload"}
    unknown = set(rule) - known
    if unknown:
        raise TemplateError(f"lifecycle rule properties not read locally: {sorted(unknown)}")
    api: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        api["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return api


def read_functions(resolver: TemplateResolver) -> dict[str, FunctionSpec]:
    """Every SAM function, Globals merged in as SAM merges them, environment resolved."""
    functions: dict[str, FunctionSpec] = {}
    for logical_id in resolver.of_type(FUNCTION_TYPE):
        props = _function_properties(resolver, logical_id)
        code_dir = Path(str(resolver.resolve(props["CodeUri"]))).name
        module, _, function = str(resolver.resolve(props["Handler"])).rpartition(".")
        variables = resolver.resolve(props.get("Environment", {}).get("Variables", {}))
        reserved = props.get("ReservedConcurrentExecutions")
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            function_name=resolver.physical_name(logical_id),
            handler_module=f"{code_dir}.{module}" if code_dir else module,
            handler_function=function,
            timeout_seconds=int(resolver.resolve(props.get("Timeout", _DEFAULT_TIMEOUT_SECONDS))),
            memory_mb=int(resolver.resolve(props.get("MemorySize", _DEFAULT_MEMORY_MB))),
            environment={name: _attribute_string(value) for name, value in variables.items()},
            reserved_concurrency=None if reserved is None else int(resolver.resolve(reserved)),
        )
    return functions


def read_event_source_mappings(resolver: TemplateResolver) -> list[EventSourceMappingSpec]:
    """The SQS events of every SAM function (what Lambda's SQS poller does for each)."""
    mappings: list[EventSourceMappingSpec] = []
    for logical_id in resolver.of_type(FUNCTION_TYPE):
        events = resolver.properties(logical_id).get("Events", {})
        for event in events.values():
            if event.get("Type") != "SQS":
                continue
            props = event.get("Properties", {})
            queue_id = _queue_logical_id(props["Queue"])
            scaling = resolver.resolve(props.get("ScalingConfig", {}))
            concurrency = scaling.get("MaximumConcurrency")
            response_types = resolver.resolve(props.get("FunctionResponseTypes", []))
            mappings.append(
                EventSourceMappingSpec(
                    function_logical_id=logical_id,
                    queue_logical_id=queue_id,
                    batch_size=int(
                        resolver.resolve(props.get("BatchSize", _DEFAULT_SQS_BATCH_SIZE))
                    ),
                    maximum_batching_window_seconds=int(
                        resolver.resolve(props.get("MaximumBatchingWindowInSeconds", 0))
                    ),
                    report_batch_item_failures="ReportBatchItemFailures" in response_types,
                    maximum_concurrency=None if concurrency is None else int(concurrency),
                    enabled=_truthy(resolver.resolve(props.get("Enabled", True))),
                )
            )
    return mappings


def read_stream_mappings(resolver: TemplateResolver) -> list[StreamMappingSpec]:
    """The DynamoDB stream events of every SAM function."""
    mappings: list[StreamMappingSpec] = []
    for logical_id in resolver.of_type(FUNCTION_TYPE):
        for event in resolver.properties(logical_id).get("Events", {}).values():
            if event.get("Type") != "DynamoDB":
                continue
            props = event.get("Properties", {})
            stream = props["Stream"]
            target = stream.get("Fn::GetAtt") if isinstance(stream, dict) else None
            parts = target.split(".", 1) if isinstance(target, str) else target
            if not parts or parts[1] != "StreamArn":
                raise TemplateError(f"stream {stream!r} is not !GetAtt <Table>.StreamArn")
            on_failure = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
            response_types = resolver.resolve(props.get("FunctionResponseTypes", []))
            mappings.append(
                StreamMappingSpec(
                    function_logical_id=logical_id,
                    table_logical_id=str(parts[0]),
                    batch_size=int(resolver.resolve(props.get("BatchSize", 100))),
                    maximum_batching_window_seconds=int(
                        resolver.resolve(props.get("MaximumBatchingWindowInSeconds", 0))
                    ),
                    starting_position=str(resolver.resolve(props["StartingPosition"])),
                    report_batch_item_failures="ReportBatchItemFailures" in response_types,
                    bisect_batch_on_function_error=_truthy(
                        resolver.resolve(props.get("BisectBatchOnFunctionError", False))
                    ),
                    maximum_retry_attempts=int(
                        resolver.resolve(props.get("MaximumRetryAttempts", -1))
                    ),
                    maximum_record_age_seconds=int(
                        resolver.resolve(props.get("MaximumRecordAgeInSeconds", -1))
                    ),
                    on_failure_queue_logical_id=(
                        _queue_logical_id(on_failure["Destination"]) if on_failure else None
                    ),
                    filter_criteria=resolver.resolve(props.get("FilterCriteria")),
                    enabled=_truthy(resolver.resolve(props.get("Enabled", True))),
                )
            )
    return mappings


def _function_properties(resolver: TemplateResolver, logical_id: str) -> dict[str, Any]:
    global_props = resolver.template.get("Globals", {}).get("Function", {})
    return _merge_globals(global_props, resolver.properties(logical_id))


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's rule: maps merge (local keys win), lists concatenate, anything else: local wins."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        if _is_intrinsic(global_value) or _is_intrinsic(local_value):
            return local_value
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(merged[key], value) if key in merged else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in INTRINSIC_FUNCTIONS


def _queue_logical_id(reference: Any) -> str:
    """The logical id behind a queue ARN reference (``!GetAtt Queue.Arn``)."""
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        target = reference["Fn::GetAtt"]
        parts = target.split(".", 1) if isinstance(target, str) else target
        return str(parts[0])
    raise TemplateError(f"queue reference {reference!r} is not !GetAtt <Queue>.Arn")


def _redrive_target(policy: Any) -> tuple[str | None, int | None]:
    if policy is None:
        return None, None
    if isinstance(policy, str):
        raise TemplateError("RedrivePolicy must be a map with !GetAtt <DLQ>.Arn, not a string")
    return _queue_logical_id(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"])


def _attribute_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _int_values(value: Mapping[str, Any] | None) -> dict[str, int] | None:
    return None if value is None else {key: int(item) for key, item in value.items()}
