"""The events table, read: what the skill asks (``events_on``, Queries of the date and
multi-day indexes, never a Scan), a single item (``get``) and the index queries the sweep's
candidates come from. ``EventsTable`` adds every guarded write on top.

Apart from the writes so that the skill, whose role may only read, imports none of them nor the
run records they use (issue 21: the skill's cold start). A tombstone (an item the sweep deleted,
``events_table``) has no date, so it is in neither index; ``get`` reads it as absent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from villages_sync.aws.items import from_attributes
from villages_sync.table_layout import MULTI_DAY_SPAN

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_dynamodb import DynamoDBClient

DATE_INDEX = "date-index"
MULTI_DAY_INDEX = "multi-day-index"  # sparse: only items with ``span`` (multi-day events)
TOMBSTONE_MARK = "deleted_by"
# Names, not the words themselves, in projections: ``location`` is a DynamoDB reserved word.
_PROJECTED_NAMES = {"#misses": "misses", "#missed_by": "missed_by", "#loc": "location"}


def is_tombstone(item: Mapping[str, Any]) -> bool:
    """An item the sweep deleted (plain or DynamoDB-typed attributes)."""
    return TOMBSTONE_MARK in item


class EventReads:
    """Reads of the events table. Takes a boto3 DynamoDB client."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self.table_name = table_name

    def events_on(self, day: date) -> list[dict[str, Any]]:
        """Every item in progress on ``day``: those dated ``day`` (date index) and the multi-day
        ones that started earlier and end on or after it (multi-day index). Queries only."""
        dated = self.query_date(day, projection=None)
        earlier = self.query_multi_day(day, started_before=day, projection=None)
        return [from_attributes(raw) for raw in (*dated, *earlier)]

    def get(self, event_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self.table_name, Key={"event_id": {"S": event_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None or is_tombstone(item) else from_attributes(item)

    def query_date(self, day: date, *, projection: str | None) -> Iterator[Mapping[str, Any]]:
        yield from self._query(
            IndexName=DATE_INDEX,
            KeyConditionExpression="event_date = :day",
            ExpressionAttributeValues={":day": {"S": day.isoformat()}},
            projection=projection,
        )

    def query_multi_day(
        self, day: date, *, started_before: date, projection: str | None
    ) -> Iterator[Mapping[str, Any]]:
        """Multi-day items still running on ``day`` that started before ``started_before``."""
        yield from self._query(
            IndexName=MULTI_DAY_INDEX,
            KeyConditionExpression="#span = :span AND end_date >= :day",
            ExpressionAttributeNames={"#span": "span"},
            FilterExpression="event_date < :before",
            ExpressionAttributeValues={
                ":span": {"S": MULTI_DAY_SPAN},
                ":day": {"S": day.isoformat()},
                ":before": {"S": started_before.isoformat()},
            },
            projection=projection,
        )

    def _query(self, *, projection: str | None, **request: Any) -> Iterator[Mapping[str, Any]]:
        request["TableName"] = self.table_name
        if projection:
            request["ProjectionExpression"] = projection
            names = {name: value for name, value in _PROJECTED_NAMES.items() if name in projection}
            names.update(request.get("ExpressionAttributeNames", {}))
            if names:
                request["ExpressionAttributeNames"] = names
        paginator = self._dynamodb.get_paginator("query")
        for page in paginator.paginate(**request):
            yield from page.get("Items", [])
