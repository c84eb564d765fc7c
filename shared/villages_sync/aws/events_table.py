"""The events table: idempotent upserts guarded by the run marker, the date index, the sweep."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from villages_sync.aws.items import conditional_check_failed, from_attributes, to_attributes
from villages_sync.models import EventItem, UpsertOutcome

DATE_INDEX = "date-index"


class EventsTable:
    """All access to the events table. Takes a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self.table_name = table_name

    def upsert(self, item: EventItem, run_id: str) -> UpsertOutcome:
        """Write ``item`` with ``run_id`` as its marker, unless a newer run already wrote it.

        One conditional PutItem: a replay or duplicate of the same run rewrites the same values
        (``<=``), an older run never overwrites a newer one.
        """
        try:
            response = self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_attributes({**item, "run_id": run_id}),
                ConditionExpression="attribute_not_exists(event_id) OR run_id <= :run",
                ExpressionAttributeValues={":run": {"S": run_id}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return UpsertOutcome.SUPERSEDED
            raise
        old = response.get("Attributes")
        if not old:
            return UpsertOutcome.ADDED
        if old.get("content_hash", {}).get("S") == item["content_hash"]:
            return UpsertOutcome.UNCHANGED
        return UpsertOutcome.UPDATED

    def upsert_many(
        self, items: Sequence[EventItem], run_id: str, *, max_workers: int = 8
    ) -> list[UpsertOutcome]:
        """Upsert in parallel (boto3 clients are thread-safe); outcomes in the order of ``items``.

        Raises the first error after every write has been tried, so a retry of the message
        repeats only idempotent writes.
        """
        if len(items) <= 1 or max_workers <= 1:
            return [self.upsert(item, run_id) for item in items]
        with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
            futures = [pool.submit(self.upsert, item, run_id) for item in items]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]
        return [f.result() for f in futures]

    def events_on(self, day: date) -> list[dict[str, Any]]:
        """Every item dated ``day``, in start-time order, through the date index."""
        return [
            from_attributes(raw)
            for raw in self._query_date(day, projection=None, filter_run_before=None)
        ]

    def stale_on(self, day: date, run_id: str) -> Iterator[str]:
        """Ids of the items dated ``day`` whose run marker is older than ``run_id``."""
        for raw in self._query_date(day, projection="event_id", filter_run_before=run_id):
            yield raw["event_id"]["S"]

    def delete_if_stale(self, event_id: str, run_id: str) -> bool:
        """Delete the item unless a run at least as new as ``run_id`` has written it since."""
        try:
            self._dynamodb.delete_item(
                TableName=self.table_name,
                Key={"event_id": {"S": event_id}},
                ConditionExpression="run_id < :run",
                ExpressionAttributeValues={":run": {"S": run_id}},
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return False
            raise
        return True

    def get(self, event_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self.table_name, Key={"event_id": {"S": event_id}}, ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else None

    def _query_date(
        self, day: date, *, projection: str | None, filter_run_before: str | None
    ) -> Iterator[Mapping[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": DATE_INDEX,
            "KeyConditionExpression": "event_date = :day",
            "ExpressionAttributeValues": {":day": {"S": day.isoformat()}},
        }
        if projection:
            request["ProjectionExpression"] = projection
        if filter_run_before:
            request["FilterExpression"] = "run_id < :run"
            request["ExpressionAttributeValues"][":run"] = {"S": filter_run_before}
        paginator = self._dynamodb.get_paginator("query")
        for page in paginator.paginate(**request):
            yield from page.get("Items", [])
