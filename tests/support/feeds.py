"""Small hand-made calendar feeds run through the real local pipeline."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions

TZ = ZoneInfo(DEFAULT_TIMEZONE)
FAST = {"BACKOFF_BASE_SECONDS": "0.01", "BACKOFF_MAX_SECONDS": "0.2", "TIMEOUT_SECONDS": "5"}


def today() -> date:
    return datetime.now(TZ).date()


def utc(day: date, hour: int = 17, minute: int = 0) -> str:
    local = datetime.combine(day, time(hour, minute), tzinfo=TZ)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def raw_event(event_id: Any, day: date, *, hour: int = 17, hours: float = 2, **extra: Any) -> dict:
    """One event in the API's raw shape, local ``day`` at ``hour``."""
    start = datetime.combine(day, time(hour, 0), tzinfo=TZ)
    end = start + timedelta(hours=hours)
    event = {
        "id": event_id,
        "title": f"Show {event_id}",
        "description": "A band on the square.",
        "category": "entertainment",
        "subcategories": ["classic-rock"],
        "start": {"date": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "type": "time"},
        "end": {"date": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"), "type": "time"},
        "allDay": False,
        "cancelled": False,
        "featured": False,
        "location": {"title": "Spanish Springs Town Square", "category": "town-squares"},
        "address": {"streetAddress": "Main Street", "locality": "The Villages", "region": "FL"},
        "url": "",
    }
    event.update(extra)
    return event


def filler(n: int, *, first_id: int = 2_000_000) -> list[dict]:
    """``n`` plain events spread over the next 60 days."""
    return [raw_event(first_id + i, today() + timedelta(days=1 + i % 60)) for i in range(n)]


def sync(deployment: Any, base_url: str, **env: str):
    options = SyncOptions(
        calendar_base_url=base_url, function_log=io.StringIO(), extra_env={**FAST, **env}
    )
    return LocalPipeline(deployment, options).run_sync()


def stored(deployment: Any) -> dict[str, dict[str, Any]]:
    """Every item of the events table by event_id (plain values)."""
    from villages_sync.aws.items import from_attributes

    client = deployment.clients.dynamodb
    table = deployment.resources.tables["EventsTable"]
    items: dict[str, dict[str, Any]] = {}
    # Tombstones (what the sweep leaves of a deleted item) are not events.
    for page in client.get_paginator("scan").paginate(
        TableName=table, FilterExpression="attribute_not_exists(deleted_by)"
    ):
        for raw in page["Items"]:
            item = from_attributes(raw)
            items[item["event_id"]] = item
    return items
