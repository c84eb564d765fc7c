"""DynamoDB's own rules that the sync relies on or must never trip over, on each backend.

Where moto is more lenient than DynamoDB (found by running every DynamoDB-facing test on
DynamoDB Local too), the test states DynamoDB's behaviour and is skipped on moto as a known gap
(docs/architecture.md, Testing): code that breaks one of these rules passes on moto alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from villages_sync.aws.event_reads import DATE_INDEX

DAY = "2026-11-24"


@pytest.fixture
def events_table(deployment) -> str:
    return deployment.resources.tables["EventsTable"]


def stored(event_id: str, **attributes: Any) -> dict[str, Any]:
    return {
        "event_id": {"S": event_id},
        "event_date": {"S": DAY},
        "start_time": {"S": "10:00"},
        **attributes,
    }


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_condition_comparing_a_missing_run_marker_is_false(dynamodb, events_table):
    # Given an item without a run marker (restored from a backup, or made by hand)
    dynamodb.put_item(TableName=events_table, Item=stored("1"))

    # When a write and a delete are conditioned on comparing that marker
    def conditional_put() -> None:
        dynamodb.put_item(
            TableName=events_table,
            Item=stored("1", run_id={"S": "r2"}),
            ConditionExpression="attribute_not_exists(event_id) OR run_id <= :run",
            ExpressionAttributeValues={":run": {"S": "r2"}},
        )

    def conditional_delete() -> None:
        dynamodb.delete_item(
            TableName=events_table,
            Key={"event_id": {"S": "1"}},
            ConditionExpression="run_id < :run",
            ExpressionAttributeValues={":run": {"S": "r2"}},
        )

    # Then both conditions are false (a missing attribute compares false, on both backends):
    # code that means "no marker = older than every run" must say attribute_not_exists(run_id)
    assert error_code(conditional_put) == "ConditionalCheckFailedException"
    assert error_code(conditional_delete) == "ConditionalCheckFailedException"


@pytest.mark.dynamodb_gap(
    "moto", reason="moto ignores ExpressionAttributeValues that no expression uses"
)
def test_unused_expression_attribute_value_is_rejected(dynamodb, events_table):
    # Given a write whose values name one the condition does not use
    def put_with_unused_value() -> None:
        dynamodb.put_item(
            TableName=events_table,
            Item=stored("1"),
            ConditionExpression="attribute_not_exists(event_id)",
            ExpressionAttributeValues={":unused": {"S": "x"}},
        )

    # When it is sent / Then DynamoDB refuses the whole request
    assert error_code(put_with_unused_value) == "ValidationException"


@pytest.mark.dynamodb_gap(
    "moto",
    reason="moto stores an index key of the wrong type; a Query of that index then fails "
    "with HTTP 500 for every item of the partition",
)
def test_index_key_of_the_wrong_type_is_rejected_and_the_day_stays_readable(dynamodb, events_table):
    # Given a good item on the day, and a write whose date-index sort key is a number
    dynamodb.put_item(TableName=events_table, Item=stored("1"))

    def put_numeric_start_time() -> None:
        dynamodb.put_item(TableName=events_table, Item=stored("2", start_time={"N": "1000"}))

    # When it is sent / Then it is refused, and the day's query still answers
    assert error_code(put_numeric_start_time) == "ValidationException"
    day = dynamodb.query(
        TableName=events_table,
        IndexName=DATE_INDEX,
        KeyConditionExpression="event_date = :day",
        ExpressionAttributeValues={":day": {"S": DAY}},
    )
    assert [item["event_id"]["S"] for item in day["Items"]] == ["1"]


@pytest.mark.dynamodb_gap("moto", reason="moto accepts more than 25 requests in a BatchWriteItem")
def test_batch_write_of_more_than_25_items_is_rejected(dynamodb, events_table):
    # Given 26 puts in one batch
    requests = [{"PutRequest": {"Item": stored(str(n))}} for n in range(26)]

    # When sent / Then refused: batch writers must chunk by 25
    assert (
        error_code(lambda: dynamodb.batch_write_item(RequestItems={events_table: requests}))
        == "ValidationException"
    )


@pytest.mark.dynamodb_gap("moto", reason="moto stores numbers beyond DynamoDB's 38 digits")
def test_number_beyond_38_digits_is_rejected(dynamodb, events_table):
    def put_long_number() -> None:
        dynamodb.put_item(TableName=events_table, Item=stored("1", ttl={"N": "1" * 39}))

    assert error_code(put_long_number) == "ValidationException"


@pytest.mark.dynamodb_gap(
    "moto", reason="moto answers HTTP 500 to a condition comparing a string with a number"
)
def test_condition_comparing_a_string_with_a_number_is_false(dynamodb, events_table):
    # Given an item whose event_date is a string
    dynamodb.put_item(TableName=events_table, Item=stored("1"))

    # When a write is conditioned on comparing it with a number
    def put_if_compared_with_number() -> None:
        dynamodb.put_item(
            TableName=events_table,
            Item=stored("1"),
            ConditionExpression="event_date < :n",
            ExpressionAttributeValues={":n": {"N": "1"}},
        )

    # Then the condition is false, not an error
    assert error_code(put_if_compared_with_number) == "ConditionalCheckFailedException"
