"""The reminders' resources in template.yaml: the change feed's bus (CONTRACT.md), the rule
that takes Moved / Cancelled / Removed to the reminders queue, the queue's DLQ and alarm, the
function's least-privilege role, and the LWA secret kept out of the template."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.template import as_list
from villages_sync.reminders.settings import RemindersSettings
from villages_sync_ops.local.event_rules import read_event_buses, read_event_rules
from villages_sync_ops.local.template import (
    TemplateResolver,
    read_event_source_mappings,
    read_functions,
    read_queues,
    read_tables,
)


@pytest.fixture(scope="module")
def resolver(template: dict[str, Any]) -> TemplateResolver:
    return TemplateResolver(template)


def _statements(resolver: TemplateResolver, function_id: str) -> list[dict[str, Any]]:
    role_id = resolver.properties(function_id)["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in resolver.properties(role_id)["Policies"]
        for statement in resolver.resolve(policy["PolicyDocument"]["Statement"])
    ]


def test_template_changes_bus_is_the_contracts(template):
    assert template["Resources"]["ChangesBus"] == {
        "Type": "AWS::Events::EventBus",
        "Properties": {"Name": {"Fn::Sub": "villages-events-${Environment}-changes"}},
    }


def test_template_reminders_rule_sends_moved_cancelled_removed_to_the_queue(resolver):
    rules = read_event_rules(resolver)

    rule = rules["RemindersRule"]
    assert rule.bus_name == read_event_buses(resolver)["ChangesBus"]
    assert rule.pattern == {
        "source": ["villages-sync.events"],
        "detail-type": ["Event Moved", "Event Cancelled", "Event Removed"],
    }
    assert rule.enabled and rule.queue_targets == {"RemindersQueue": "RemindersQueue"}


def test_template_reminders_queue_accepts_only_the_rule_over_tls(resolver):
    policy = resolver.resolve(resolver.properties("RemindersQueuePolicy"))
    statements = policy["PolicyDocument"]["Statement"]

    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "TheRuleSendsChanges",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": resolver.get_att("RemindersQueue", "Arn"),
            "Condition": {"ArnEquals": {"aws:SourceArn": resolver.get_att("RemindersRule", "Arn")}},
        }
    ]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_template_reminders_queue_redrives_to_its_dlq_watched_by_an_alarm(resolver):
    queue = read_queues(resolver)["RemindersQueue"]
    alarm = resolver.resolve(resolver.properties("RemindersDLQMessagesAlarm"))

    assert queue.dead_letter_queue_logical_id == "RemindersDLQ"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": read_queues(resolver)["RemindersDLQ"].queue_name}
    ]
    assert alarm["Threshold"] == 0 and alarm["AlarmActions"]


def test_template_reminders_mapping_reports_batch_item_failures(resolver):
    (mapping,) = [
        m
        for m in read_event_source_mappings(resolver)
        if m.function_logical_id == "RemindersFunction"
    ]

    assert mapping.queue_logical_id == "RemindersQueue"
    assert mapping.report_batch_item_failures


def test_template_reminders_table_is_keyed_by_event_and_reminder_with_a_ttl(resolver):
    table = read_tables(resolver)["RemindersTable"]

    assert table.key_schema == [
        {"AttributeName": "event_id", "KeyType": "HASH"},
        {"AttributeName": "reminder_key", "KeyType": "RANGE"},
    ]
    assert table.ttl_attribute == "ttl"


def test_template_reminders_role_is_least_privilege(resolver):
    statements = _statements(resolver, "RemindersFunction")

    actions = {a: as_list(s["Resource"]) for s in statements for a in as_list(s["Action"])}
    table = resolver.get_att("RemindersTable", "Arn")
    parameter = (
        resolver.resolve(
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"}
        )
        + resolver.parameters["AlexaClientParameter"]
    )
    assert actions == {
        "xray:PutTraceSegments": ["*"],
        "xray:PutTelemetryRecords": ["*"],
        "logs:CreateLogStream": [resolver.get_att("RemindersLogGroup", "Arn")],
        "logs:PutLogEvents": [resolver.get_att("RemindersLogGroup", "Arn")],
        "sqs:ReceiveMessage": [resolver.get_att("RemindersQueue", "Arn")],
        "sqs:DeleteMessage": [resolver.get_att("RemindersQueue", "Arn")],
        "sqs:ChangeMessageVisibility": [resolver.get_att("RemindersQueue", "Arn")],
        "sqs:GetQueueAttributes": [resolver.get_att("RemindersQueue", "Arn")],
        "dynamodb:Query": [table],
        "dynamodb:UpdateItem": [table],
        "ssm:GetParameter": [parameter],
    }
    assert "Policies" not in resolver.properties("RemindersFunction")


def test_template_reminders_secret_is_named_never_given(resolver, template):
    env = read_functions(resolver)["RemindersFunction"].environment

    settings = RemindersSettings.from_env(env)
    assert settings.client_parameter == "/villages-sync/alexa-client"
    assert settings.alexa_api_endpoint == "https://api.amazonalexa.com"
    text = json.dumps(template)
    assert 'client_secret": "' not in text and "ClientSecret" not in text
    assert not any("SECRET" in name for name in env)
