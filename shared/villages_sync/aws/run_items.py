"""A run record as the runs table stores it: its key, the item read back into a ``RunRecord``,
and the conditional update every change of a run goes through (``runs_table`` says which)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from villages_sync.aws.items import conditional_check_failed, from_attributes, to_attributes
from villages_sync.models import DateWindow, RunRecord, RunStatus, SweepOutcome, UpsertOutcome

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_dynamodb import DynamoDBClient


def run_from_item(item: Mapping[str, Any]) -> RunRecord:
    outcome = item.get("sweep_outcome")
    return RunRecord(
        run_id=item["run_id"],
        started_at=int(item.get("started_at", 0)),
        window=DateWindow(
            first=date.fromisoformat(item["window_first"]),
            last=date.fromisoformat(item["window_last"]),
        ),
        status=RunStatus(item["status"]),
        message_count=int(item.get("message_count", 0)),
        event_count=int(item.get("event_count", 0)),
        fetched_count=int(item.get("fetched_count", 0)),
        rejects={k: int(v) for k, v in item.get("rejects", {}).items()},
        drift=bool(item.get("drift", False)),
        drift_reason=item.get("drift_reason", ""),
        error=item.get("error", ""),
        done_sequences={int(s) for s in item.get("done_sequences", set())},
        upserts={
            name: int(item[f"{name}_count"]) for name in UpsertOutcome if f"{name}_count" in item
        },
        completed_at=item.get("completed_at"),
        finished_at=item.get("finished_at"),
        sweep_outcome=SweepOutcome(outcome) if outcome else None,
        sweep_reason=item.get("sweep_reason", ""),
        deleted_count=int(item.get("deleted_count", 0)),
        missed_count=int(item.get("missed_count", 0)),
        degraded=bool(item.get("degraded", False)),
        degraded_reason=item.get("degraded_reason", ""),
        sweep_requested=bool(item.get("sweep_requested", False)),
        accepted_by=item.get("accepted_by", ""),
        accept_reason=item.get("accept_reason", ""),
        accept_waives=list(item.get("accept_waives", [])),
        refused_reason=item.get("refused_reason", ""),
        sweep_started=bool(item.get("sweep_started", False)),
        deferred_sequences={int(s) for s in item.get("deferred_sequences", set())},
        unidentified_content=list(item.get("unidentified_content", [])),
        raw_capture=item.get("raw_capture", ""),
        raw_capture_error=item.get("raw_capture_error", ""),
    )


def run_key(run_id: str) -> dict[str, Any]:
    return to_attributes({"run_id": run_id})


def update_run_if(
    dynamodb: DynamoDBClient,
    table_name: str,
    run_id: str,
    update: str,
    condition: str,
    values: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """Update the run if ``condition`` holds: its whole item as it now stands, or None when
    the condition failed (not an error: the caller says what that means)."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "Key": run_key(run_id),
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": to_attributes(values),
        "ReturnValues": "ALL_NEW",
    }
    if names:
        request["ExpressionAttributeNames"] = dict(names)
    try:
        response = dynamodb.update_item(**request)
    except ClientError as error:
        if conditional_check_failed(error):
            return None
        raise
    return from_attributes(response["Attributes"])
