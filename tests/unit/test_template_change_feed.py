"""The change feed's resources in template.yaml: the stream, the mapping, its role, its alarm."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.template import as_list
from villages_sync_ops.local.event_filter import matches_any, parse_filter_criteria
from villages_sync_ops.local.template import TemplateResolver, read_stream_mappings, read_tables

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
LIVE = {"event_id": {"S": "1"}, "title": {"S": "Bingo"}, "run_id": {"S": "r2"}}
TOMBSTONE = {"event_id": {"S": "1"}, "run_id": {"S": "r2"}, "deleted_by": {"S": "r2"}}
STRUCK = {**LIVE, "misses": {"N": "1"}, "missed_by": {"S": "r2"}}


@pytest.fixture(scope="module")
def resolver(template: dict[str, Any]) -> TemplateResolver:
    return TemplateResolver(template)


def _statements(resolver: TemplateResolver) -> list[dict[str, Any]]:
    role = resolver.properties("ChangesRole")
    return [
        statement
        for policy in role["Policies"]
        for statement in resolver.resolve(policy["PolicyDocument"]["Statement"])
    ]


def test_template_events_table_streams_both_images(resolver: TemplateResolver) -> None:
    spec = read_tables(resolver)["EventsTable"]

    assert spec.stream_specification == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_template_changes_bus_is_the_contract_one(template: dict[str, Any]) -> None:
    # The reminders branch adds this exact resource too (issue 23's contract).
    assert template["Resources"]["ChangesBus"] == {
        "Type": "AWS::Events::EventBus",
        "Properties": {"Name": {"Fn::Sub": "villages-events-${Environment}-changes"}},
    }


def test_template_changes_table_keeps_changes_30_days_by_ttl(template: dict[str, Any]) -> None:
    properties = template["Resources"]["ChangesTable"]["Properties"]

    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    assert [k["AttributeName"] for k in properties["KeySchema"]] == ["change_id"]


def test_template_change_mapping_bounds_retries_and_sends_failures_to_its_queue(
    resolver: TemplateResolver,
) -> None:
    [mapping] = read_stream_mappings(resolver)

    assert (mapping.function_logical_id, mapping.table_logical_id) == (
        "ChangesFunction",
        "EventsTable",
    )
    assert mapping.report_batch_item_failures
    assert mapping.bisect_batch_on_function_error
    assert 0 <= mapping.maximum_retry_attempts <= 10
    assert 60 <= mapping.maximum_record_age_seconds <= 24 * 3600
    assert mapping.on_failure_queue_logical_id == "ChangesFailureQueue"
    assert mapping.maximum_batching_window_seconds > 0


def _record(name: str, old: dict | None, new: dict | None, identity: dict | None = None) -> dict:
    stream: dict[str, Any] = {"Keys": {"event_id": {"S": "1"}}, "SequenceNumber": "1"}
    if old is not None:
        stream["OldImage"] = old
    if new is not None:
        stream["NewImage"] = new
    record: dict[str, Any] = {"eventName": name, "dynamodb": stream}
    if identity:
        record["userIdentity"] = identity
    return record


@pytest.mark.parametrize(
    ("record", "handed_on"),
    [
        pytest.param(_record("INSERT", None, LIVE), True, id="insert"),
        pytest.param(_record("MODIFY", LIVE, LIVE), True, id="rewrite-compared-by-the-function"),
        pytest.param(_record("MODIFY", LIVE, TOMBSTONE), True, id="swept"),
        pytest.param(_record("MODIFY", TOMBSTONE, LIVE), True, id="back-to-life"),
        pytest.param(_record("REMOVE", LIVE, None), True, id="deleted-by-hand"),
        pytest.param(_record("REMOVE", LIVE, None, TTL_IDENTITY), False, id="ttl-expiry"),
        pytest.param(_record("REMOVE", TOMBSTONE, None, TTL_IDENTITY), False, id="ttl-tombstone"),
        pytest.param(_record("REMOVE", TOMBSTONE, None), False, id="tombstone-removed"),
        pytest.param(_record("MODIFY", LIVE, STRUCK), False, id="strike"),
        pytest.param(_record("MODIFY", TOMBSTONE, TOMBSTONE), False, id="tombstone-rewritten"),
        pytest.param(_record("INSERT", None, TOMBSTONE), False, id="tombstone-inserted"),
    ],
)
def test_template_change_filter_drops_what_can_never_be_a_change(
    resolver: TemplateResolver, record: dict, handed_on: bool
) -> None:
    # Given the mapping's FilterCriteria, as Lambda applies them
    [mapping] = read_stream_mappings(resolver)
    patterns = parse_filter_criteria(mapping.filter_criteria)

    # When a record arrives / Then it reaches the function only if it may be a change
    assert matches_any(record, patterns) is handed_on


def test_template_changes_role_reads_the_stream_publishes_to_its_bus_only(
    resolver: TemplateResolver,
) -> None:
    statements = {s["Sid"]: s for s in _statements(resolver)}
    events_table = resolver.get_att("EventsTable", "Arn")

    assert set(as_list(statements["PublishChanges"]["Action"])) == {"events:PutEvents"}
    assert statements["PublishChanges"]["Resource"] == resolver.get_att("ChangesBus", "Arn")
    assert statements["ReadEventsStream"]["Resource"] == f"{events_table}/stream/*"
    assert set(as_list(statements["RecordChanges"]["Action"])) == {
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
    }
    assert statements["RecordChanges"]["Resource"] == resolver.get_att("ChangesTable", "Arn")
    assert statements["SendFailedBatches"]["Resource"] == resolver.get_att(
        "ChangesFailureQueue", "Arn"
    )
    # ... and nothing on the events table's items: the stream is its only way in
    on_items = [s for s in statements.values() if s.get("Resource") == events_table]
    assert on_items == []


def test_template_changes_failure_queue_alarm_fires_on_the_first_message(
    template: dict[str, Any],
) -> None:
    alarm = template["Resources"]["ChangesFailuresAlarm"]["Properties"]

    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ChangesFailureQueue", "QueueName"]}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_template_change_filter_patterns_are_json_objects(template: dict[str, Any]) -> None:
    events = template["Resources"]["ChangesFunction"]["Properties"]["Events"]
    filters = events["EventsTableStream"]["Properties"]["FilterCriteria"]["Filters"]

    assert all(isinstance(json.loads(f["Pattern"]), dict) for f in filters)
