"""The reminders table: who has a reminder for which event (``ReminderRecord`` items).

Written by the skill only (a reminder set; a change applied; a revoked permission seen), read
by the RemindersFunction with one Query per change (the event's partition) and written by it
only to record a revoked permission.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from botocore.exceptions import ClientError

from villages_sync.aws.items import conditional_check_failed, from_attributes, to_attributes
from villages_sync.reminders.records import ReminderRecord, ReminderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class RemindersTable:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str, tz: ZoneInfo) -> None:
        self._dynamodb, self.table_name, self._tz = dynamodb, table_name, tz

    def for_event(self, event_id: str) -> list[ReminderRecord]:
        """Every reminder of one event: one Query (more pages only past 1 MB of reminders)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "event_id = :event_id",
            "ExpressionAttributeValues": {":event_id": {"S": event_id}},
        }
        records: list[ReminderRecord] = []
        while True:
            page = self._dynamodb.query(**request)
            records += [
                ReminderRecord.from_item(from_attributes(i), self._tz) for i in page["Items"]
            ]
            if "LastEvaluatedKey" not in page:
                return records
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, event_id: str, alert_token: str) -> ReminderRecord | None:
        item = self._dynamodb.get_item(
            TableName=self.table_name,
            Key={"event_id": {"S": event_id}, "reminder_key": {"S": alert_token}},
            ConsistentRead=True,
        ).get("Item")
        return ReminderRecord.from_item(from_attributes(item), self._tz) if item else None

    def put(self, record: ReminderRecord) -> None:
        self._dynamodb.put_item(TableName=self.table_name, Item=to_attributes(record.as_item()))

    def record_applied(self, before: ReminderRecord, after: ReminderRecord, change_id: str) -> bool:
        """Store ``after`` (a change applied) unless that change was recorded already;
        False when it was (a redelivered message)."""
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key=self._key(before),
                UpdateExpression=(
                    "SET applied = :applied, rings_at = :rings_at, event_start = :event_start, "
                    "#ttl = :ttl"
                ),
                ConditionExpression="attribute_exists(event_id) AND NOT contains(applied, :change)",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=to_attributes(
                    {
                        ":applied": list(after.applied),
                        ":rings_at": after.rings_at.isoformat(),
                        ":event_start": after.event_start.isoformat(),
                        ":ttl": after.ttl,
                        ":change": change_id,
                    }
                ),
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return False
            raise
        return True

    def mark_revoked(self, record: ReminderRecord) -> None:
        """The listener revoked the permission: the reminder is never followed again."""
        self._dynamodb.update_item(
            TableName=self.table_name,
            Key=self._key(record),
            UpdateExpression="SET #status = :revoked",
            ConditionExpression="attribute_exists(event_id)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":revoked": {"S": str(ReminderStatus.REVOKED)}},
        )

    def _key(self, record: ReminderRecord) -> dict[str, Any]:
        return {"event_id": {"S": record.event_id}, "reminder_key": {"S": record.alert_token}}
