"""What each run saw of the calendar, kept compactly in the runs table for `runs diff`.

One item per consumed message: key ``<run_id>#view#<seq:06d>``, holding the message's events as
``[event_id, event_date, start_time, title, location, all_day]`` rows (``all_day`` "1" or "";
views kept before it have five columns and read as not all-day), JSON then zlib (about 3 KB per
100 events). No ``record_type``, so the items stay out of the ``runs-by-start`` index; they
expire with the run records (``expires_at``). Writing one again (a redelivery) rewrites the
same value.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from villages_sync.aws.runs_table import RECORD_RETENTION_SECONDS, RunsTable
from villages_sync.run_ids import RunId

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        KeysAndAttributesOutputTypeDef,
        KeysAndAttributesTypeDef,
    )


VIEW_FIELDS = ("event_id", "event_date", "start_time", "title", "location", "all_day")
_BATCH_GET_MAX = 100


def view_key(run_id: str, sequence: int) -> str:
    return f"{run_id}#view#{sequence:06d}"


def store_message_view(
    runs: RunsTable,
    run_id: RunId,
    sequence: int,
    events: Iterable[Mapping[str, Any]],
    *,
    now: float,
) -> None:
    """The message's events as ``runs diff`` reads them, kept as long as the run's record
    (from ``now``)."""
    rows = [[_view_text(event, name) for name in VIEW_FIELDS] for event in events]
    blob = zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 6)
    runs._dynamodb.put_item(  # the runs table's own client: these items live beside its records
        TableName=runs.table_name,
        Item={
            "run_id": {"S": view_key(run_id, sequence)},
            "view": {"B": blob},
            "expires_at": {"N": str(int(now) + RECORD_RETENTION_SECONDS)},
        },
    )


def _view_text(event: Mapping[str, Any], name: str) -> str:
    if name == "all_day":  # an all-day event's start_time is a placeholder ("00:00")
        return "1" if event.get(name) else ""
    return str(event.get(name, ""))


def deferred_key(run_id: str, sequence: int) -> str:
    return f"{run_id}#deferred#{sequence:06d}"


def store_deferred(
    runs: RunsTable,
    run_id: RunId,
    sequence: int,
    items: Iterable[Mapping[str, Any]],
    *,
    now: float,
) -> None:
    """Date changes a run made while still scraping, kept for its sweep (``load_deferred``):
    applied only if the run completes clean. UpdateItem (the consumer's permission on the runs
    table); a redelivery writes the same value again."""
    blob = zlib.compress(json.dumps(list(items), separators=(",", ":")).encode(), 6)
    runs._dynamodb.update_item(
        TableName=runs.table_name,
        Key={"run_id": {"S": deferred_key(run_id, sequence)}},
        UpdateExpression="SET deferred_items = :blob, expires_at = :expires",
        ExpressionAttributeValues={
            ":blob": {"B": blob},
            ":expires": {"N": str(int(now) + RECORD_RETENTION_SECONDS)},
        },
    )
    runs._dynamodb.update_item(
        TableName=runs.table_name,
        Key={"run_id": {"S": run_id}},
        UpdateExpression="ADD deferred_sequences :seq",
        ConditionExpression="attribute_exists(run_id)",
        ExpressionAttributeValues={":seq": {"NS": [str(sequence)]}},
    )


def load_deferred(runs: RunsTable, run_id: str, sequences: Iterable[int]) -> list[Any]:
    """The items ``store_deferred`` kept for these sequences of the run (GetItem each)."""
    items: list[Any] = []
    for sequence in sorted(sequences):
        response = runs._dynamodb.get_item(
            TableName=runs.table_name,
            Key={"run_id": {"S": deferred_key(run_id, sequence)}},
            ConsistentRead=True,
        )
        if "Item" in response:
            items.extend(json.loads(zlib.decompress(response["Item"]["deferred_items"]["B"])))
    return items


def load_run_view(
    dynamodb: DynamoDBClient, table_name: str, run_id: str, message_count: int
) -> tuple[dict[str, dict[str, Any]], int]:
    """The run's events by id (``all_day`` a bool), and how many of its ``message_count`` views
    were found."""
    keys = [{"run_id": {"S": view_key(run_id, seq)}} for seq in range(message_count)]
    events: dict[str, dict[str, Any]] = {}
    found = 0
    for start in range(0, len(keys), _BATCH_GET_MAX):
        request: Mapping[str, KeysAndAttributesTypeDef | KeysAndAttributesOutputTypeDef] = {
            table_name: {"Keys": keys[start : start + _BATCH_GET_MAX]}
        }
        while request:
            response = dynamodb.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table_name, []):
                found += 1
                for row in json.loads(zlib.decompress(item["view"]["B"])):
                    event: dict[str, Any] = dict(zip(VIEW_FIELDS, row, strict=False))
                    event["all_day"] = event.get("all_day") == "1"
                    events[event["event_id"]] = event
            request = response.get("UnprocessedKeys") or {}
    return events, found
