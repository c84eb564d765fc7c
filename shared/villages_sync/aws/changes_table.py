"""The changes table: every change the change feed published, kept 30 days (TTL).

The order, per stream batch: look the batch's change ids up (BatchGetItem), publish those not
found, then record each published one (PutItem). A redelivered batch finds its changes recorded
and publishes nothing. Nothing is ever lost: a change is recorded only after PutEvents accepted
it, and until its record is written the stream record stays unfinished (failed, retried by
Lambda, then on the on-failure queue). The one cost: a crash between PutEvents and the PutItem
publishes that change again on the retry, carrying the same ``change_id`` (consumers drop it).
Recording first (a conditional put, publishing only if it was new) would lose the change that
a crash interrupted between the two; recording it as pending and marking it published after
would cost two writes per change for the same guarantee. BatchWriteItem is not used: it may
delete, and no function of this stack may delete items.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from villages_sync.changes import Change, ChangeDetail, ChangeKind

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_dynamodb import DynamoDBClient

CHANGES_BY_TIME_INDEX = "changes-by-time"
RECORD_TYPE = "change"  # the index's one partition: every change, in time order
KEEP_SECONDS = 30 * 24 * 3600
_BATCH_GET_KEYS = 100  # BatchGetItem's limit per call
_MAX_BATCH_GET_ROUNDS = 8  # unprocessed keys asked again at most this often


@dataclass(frozen=True, slots=True)
class RecordedChange:
    """One row of the changes table, as the command line lists it."""

    kind: ChangeKind
    detail: ChangeDetail
    changed_at: int  # epoch seconds: when the table changed (the stream record's time)

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

    def recorded(self, change_ids: Sequence[str]) -> set[str]:
        """Which of ``change_ids`` are recorded (published before: a redelivery)."""
        found: set[str] = set()
        unique = sorted(set(change_ids))
        for start in range(0, len(unique), _BATCH_GET_KEYS):
            keys: list[Any] = [{"change_id": {"S": i}} for i in unique[start : start + 100]]
            for _ in range(_MAX_BATCH_GET_ROUNDS):
                answer = self._dynamodb.batch_get_item(
                    RequestItems={
                        self.table_name: {"Keys": keys, "ProjectionExpression": "change_id"}
                    }
                )
                items = answer.get("Responses", {}).get(self.table_name, [])
                found.update(str(item["change_id"]["S"]) for item in items)
                unprocessed: dict[str, Any] = dict(answer.get("UnprocessedKeys", {}))
                keys = list(unprocessed.get(self.table_name, {}).get("Keys", []))
                if not keys:
                    break
            else:
                raise RuntimeError(f"BatchGetItem left {len(keys)} keys unprocessed")
        return found

    def record(self, change: Change, changed_at: int) -> None:
        """Record a published change (written again, identically, after a duplicate)."""
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
                "expires_at": {"N": str(changed_at + KEEP_SECONDS)},
            },
        )

    def record_many(
        self, changes: Sequence[tuple[Change, int]], *, max_workers: int = 8
    ) -> set[str]:
        """Record each (change, changed_at), several at a time; the ids not recorded."""

        def one(entry: tuple[Change, int]) -> str | None:
            try:
                self.record(*entry)
            except (ClientError, BotoCoreError):
                return entry[0].change_id
            return None

        return {failed for failed in _in_parallel(one, changes, max_workers) if failed}

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
    )


def _in_parallel(
    call: Callable[[tuple[Change, int]], str | None],
    entries: Sequence[tuple[Change, int]],
    max_workers: int,
) -> list[str | None]:
    if len(entries) <= 1 or max_workers <= 1:
        return [call(entry) for entry in entries]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(entries))) as pool:
        return list(pool.map(call, entries))
