"""``provision`` against the moto server, and the three-way check of template.yaml.

The three ways: aws-sam-translator turns template.yaml into plain CloudFormation offline,
cfn-lint accepts the result, and moto's CloudFormation creates it; the tables and queues it
creates must be identical to what ``provision`` creates from the same file for the local runtime.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
import requests
from cfnlint.api import ManualArgs, lint
from samtranslator.translator.transform import transform
from support.template import as_list
from villages_sync_ops.local.provisioning import provision
from villages_sync_ops.local.template import (
    LocalResources,
    TemplateResolver,
    read_event_source_mappings,
    read_queues,
    read_stream_mappings,
    read_tables,
)

PARAMETERS = {"Environment": "it"}
STACK_NAME = "villages-sync-it"

# Resource types removed before moto's CloudFormation creates the translated template:
# functions and layers need their code package in S3 (there is none offline), and moto's
# CloudFormation does not implement alarms, EventBridge Scheduler schedules, event invoke
# configs or SNS subscriptions. Every resource that refers to a removed one goes as well.
STRIPPED_TYPES = frozenset(
    {
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::CloudWatch::Alarm",
        "AWS::Scheduler::Schedule",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SNS::Subscription",
    }
)
# What that removes, written out so this docstring-level claim is checked: the four functions,
# the layer, the alarms, the schedule (and its role, which names the producer), the invoke
# config, the SQS event-source mappings and the skill's Alexa permission (they name the
# functions), the dashboard (it names the functions) and the optional e-mail subscription.
EXPECTED_STRIPPED = {
    "ProducerFunction",
    "ConsumerFunction",
    "SweepFunction",
    "ProducerFunctionSchedule",
    "ProducerFunctionScheduleRole",
    "ProducerFunctionEventInvokeConfig",
    "ConsumerFunctionEventsQueueMessages",
    "SweepFunctionSweepQueueMessages",
    "RemindersFunctionRemindersQueueMessages",
    "ChangesFunctionEventsTableStream",
    "Dashboard",
    "AlarmEmailSubscription",
    "EventsDLQMessagesAlarm",
    "SweepDLQMessagesAlarm",
    "EventsQueueAgeAlarm",
    "ProducerErrorsAlarm",
    "ProducerThrottlesAlarm",
    "ConsumerErrorsAlarm",
    "ConsumerThrottlesAlarm",
    "SweepErrorsAlarm",
    "SweepThrottlesAlarm",
    "SweepRefusedAlarm",
    "NoCompletedRunAlarm",
    "SkillFunction",
    "SkillFunctionAlexaSkillPermission",
    "SkillErrorsAlarm",
    "SkillThrottlesAlarm",
    "SkillUnansweredAlarm",
}
# Warnings the translation itself causes, not the template: SAM resolves the layer's
# !Sub "villages-sync-${Environment}-shared" to a plain string but keeps the Fn::Sub.
TRANSLATION_ARTIFACTS = frozenset({"W1020"})


class _NoManagedPolicies:
    """ManagedPolicyLoader stand-in: the template names no managed policies, so IAM is not
    asked (SAM adds the ones it needs, e.g. AWSLambdaBasicExecutionRole, by ARN)."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    return translate_offline(template, PARAMETERS)


@pytest.fixture
def cloudformation(moto_endpoint: str, dynamodb: Any) -> Any:
    return boto3.client(
        "cloudformation", endpoint_url=moto_endpoint, region_name=dynamodb.meta.region_name
    )


def translate_offline(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """SAM to plain CloudFormation without AWS: local code paths become S3 locations (as
    ``sam package`` would upload them), and no managed policy is looked up in IAM."""
    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://villages-sync-artifacts/{properties[key].rstrip('/')}"
    return transform(sam, dict(parameters), _NoManagedPolicies())


def _references(node: Any) -> set[str]:
    """Logical ids (and parameters) a piece of template refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                parts = value.split(".", 1) if isinstance(value, str) else value
                found.add(str(parts[0]))
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(
                    part.split("}", 1)[0].split(".", 1)[0] for part in text.split("${")[1:]
                )
            found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def strip_for_moto(cfn: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The template without STRIPPED_TYPES and whatever depends on them; the removed ids."""
    body = copy.deepcopy(cfn)
    resources = body["Resources"]
    removed = {lid for lid, r in resources.items() if r["Type"] in STRIPPED_TYPES}
    while True:
        dependents = {
            logical_id
            for logical_id, resource in resources.items()
            if logical_id not in removed
            and (
                _references(resource) & removed
                or set(as_list(resource.get("DependsOn", []))) & removed
            )
        }
        if not dependents:
            break
        removed |= dependents
    for logical_id in removed:
        del resources[logical_id]
    body["Outputs"] = {
        key: output
        for key, output in body.get("Outputs", {}).items()
        if not _references(output) & removed
    }
    return body, removed


# ---------------------------------------------------------------------- snapshots to compare


def _table_snapshot(dynamodb: Any, name: str) -> dict[str, Any]:
    table = dynamodb.describe_table(TableName=name)["Table"]
    return {
        "TableName": table["TableName"],
        "KeySchema": table["KeySchema"],
        "AttributeDefinitions": sorted(
            table["AttributeDefinitions"], key=lambda a: a["AttributeName"]
        ),
        "BillingMode": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "GlobalSecondaryIndexes": sorted(
            (
                {
                    "IndexName": index["IndexName"],
                    "KeySchema": index["KeySchema"],
                    "Projection": index["Projection"],
                }
                for index in table.get("GlobalSecondaryIndexes", [])
            ),
            key=lambda i: i["IndexName"],
        ),
    }


_COMPARED_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy")


def _queue_snapshot(sqs: Any, url: str) -> dict[str, Any]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    snapshot: dict[str, Any] = {"QueueName": attributes["QueueArn"].rsplit(":", 1)[1]}
    for name in _COMPARED_QUEUE_ATTRIBUTES:
        if name == "RedrivePolicy" and name in attributes:
            policy = json.loads(attributes[name])
            snapshot[name] = {
                "deadLetterTargetArn": policy["deadLetterTargetArn"],
                "maxReceiveCount": int(policy["maxReceiveCount"]),
            }
        else:
            snapshot[name] = attributes.get(name)
    return snapshot


def _snapshot(dynamodb: Any, sqs: Any) -> dict[str, Any]:
    """Every table and queue in the endpoint, as far as both paths can set them."""
    tables = {
        name: _table_snapshot(dynamodb, name) for name in dynamodb.list_tables()["TableNames"]
    }
    queues = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        queue = _queue_snapshot(sqs, url)
        queues[queue["QueueName"]] = queue
    return {"tables": tables, "queues": queues}


def _account_and_name(queue_url: str) -> list[str]:
    return queue_url.rstrip("/").rsplit("/", 2)[-2:]


def _reset(moto_endpoint: str) -> None:
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)


# ------------------------------------------------------------------------------------ tests


def test_provision_creates_tables_as_the_template_describes(
    template: dict[str, Any], dynamodb: Any, sqs: Any
) -> None:
    # Given the template's tables
    expected = read_tables(TemplateResolver(template, parameters=PARAMETERS))

    # When provisioning into the moto server
    resources = provision(template, dynamodb=dynamodb, sqs=sqs, parameters=PARAMETERS)

    # Then each table exists with the template's keys, indexes, billing and TTL
    assert resources.tables == {
        "EventsTable": "villages-events-it",
        "RunsTable": "villages-sync-runs-it",
        "RemindersTable": "villages-sync-reminders-it",
        "ChangesTable": "villages-sync-changes-it",
    }
    events_table = dynamodb.describe_table(TableName="villages-events-it")["Table"]
    assert events_table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    for logical_id, spec in expected.items():
        table = dynamodb.describe_table(TableName=resources.tables[logical_id])["Table"]
        assert table["KeySchema"] == spec.key_schema
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            spec.attribute_definitions, key=str
        )
        assert table["BillingModeSummary"]["BillingMode"] == spec.billing_mode
        assert [
            {k: i[k] for k in ("IndexName", "KeySchema", "Projection")}
            for i in table.get("GlobalSecondaryIndexes", [])
        ] == spec.global_secondary_indexes
        ttl = dynamodb.describe_time_to_live(TableName=spec.table_name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": spec.ttl_attribute}


def test_provision_creates_queues_with_redrive_to_their_dlqs(
    template: dict[str, Any], dynamodb: Any, sqs: Any
) -> None:
    # Given the template's queues
    expected = read_queues(TemplateResolver(template, parameters=PARAMETERS))

    # When provisioning
    resources = provision(template, dynamodb=dynamodb, sqs=sqs, parameters=PARAMETERS)

    # Then every queue has the template's settings, and redrives to its DLQ's real ARN
    assert set(resources.queue_urls) == set(expected)
    for logical_id, spec in expected.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=resources.queue_urls[logical_id], AttributeNames=["All"]
        )["Attributes"]
        assert attributes["QueueArn"] == resources.queue_arns[logical_id]
        assert resources.queue_urls[logical_id].endswith("/" + spec.queue_name)
        for name in ("VisibilityTimeout", "MessageRetentionPeriod"):
            if name in spec.attributes:  # where the template leaves it, SQS's default applies
                assert attributes[name] == spec.attributes[name]
        if spec.dead_letter_queue_logical_id is None:
            assert "RedrivePolicy" not in attributes
        else:
            assert json.loads(attributes["RedrivePolicy"]) == {
                "deadLetterTargetArn": resources.queue_arns[spec.dead_letter_queue_logical_id],
                "maxReceiveCount": spec.max_receive_count,
            }
    assert (
        int(
            sqs.get_queue_attributes(
                QueueUrl=resources.queue_urls["EventsQueue"], AttributeNames=["VisibilityTimeout"]
            )["Attributes"]["VisibilityTimeout"]
        )
        >= 6 * resources.functions["ConsumerFunction"].timeout_seconds
    )


def test_provision_points_function_environments_at_what_it_created(
    template: dict[str, Any], dynamodb: Any, sqs: Any
) -> None:
    # When provisioning
    resources = provision(template, dynamodb=dynamodb, sqs=sqs, parameters=PARAMETERS)

    # Then every name and URL in a function's environment is a created table or queue
    producer = resources.functions["ProducerFunction"].environment
    consumer = resources.functions["ConsumerFunction"].environment
    sweep = resources.functions["SweepFunction"].environment
    assert producer["EVENTS_QUEUE_URL"] == resources.queue_urls["EventsQueue"]
    assert producer["SWEEP_QUEUE_URL"] == consumer["SWEEP_QUEUE_URL"]
    assert consumer["SWEEP_QUEUE_URL"] == resources.queue_urls["SweepQueue"]
    assert producer["RUNS_TABLE_NAME"] == sweep["RUNS_TABLE_NAME"] == resources.tables["RunsTable"]
    assert consumer["TABLE_NAME"] == sweep["TABLE_NAME"] == resources.tables["EventsTable"]
    sqs.send_message(QueueUrl=producer["EVENTS_QUEUE_URL"], MessageBody="{}")
    dynamodb.describe_table(TableName=consumer["TABLE_NAME"])
    assert {m.queue_logical_id for m in resources.event_source_mappings} <= set(
        resources.queue_urls
    )


def test_provision_twice_is_idempotent(template: dict[str, Any], dynamodb: Any, sqs: Any) -> None:
    # Given a provisioned endpoint with a message waiting and an item stored
    first = provision(template, dynamodb=dynamodb, sqs=sqs, parameters=PARAMETERS)
    sqs.send_message(QueueUrl=first.queue_urls["EventsQueue"], MessageBody="kept")
    dynamodb.put_item(TableName=first.tables["EventsTable"], Item={"event_id": {"S": "1"}})
    before = _snapshot(dynamodb, sqs)

    # When provisioning again
    second = provision(template, dynamodb=dynamodb, sqs=sqs, parameters=PARAMETERS)

    # Then nothing is recreated or lost and the same names come back
    assert _equal_resources(first, second)
    assert _snapshot(dynamodb, sqs) == before
    assert dynamodb.scan(TableName=first.tables["EventsTable"])["Count"] == 1
    received = sqs.receive_message(QueueUrl=first.queue_urls["EventsQueue"])
    assert [m["Body"] for m in received["Messages"]] == ["kept"]


def test_provision_resets_drifted_queue_settings_to_the_template(
    template: dict[str, Any], dynamodb: Any, sqs: Any
) -> None:
    # Given a provisioned events queue whose visibility timeout was changed by hand
    first = provision(template, dynamodb=dynamodb, sqs=sqs, parameters=PARAMETERS)
    url = first.queue_urls["EventsQueue"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30"})

    # When provisioning again
    provision(template, dynamodb=dynamodb, sqs=sqs, parameters=PARAMETERS)

    # Then the template's value is back
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert (
        attributes["Attributes"]["VisibilityTimeout"]
        == (first.queue_specs["EventsQueue"].attributes["VisibilityTimeout"])
    )


def _equal_resources(a: LocalResources, b: LocalResources) -> bool:
    return (a.tables, a.queue_urls, a.queue_arns, a.functions, a.event_source_mappings) == (
        b.tables,
        b.queue_urls,
        b.queue_arns,
        b.functions,
        b.event_source_mappings,
    )


def test_template_translates_offline_and_the_translation_lints_clean(
    translated: dict[str, Any],
) -> None:
    # Given the SAM template translated offline into plain CloudFormation
    assert "Transform" not in translated
    assert {r["Type"] for r in translated["Resources"].values()} >= {
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
        "AWS::IAM::Role",
        "AWS::Scheduler::Schedule",
    }

    # When cfn-lint checks the translation
    matches = lint(json.dumps(translated), config=ManualArgs(regions=["us-east-1"]))

    # Then it finds nothing but the translator's own artefacts
    problems = [m for m in matches if m.rule.id not in TRANSLATION_ARTIFACTS]
    assert problems == [], "\n".join(str(m) for m in problems)


def test_template_translation_event_source_mappings_match_the_local_reader(
    template: dict[str, Any], translated: dict[str, Any]
) -> None:
    """The local poller's settings (read from the SAM events) equal the ESMs SAM generates."""
    generated = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in translated["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    }
    resolver = TemplateResolver(template, parameters=PARAMETERS)

    for mapping in read_event_source_mappings(resolver):
        esm = generated[mapping.function_logical_id]
        assert esm["EventSourceArn"] == {"Fn::GetAtt": [mapping.queue_logical_id, "Arn"]}
        assert esm["BatchSize"] == mapping.batch_size
        assert esm.get("MaximumBatchingWindowInSeconds", 0) == (
            mapping.maximum_batching_window_seconds
        )
        assert ("ReportBatchItemFailures" in esm.get("FunctionResponseTypes", [])) == (
            mapping.report_batch_item_failures
        )
        assert esm.get("ScalingConfig", {}).get("MaximumConcurrency") == (
            mapping.maximum_concurrency
        )
    for stream in read_stream_mappings(resolver):
        esm = generated[stream.function_logical_id]
        assert esm["EventSourceArn"] == {"Fn::GetAtt": [stream.table_logical_id, "StreamArn"]}
        assert (esm["BatchSize"], esm["StartingPosition"]) == (
            stream.batch_size,
            stream.starting_position,
        )
        assert esm["BisectBatchOnFunctionError"] == stream.bisect_batch_on_function_error
        assert esm["MaximumRetryAttempts"] == stream.maximum_retry_attempts
        assert esm["MaximumRecordAgeInSeconds"] == stream.maximum_record_age_seconds
        assert esm["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": [stream.on_failure_queue_logical_id, "Arn"]
        }
        assert esm["FilterCriteria"] == stream.filter_criteria


@pytest.mark.dynamodb_backends(
    "moto", reason="moto's CloudFormation creates the tables in moto, not in DynamoDB Local"
)
def test_cloudformation_and_provision_create_identical_tables_and_queues(
    template: dict[str, Any],
    translated: dict[str, Any],
    cloudformation: Any,
    dynamodb: Any,
    sqs: Any,
    moto_endpoint: str,
) -> None:
    """Moto's CloudFormation creates the translated template without functions and layers
    (their code would have to be in S3), without alarms, the schedule, the invoke config and the
    e-mail subscription (moto's CloudFormation does not implement them), and without what refers
    to those: the SQS event-source mappings, the schedule's role and the dashboard. Tables,
    queues, roles, log groups, the KMS key and the alarm topic are created.

    Moto's CloudFormation ignores TimeToLiveSpecification, so TTL is compared with the
    translated template's property instead of with moto's state."""
    # Given the translated template, stripped of what moto cannot create
    body, removed = strip_for_moto(translated)
    assert removed == EXPECTED_STRIPPED | {
        lid for lid, r in translated["Resources"].items() if r["Type"] in STRIPPED_TYPES
    }

    # When CloudFormation creates it ...
    cloudformation.create_stack(
        StackName=STACK_NAME,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    by_cloudformation = _snapshot(dynamodb, sqs)

    # ... and, in an emptied endpoint, provision creates it from the same file
    _reset(moto_endpoint)
    resources = provision(
        template, dynamodb=dynamodb, sqs=sqs, parameters=PARAMETERS, stack_name=STACK_NAME
    )
    by_provision = _snapshot(dynamodb, sqs)

    # Then tables (keys, attributes, indexes, billing) and queues (names, visibility,
    # retention, redrive) are identical, and the stack's outputs name what provision returns
    assert set(by_cloudformation["tables"]) == {
        "villages-events-it",
        "villages-sync-runs-it",
        "villages-sync-reminders-it",
        "villages-sync-changes-it",
    }
    assert len(by_cloudformation["queues"]) == 7
    assert by_provision == by_cloudformation
    assert outputs["EventsTableName"] == resources.tables["EventsTable"]
    assert outputs["RunsTableName"] == resources.tables["RunsTable"]
    for key, logical_id in {
        "EventsQueueUrl": "EventsQueue",
        "EventsDLQUrl": "EventsDLQ",
        "SweepQueueUrl": "SweepQueue",
        "SweepDLQUrl": "SweepDLQ",
        "ChangesFailureQueueUrl": "ChangesFailureQueue",
    }.items():
        # moto's CloudFormation writes AWS's host where the API answers with its own endpoint.
        assert _account_and_name(outputs[key]) == _account_and_name(
            resources.queue_urls[logical_id]
        )
    for logical_id, table_name in resources.tables.items():
        ttl = translated["Resources"][logical_id]["Properties"]["TimeToLiveSpecification"]
        described = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        assert {"AttributeName": described["AttributeName"], "Enabled": True} == ttl


XRAY_WRITE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def either_branch(statements: list[Any]) -> list[dict[str, Any]]:
    """Statements with each ``Fn::If`` replaced by its branches (``AWS::NoValue`` dropped):
    a statement that exists only under a condition is checked as if it did."""
    flat: list[dict[str, Any]] = []
    for statement in statements:
        if isinstance(statement, dict) and "Fn::If" in statement:
            _, *branches = statement["Fn::If"]
            flat.extend(either_branch([b for b in branches if b != {"Ref": "AWS::NoValue"}]))
        else:
            flat.append(statement)
    return flat


def test_translated_template_roles_are_least_privilege(template: dict[str, Any]) -> None:
    """Over what CloudFormation would really get: no managed policy, no wildcard anywhere."""
    # Given the template as SAM translates it
    cfn = translate_offline(template, {"Environment": "prod"})
    roles = {k: r for k, r in cfn["Resources"].items() if r["Type"] == "AWS::IAM::Role"}

    # When every statement of every role is read
    statements = [
        (role_id, statement)
        for role_id, role in roles.items()
        for policy in role["Properties"].get("Policies", [])
        for statement in either_branch(as_list(policy["PolicyDocument"]["Statement"]))
    ]

    # Then no role carries a managed policy (their resources are "*"), and no statement has a
    # wildcard action or resource: each names the ARNs its function needs
    assert {k: r["Properties"].get("ManagedPolicyArns", []) for k, r in roles.items()} == {
        k: [] for k in roles
    }
    assert statements
    for role_id, statement in statements:
        actions = as_list(statement["Action"])
        assert not [a for a in actions if a == "*" or a.endswith(":*")], (role_id, statement)
        if set(actions) <= XRAY_WRITE_ACTIONS:
            continue  # X-Ray's write actions take no resource ARN (tracing)
        assert "*" not in as_list(statement["Resource"]), (role_id, statement)
    functions = [r for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 6
    assert all(f["Properties"]["Role"]["Fn::GetAtt"][0] in roles for f in functions)
    # The skill reads through the two indexes with Query, and nothing else of the table; its
    # one write grant is on its reminders table
    skill_on_dynamodb = [
        statement
        for role_id, statement in statements
        if role_id == "SkillRole" and "dynamodb" in " ".join(as_list(statement["Action"]))
    ]
    skill_on_table = [s for s in skill_on_dynamodb if "EventsTable" in json.dumps(s["Resource"])]
    assert [as_list(s["Resource"]) for s in skill_on_dynamodb if s not in skill_on_table] == [
        [{"Fn::GetAtt": ["RemindersTable", "Arn"]}]
    ]
    assert [as_list(s["Action"]) for s in skill_on_table] == [["dynamodb:Query"]]
    assert as_list(skill_on_table[0]["Resource"]) == [
        {"Fn::Sub": "${EventsTable.Arn}/index/date-index"},
        {"Fn::Sub": "${EventsTable.Arn}/index/multi-day-index"},
    ]
    (permission,) = [
        r["Properties"] for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"
    ]
    # The producer may only put objects under raw-pages/ of the capture bucket: no read, no
    # list, no delete, no other bucket (and only when RawCapture is Enabled)
    on_s3 = [
        (role_id, statement)
        for role_id, statement in statements
        if any(action.startswith("s3:") for action in as_list(statement["Action"]))
    ]
    assert on_s3 == [
        (
            "ProducerRole",
            {
                "Sid": "PutRawPages",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": {"Fn::Sub": "${RawCaptureBucket.Arn}/raw-pages/*"},
            },
        )
    ]
    assert permission["Principal"] == "alexa-appkit.amazon.com"
    assert permission["EventSourceToken"] == {"Ref": "SkillId"}
    assert cfn["Resources"]["SkillFunctionAlexaSkillPermission"]["Condition"] == "HasSkillId"


# ------------------------------------------------------------------------ the raw-pages bucket

BUCKET = "villages-sync-local-rawcapturebucket"  # stack-logicalid, lower case (S3's rule)


@pytest.fixture
def s3(moto_endpoint: str, sqs: Any) -> Any:
    # The sqs fixture resets moto first (buckets included).
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name=sqs.meta.region_name)


def test_provision_creates_the_raw_capture_bucket_as_the_template_describes(
    template: dict[str, Any], dynamodb: Any, sqs: Any, s3: Any
) -> None:
    # When provisioning with an S3 client, RawCapture at its default (Enabled)
    resources = provision(template, dynamodb=dynamodb, sqs=sqs, s3=s3, parameters=PARAMETERS)

    # Then the bucket exists, encrypted, never public, owner-enforced, its captures expiring
    # after RawCaptureDays (30) under raw-pages/, and the producer is told its name
    assert resources.buckets == {"RawCaptureBucket": BUCKET}
    assert BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["Filter"] == {"Prefix": "raw-pages/"}
    assert lifecycle["Expiration"] == {"Days": 30}
    ownership = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    producer = resources.functions["ProducerFunction"].environment
    assert producer["RAW_CAPTURE_BUCKET"] == BUCKET


def test_raw_capture_bucket_policy_refuses_plain_http_and_is_relaxed_only_locally(
    template: dict[str, Any], dynamodb: Any, sqs: Any, s3: Any
) -> None:
    # Given the bucket provisioned at the plain-HTTP emulator (its TLS-only statement left out,
    # or moto, which enforces bucket policies, would refuse the local producer)
    resources = provision(template, dynamodb=dynamodb, sqs=sqs, s3=s3, parameters=PARAMETERS)
    s3.put_object(Bucket=BUCKET, Key="raw-pages/local.jsonl.gz", Body=b"x")
    template_policy = resources.bucket_specs["RawCaptureBucket"].policy
    assert template_policy is not None

    # When the template's own policy is put on the bucket, as CloudFormation would
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(template_policy))

    # Then a request over plain HTTP is refused: the policy denies aws:SecureTransport false
    # on the bucket and every object in it
    with pytest.raises(s3.exceptions.ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key="raw-pages/plain.jsonl.gz", Body=b"x")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    (statement,) = template_policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]


def test_provision_with_raw_capture_disabled_creates_no_bucket(
    template: dict[str, Any], dynamodb: Any, sqs: Any, s3: Any
) -> None:
    # When provisioning with RawCapture Disabled
    parameters = {**PARAMETERS, "RawCapture": "Disabled"}
    resources = provision(template, dynamodb=dynamodb, sqs=sqs, s3=s3, parameters=parameters)

    # Then there is no bucket and the producer keeps no pages
    assert resources.buckets == {}
    assert s3.list_buckets()["Buckets"] == []
    assert resources.functions["ProducerFunction"].environment["RAW_CAPTURE_BUCKET"] == ""


def test_provision_raw_capture_days_sets_the_lifecycle_and_twice_keeps_the_captures(
    template: dict[str, Any], dynamodb: Any, sqs: Any, s3: Any
) -> None:
    # Given a bucket provisioned with RawCaptureDays 7, holding a capture
    parameters = {**PARAMETERS, "RawCaptureDays": "7"}
    provision(template, dynamodb=dynamodb, sqs=sqs, s3=s3, parameters=parameters)
    s3.put_object(Bucket=BUCKET, Key="raw-pages/kept.jsonl.gz", Body=b"kept")

    # When provisioning again
    provision(template, dynamodb=dynamodb, sqs=sqs, s3=s3, parameters=parameters)

    # Then the capture is still there and captures expire after 7 days
    assert s3.get_object(Bucket=BUCKET, Key="raw-pages/kept.jsonl.gz")["Body"].read() == b"kept"
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert lifecycle["Expiration"] == {"Days": 7}


def _event_rules(events: Any) -> dict[str, Any]:
    """Every bus but the default, with its rules' patterns, states and targets (by queue name)."""
    seen: dict[str, Any] = {}
    for bus in events.list_event_buses()["EventBuses"]:
        if bus["Name"] == "default":
            continue
        rules = events.list_rules(EventBusName=bus["Name"])["Rules"]
        seen[bus["Name"]] = {
            rule["Name"]: (
                json.loads(rule["EventPattern"]),
                rule["State"],
                sorted(
                    (t["Id"], t["Arn"].rsplit(":", 1)[-1])
                    for t in events.list_targets_by_rule(
                        Rule=rule["Name"], EventBusName=bus["Name"]
                    )["Targets"]
                ),
            )
            for rule in rules
        }
    return seen


@pytest.mark.dynamodb_backends("moto", reason="moto's CloudFormation and EventBridge: no tables")
def test_cloudformation_and_provision_create_identical_buses_and_rules(
    template: dict[str, Any],
    translated: dict[str, Any],
    cloudformation: Any,
    dynamodb: Any,
    sqs: Any,
    moto_endpoint: str,
) -> None:
    events = boto3.client("events", endpoint_url=moto_endpoint, region_name=sqs.meta.region_name)
    body, _ = strip_for_moto(translated)

    # When CloudFormation creates the translated template's bus and rule ...
    cloudformation.create_stack(
        StackName=STACK_NAME,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    by_cloudformation = _event_rules(events)

    # ... and, in an emptied endpoint, provision creates them from the same file
    _reset(moto_endpoint)
    provision(template, dynamodb=dynamodb, sqs=sqs, events=events, parameters=PARAMETERS)
    by_provision = _event_rules(events)

    # Then the change feed's bus carries the reminders' rule, to the reminders queue, alike
    assert by_provision == by_cloudformation
    assert by_provision == {
        "villages-events-it-changes": {
            "villages-sync-it-reminders": (
                {
                    "source": ["villages-sync.events"],
                    "detail-type": ["Event Moved", "Event Cancelled", "Event Removed"],
                },
                "ENABLED",
                [("RemindersQueue", "villages-reminders-it")],
            )
        }
    }
