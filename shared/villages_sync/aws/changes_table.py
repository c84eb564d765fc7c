"""The changes table: what the change feed recorded and published, kept 30 days (TTL).

Each change is recorded *before* it is published, as pending, and marked published after
PutEvents accepted it. A redelivered stream record therefore finds its change already published
and publishes nothing; a crash between the record and the publish leaves it pending, and the
redelivery publishes it then. That order never loses a change; its one cost is a duplicate on
the bus when the function dies between PutEvents and the mark, and that duplicate carries the
same ``change_id`` as the first (consumers drop it). The other order (publish, then record)
would publish again on every redelivery of a batch whose record write failed; recording with
``attribute_not_exists`` and publishing only if new would lose the change a crash interrupted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from villages_sync.aws.items import conditional_check_failed
from villages_sync.changes import Change, ChangeDetail, ChangeKind

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_dynamodb import DynamoDBClient

CHANGES_BY_TIME_INDEX = "changes-by-time"
RECORD_TYPE = "change"  # the index's one partition: every change, in time order
KEEP_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class RecordedChange:
    """One row of the changes table, as the command line lists it."""

    kind: ChangeKind
    detail: ChangeDetail
    changed_at: int  # epoch seconds: when the table changed (the stream record's time)
    published: bool

    @property
    def change_id(self) -> str:
        return self.detail["change_id"]


def changed_key(changed_at: int, change_id: str) -> str:
    """The index's sort key: UTC time (sorts as it reads), then the id (unique)."""
    moment = datetime.fromtimestamp(changed_at, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}#{change_id}"


class ChangesTable:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self.table_name = table_name

    def record(self, change: Change, changed_at: int) -> bool:
        """Record ``change`` as pending unless it is already published. True: publish it (it
        is new, or an earlier delivery recorded it and did not get as far as publishing)."""
        try:
            self._dynamodb.put_item(
                TableName=self.table_name,
                Item={
                    "change_id": {"S": change.change_id},
                    "record_type": {"S": RECORD_TYPE},
                    "changed_key": {"S": changed_key(changed_at, change.change_id)},
                    "changed_at": {"N": str(changed_at)},
                    "kind": {"S": str(change.kind)},
                    "event_id": {"S": change.detail["event_id"]},
                    "run_id": {"S": change.detail["run_id"] or ""},
                    "detail": {"S": json.dumps(change.detail, sort_keys=True)},
                    "published": {"BOOL": False},
                    "expires_at": {"N": str(changed_at + KEEP_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(change_id) OR published = :no",
                ExpressionAttributeValues={":no": {"BOOL": False}},
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return False  # published before: a redelivery
            raise
        return True

    def mark_published(self, change_id: str) -> None:
        self._dynamodb.update_item(
            TableName=self.table_name,
            Key={"change_id": {"S": change_id}},
            UpdateExpression="SET published = :yes",
            ConditionExpression="attribute_exists(change_id)",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )

    def since(self, changed_at: int, *, run_id: str | None = None) -> Iterator[RecordedChange]:
        """Changes at or after ``changed_at`` (epoch seconds), oldest first; only those
        ``run_id`` caused when given."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": CHANGES_BY_TIME_INDEX,
            "KeyConditionExpression": "record_type = :type AND changed_key >= :from",
            "ExpressionAttributeValues": {
                ":type": {"S": RECORD_TYPE},
                ":from": {"S": changed_key(changed_at, "")},
            },
        }
        if run_id is not None:
            request["FilterExpression"] = "run_id = :run"
            request["ExpressionAttributeValues"][":run"] = {"S": run_id}
        while True:
            page = self._dynamodb.query(**request)
            for item in page.get("Items", []):
                yield _recorded(item)
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _recorded(item: dict[str, Any]) -> RecordedChange:
    return RecordedChange(
        kind=ChangeKind(item["kind"]["S"]),
        detail=json.loads(item["detail"]["S"]),
        changed_at=int(item["changed_at"]["N"]),
        published=bool(item.get("published", {}).get("BOOL", False)),
    )
