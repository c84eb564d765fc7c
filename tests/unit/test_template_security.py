"""The template's resource policies, read from template.yaml (issue 24, items 2 and 7).

Who may send to the events queue, which queue may dead-letter into each DLQ, that nothing is
accepted over plain HTTP, that the alarm key and topic serve only this account's alarms, and
that the consumer's EventsSuperseded metric raises an alarm.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.template import as_list
from villages_sync_ops.local.template import TemplateResolver, read_functions, read_queues

OPERATOR_ROLE = "arn:aws:iam::123456789012:role/villages-operators"


def role_arns_as_names(node: Any) -> Any:
    """``!GetAtt SomeRole.Arn`` as ``role:SomeRole``: the local resolver names queues, tables
    and functions, not roles, and these tests only ask which role a statement names."""
    if isinstance(node, list):
        return [role_arns_as_names(item) for item in node]
    if isinstance(node, dict):
        target = node.get("Fn::GetAtt")
        if isinstance(target, list) and target[0].endswith("Role") and target[1] == "Arn":
            return f"role:{target[0]}"
        return {key: role_arns_as_names(value) for key, value in node.items()}
    return node


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def policies_of(resolver: TemplateResolver, policy_type: str, target_key: str) -> list[tuple]:
    """(targets, statements) of every queue or topic policy, resolved."""
    found = []
    for logical_id in resolver.of_type(policy_type):
        props = resolver.resolve(role_arns_as_names(resolver.properties(logical_id)))
        found.append((props[target_key], props["PolicyDocument"]["Statement"]))
    return found


def events_queue_statements(resolver: TemplateResolver) -> list[list[dict]]:
    events_queue = resolver.ref("EventsQueue")
    policies = policies_of(resolver, "AWS::SQS::QueuePolicy", "Queues")
    return [statements for queues, statements in policies if events_queue in queues]


def denied(statements: list[dict], *, action: str, principal: str, secure: bool) -> bool:
    """Whether an explicit Deny of these statements matches the request (the conditions these
    policies use: Bool aws:SecureTransport and ArnNotEquals aws:PrincipalArn)."""
    for statement in statements:
        if statement["Effect"] != "Deny":
            continue
        service = action.split(":")[0]
        if action not in as_list(statement["Action"]) and f"{service}:*" not in as_list(
            statement["Action"]
        ):
            continue
        matches = True
        for operator, condition in statement.get("Condition", {}).items():
            for key, values in condition.items():
                if (operator, key) == ("Bool", "aws:SecureTransport"):
                    matches &= str(secure).lower() in as_list(values)
                elif (operator, key) == ("ArnNotEquals", "aws:PrincipalArn"):
                    matches &= principal not in as_list(values)
                else:
                    raise AssertionError(f"condition not modelled here: {operator} {key}")
        if matches:
            return True
    return False


@pytest.fixture(scope="module", params=["", OPERATOR_ROLE], ids=["no operators", "operators"])
def resolver(request: pytest.FixtureRequest, template: dict[str, Any]) -> TemplateResolver:
    return TemplateResolver(template, parameters={"OperatorRoleArn": request.param})


def test_template_events_queue_accepts_messages_from_the_producer_and_operators_only(
    resolver: TemplateResolver,
) -> None:
    # Given the events queue's policy
    (statements,) = events_queue_statements(resolver)
    operators = resolver.parameters["OperatorRoleArn"]

    def may_send(principal: str) -> bool:
        return not denied(statements, action="sqs:SendMessage", principal=principal, secure=True)

    # When / Then: the producer sends; the operators' role too when given; nobody else
    assert may_send("role:ProducerRole")
    assert may_send(OPERATOR_ROLE) is bool(operators)
    others = ["role:ConsumerRole", "role:SweepRole", "role:SkillRole"]
    others += ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/admin"]
    for other in others:
        assert not may_send(other), other


def test_template_roles_allowed_to_send_to_the_events_queue_are_exempted_by_its_policy(
    resolver: TemplateResolver,
) -> None:
    # Given every function role granted sqs:SendMessage on the events queue
    events_arn = resolver.get_att("EventsQueue", "Arn")
    senders = set()
    for function_id in read_functions(resolver):
        role_id = resolver.properties(function_id)["Role"]["Fn::GetAtt"][0]
        for policy in resolver.properties(role_id)["Policies"]:
            for statement in resolver.resolve(policy["PolicyDocument"]["Statement"]):
                if "sqs:SendMessage" in as_list(statement["Action"]) and events_arn in as_list(
                    statement["Resource"]
                ):
                    senders.add(f"role:{role_id}")
    (statements,) = events_queue_statements(resolver)

    # Then the queue policy denies none of them (else the pipeline would break on deploy)
    assert senders == {"role:ProducerRole"}
    for role in senders:
        assert not denied(statements, action="sqs:SendMessage", principal=role, secure=True)


def test_template_every_queue_and_topic_refuses_plain_http(
    resolver: TemplateResolver, template: dict[str, Any]
) -> None:
    # Given every queue and topic, and the policies attached to them
    queue_policies = policies_of(resolver, "AWS::SQS::QueuePolicy", "Queues")
    topic_policies = policies_of(resolver, "AWS::SNS::TopicPolicy", "Topics")
    queues = {resolver.ref(q): q for q in resources_of_type(template, "AWS::SQS::Queue")}
    topics = {resolver.ref(t): t for t in resources_of_type(template, "AWS::SNS::Topic")}

    for targets, policies, action in (
        (queues, queue_policies, "sqs:SendMessage"),
        (topics, topic_policies, "sns:Publish"),
    ):
        for target, logical_id in targets.items():
            # When a request reaches it without TLS, and with TLS
            attached = [s for on, statements in policies if target in on for s in statements]
            # Then one policy is attached, and it denies the first, not the second
            assert len([on for on, _ in policies if target in on]) == 1, logical_id
            assert denied(attached, action=action, principal="role:ProducerRole", secure=False)
            assert not denied(attached, action=action, principal="role:ProducerRole", secure=True)


def test_template_dead_letter_queues_accept_only_their_source_queue(
    resolver: TemplateResolver,
) -> None:
    # Given each queue that redrives, and its DLQ
    queues = read_queues(resolver)
    sources = {
        q.dead_letter_queue_logical_id: q for q in queues.values() if q.dead_letter_queue_logical_id
    }

    assert set(sources) == {"EventsDLQ", "SweepDLQ", "RemindersDLQ"}
    for dlq_id, source in sources.items():
        # When reading the DLQ's RedriveAllowPolicy as SQS is given it
        allow = json.loads(queues[dlq_id].attributes["RedriveAllowPolicy"])
        # Then only that source queue may dead-letter into it
        assert allow == {
            "redrivePermission": "byQueue",
            "sourceQueueArns": [resolver.get_att(source.logical_id, "Arn")],
        }


SOURCE_CONDITIONS = {
    "StringEquals": {"aws:SourceAccount": "123456789012"},
    "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"},
}


def test_template_service_principals_act_only_for_this_accounts_alarms(
    resolver: TemplateResolver,
) -> None:
    # Given the alarm key's policy and the alarm topic's, resolved in a known account
    resolver = TemplateResolver(resolver.template, region="us-east-1", account_id="123456789012")
    key_statements = resolver.resolve(resolver.properties("AlarmTopicKey"))["KeyPolicy"][
        "Statement"
    ]
    topic_policies = policies_of(resolver, "AWS::SNS::TopicPolicy", "Topics")
    topic_statements = [s for _, statements in topic_policies for s in statements]

    # When picking the statements that allow an AWS service
    by_services = [
        s
        for s in key_statements + topic_statements
        if s["Effect"] == "Allow" and "Service" in s.get("Principal", {})
    ]

    # Then each is CloudWatch's, for this account's alarms only (no confused deputy)
    assert len(by_services) == 2
    for statement in by_services:
        assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert statement["Condition"] == SOURCE_CONDITIONS


def test_template_events_superseded_alarm_fires_on_the_first_one(
    resolver: TemplateResolver,
) -> None:
    # Given the metric names the consumer emits, and where Powertools publishes them
    from consumers.upsert_handler import _OUTCOME_METRICS

    consumer = read_functions(resolver)["ConsumerFunction"].environment
    alarm = resolver.resolve(resolver.properties("EventsSupersededAlarm"))

    # Then the alarm watches that metric, as emitted, and fires above 0
    assert alarm["MetricName"] in _OUTCOME_METRICS.values()
    assert alarm["MetricName"] == "EventsSuperseded"
    assert alarm["Namespace"] == consumer["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [
        {"Name": "service", "Value": consumer["POWERTOOLS_SERVICE_NAME"]}
    ]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Sum",
        0,
        "GreaterThanThreshold",
    )
    assert alarm["TreatMissingData"] == "notBreaching"


def test_template_every_table_has_point_in_time_recovery(template: dict[str, Any]) -> None:
    tables = resources_of_type(template, "AWS::DynamoDB::Table")

    assert {"EventsTable", "RunsTable"} <= set(tables)
    for logical_id, table in tables.items():
        pitr = table["Properties"].get("PointInTimeRecoverySpecification", {})
        assert pitr.get("PointInTimeRecoveryEnabled") is True, logical_id


def test_template_every_scanner_skip_gives_its_reason(template: dict[str, Any]) -> None:
    # Given the checkov findings skipped in the resources' Metadata
    skips = [
        (logical_id, skip)
        for logical_id, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]

    # Then each names a check and says why, in a sentence (make lint runs the scanner)
    assert skips
    for logical_id, skip in skips:
        assert str(skip["id"]).startswith("CKV_"), logical_id
        assert len(skip.get("comment", "").split()) >= 8, (logical_id, skip["id"])


def test_template_every_bucket_is_encrypted_private_tls_only_and_expiring(
    template: dict[str, Any],
) -> None:
    # Given every bucket of the template, and the bucket policies naming each
    resolver = TemplateResolver(template)
    buckets = resolver.of_type("AWS::S3::Bucket")
    policies = {
        props["Bucket"]: props["PolicyDocument"]["Statement"]
        for props in (
            resolver.resolve(resolver.properties(logical_id))
            for logical_id in resolver.of_type("AWS::S3::BucketPolicy")
        )
    }

    # Then each is encrypted at rest, blocks every kind of public access, refuses any request
    # not over TLS (bucket and objects), and expires its objects after RawCaptureDays
    assert buckets == ["RawCaptureBucket"]
    for logical_id in buckets:
        props = resolver.resolve(resolver.properties(logical_id))
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        assert len(props["PublicAccessBlockConfiguration"]) == 4
        name = resolver.ref(logical_id)
        statements = policies[name]
        for resource in (f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"):
            tls_only = [
                s
                for s in statements
                if resource in as_list(s["Resource"])
                and denied([s], action="s3:GetObject", principal="anyone", secure=False)
            ]
            assert tls_only, (logical_id, resource)
        assert not denied(statements, action="s3:PutObject", principal="anyone", secure=True)
        (expiry,) = props["LifecycleConfiguration"]["Rules"]
        assert expiry["Status"] == "Enabled"
        assert expiry["ExpirationInDays"] == resolver.parameters["RawCaptureDays"] == "30"


def test_template_raw_capture_disabled_leaves_no_bucket_and_no_s3_right(
    template: dict[str, Any],
) -> None:
    # Given the template with RawCapture Disabled
    resolver = TemplateResolver(template, parameters={"RawCapture": "Disabled"})

    # Then there is no bucket, no bucket policy, the producer is told of none, and its role
    # holds no S3 statement (the conditional statement resolves to nothing)
    assert resolver.of_type("AWS::S3::Bucket") == []
    assert resolver.of_type("AWS::S3::BucketPolicy") == []
    producer = read_functions(resolver)["ProducerFunction"]
    assert producer.environment["RAW_CAPTURE_BUCKET"] == ""
    role = resolver.properties("ProducerRole")
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    resolved = [s for s in (resolver.resolve(s) for s in statements) if isinstance(s, dict)]
    assert not [s for s in resolved if "s3:" in json.dumps(s.get("Action"))]
