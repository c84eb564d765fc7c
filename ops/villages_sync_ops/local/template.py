"""Read ``template.yaml`` and create its tables and queues in a local endpoint.

``template.yaml`` is the single source of truth: the local runtime never restates a table key, a
queue setting or an environment variable. This module

* loads the template with a YAML loader that understands CloudFormation short tags
  (``!Ref``, ``!GetAtt``, ``!Sub`` ...) and turns them into their long forms;
* resolves the intrinsic functions it needs (parameters, pseudo-parameters, ``Ref``/``GetAtt`` of
  tables, queues and functions, ``Sub``, ``If``/``Equals``/``Not``, ``Join``, ``Select``,
  ``Split``, ``FindInMap``);
* creates every ``AWS::DynamoDB::Table``, ``AWS::SQS::Queue`` and ``AWS::S3::Bucket`` (with its
  encryption, public access block, lifecycle and bucket policy: at a plain-HTTP emulator, less
  its TLS-only statement, see ``without_tls_only``) in the endpoint the clients point at (moto,
  usually), idempotently, and returns what the local runtime needs to run each function
  as Lambda would: table names, queue URLs and ARNs, each function's handler, timeout, memory and
  resolved environment (Globals included), the SQS event-source mappings and the DynamoDB
  stream ones (``read_stream_mappings``); event buses are created when an EventBridge client
  is given (the change feed's bus).

Only the resources that hold state are created. Functions are not deployed: the local runtime
imports their handlers in-process (the layer is this installed package), so Lambda functions,
layers, IAM roles, schedules, log groups, the alarm topic, alarms and the dashboard have no local
counterpart; ``tests/integration/test_template_provision.py`` checks that what is created here
matches what CloudFormation creates from the translated template.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import ClientError

from villages_sync_ops.local.intrinsics import (
    BUCKET_TYPE,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    DEFAULT_STACK_NAME,
    EVENT_BUS_TYPE,
    FUNCTION_TYPE,
    INTRINSIC_FUNCTIONS,
    QUEUE_TYPE,
    TABLE_TYPE,
    TemplateError,
    TemplateResolver,
    resolve_parameters,
)

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "DEFAULT_STACK_NAME",
    "TEMPLATE_ENV_VAR",
    "BucketSpec",
    "EventSourceMappingSpec",
    "FunctionSpec",
    "LocalResources",
    "QueueSpec",
    "StreamMappingSpec",
    "TableSpec",
    "TemplateError",
    "TemplateResolver",
    "default_template_path",
    "load_template",
    "provision",
    "read_buckets",
    "read_event_source_mappings",
    "read_functions",
    "read_queues",
    "read_stream_mappings",
    "read_tables",
    "resolve_parameters",
]

TEMPLATE_ENV_VAR = "VILLAGES_SYNC_TEMPLATE"
TEMPLATE_FILE_NAME = "template.yaml"
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


# ----------------------------------------------------------------------------------- loading


class PythonTemplateLoader(yaml.SafeLoader):
    """SafeLoader that reads ``!Ref x`` as ``{"Ref": "x"}``, ``!Sub s`` as ``{"Fn::Sub": s}`` ..."""


# The same loader over libyaml's parser when PyYAML has it (its wheels do): every local
# deployment, command and test reads template.yaml, in 114 ms with the Python parser, 14 ms so.
# tests/unit/test_template_contract.py checks that both read the template alike.
TEMPLATE_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = PythonTemplateLoader
if yaml.__with_libyaml__:

    class LibyamlTemplateLoader(yaml.CSafeLoader):
        """PythonTemplateLoader's twin over libyaml's parser."""

    TEMPLATE_LOADER = LibyamlTemplateLoader


def _construct_short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


for _loader in {PythonTemplateLoader, TEMPLATE_LOADER}:
    _loader.add_multi_constructor("!", _construct_short_form)


def default_template_path() -> Path:
    """``$VILLAGES_SYNC_TEMPLATE`` if set, else the nearest ``template.yaml`` above this file."""
    override = os.environ.get(TEMPLATE_ENV_VAR, "").strip()
    if override:
        return Path(override)
    for directory in Path(__file__).resolve().parents:
        candidate = directory / TEMPLATE_FILE_NAME
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no {TEMPLATE_FILE_NAME} above {Path(__file__).parent}; set {TEMPLATE_ENV_VAR}"
    )


def load_template(path: Path | None = None, *, loader: type = TEMPLATE_LOADER) -> dict[str, Any]:
    """The template as plain data, short tags turned into their long forms."""
    source = path if path is not None else default_template_path()
    with open(source, encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=loader)  # a SafeLoader, or its libyaml twin
    if not isinstance(template, dict) or "Resources" not in template:
        raise TemplateError(f"{source} is not a CloudFormation template")
    return template


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


# ----------------------------------------------------------------------------- provisioning


def provision(
    template: Mapping[str, Any],
    *,
    dynamodb: Any,
    sqs: Any,
    s3: Any = None,
    events: Any = None,
    parameters: Mapping[str, str] | None = None,
    stack_name: str | None = None,
) -> LocalResources:
    """Create the template's tables, queues and buckets where the clients point; return what
    runs there. Without an ``s3`` client the buckets are read but not created, without an
    ``events`` client the event buses.

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
    event_buses = {
        logical_id: resolver.physical_name(logical_id)
        for logical_id in resolver.of_type(EVENT_BUS_TYPE)
    }
    if events is not None:
        for bus_name in event_buses.values():
            _create_event_bus(events, bus_name)
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
        stream_mappings=read_stream_mappings(resolver),
        event_buses=event_buses,
    )


def _create_event_bus(events: Any, name: str) -> None:
    try:
        events.create_event_bus(Name=name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise


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
