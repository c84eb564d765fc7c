"""The events table's writes: idempotent upserts guarded by the run marker, and the sweep's
candidates and strikes. Its reads (the date indexes, ``get``) are ``event_reads.EventReads``.

An item without a ``run_id`` (restored from a backup, imported, written by hand) is older than
every run: it is updated when the calendar lists it and a deletion candidate when it does not.

The sweep does not remove an item outright: it turns it into a tombstone (its key, the deleting
run's marker, ``deleted_by`` and a ``ttl`` a little past the DLQ's retention), so that a
message of an older run, replayed or delayed past the run that deleted the item, fails the same
marker condition every upsert has and cannot bring the event back. A tombstone has no date, so
it is in neither index: the skill and the sweep never see it; ``get`` reads it as absent.

Every write here (upsert, refresh, keep, strike, tombstone) is guarded by the same marker
conditions, kept in one module so the one invariant (a newer run's marker always wins) is read
and changed in one place.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from villages_sync.aws.event_reads import TOMBSTONE_MARK, EventReads, is_tombstone
from villages_sync.aws.items import conditional_check_failed, to_attributes
from villages_sync.models import DateWindow, EventItem, UpsertOutcome
from villages_sync.run_ids import started_before

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_dynamodb.type_defs import UpdateTypeDef


# The marker is older than ``:run``, or absent (an item the sync did not write).
_OLDER = "(attribute_not_exists(run_id) OR run_id < :run)"
_NAMES = {"#misses": "misses", "#missed_by": "missed_by"}
# A tombstone outlives every message that could still carry the event: the queues keep a
# message 14 days at most (the DLQ's retention), one more day covers a replay's latency.
TOMBSTONE_SECONDS = 15 * 24 * 3600
_LIVE = f"attribute_not_exists({TOMBSTONE_MARK})"
# Every attribute an item may carry beyond its key, marker and ttl: a tombstone drops them all
# (the date and ``span`` take it out of both indexes).
_ITEM_ATTRIBUTES = (
    "title", "description", "event_date", "start_time", "end_time", "location", "category",
    "url", "last_updated", "start_iso", "end_iso", "end_date", "span", "all_day", "cancelled",
    "featured", "subcategories", "venue_category", "address", "content_hash",
)  # fmt: skip

# Names, not the words themselves: several (``location``, ``url``...) are DynamoDB reserved words.
_REMOVED_NAMES = {f"#a{n}": name for n, name in enumerate(_ITEM_ATTRIBUTES)}


@dataclass(frozen=True, slots=True)
class SweepCandidate:
    """An item in a run's window, as the sweep reads it (keys and marker fields only)."""

    event_id: str
    run_id: str | None  # None: written outside the sync
    misses: int  # consecutive clean sweeps that did not see it
    missed_by: str | None  # the last run whose sweep counted a miss
    content: str = ""  # date, start time, title, venue (normalise.stored_content_key)

    def older_than(self, run_id: str) -> bool:
        return self.run_id is None or started_before(self.run_id, run_id)


class StrikeOutcome(enum.StrEnum):
    DELETED = "deleted"  # absent from enough clean runs in a row
    MISSED = "missed"  # one more miss counted; deleted only if still absent next time
    KEPT = "kept"  # a run at least as new wrote it since it was read: left alone


class EventsTable(EventReads):
    """All access to the events table: its reads (``EventReads``) and every guarded write.
    Takes a boto3 DynamoDB client."""

    def upsert(self, item: EventItem, run_id: str, *, keep_date: bool = False) -> UpsertOutcome:
        """Write ``item`` with ``run_id`` as its marker, unless a newer run already wrote it.

        One conditional PutItem: a replay or duplicate of the same run rewrites the same values
        (``<=``), an older run never overwrites a newer one. ``keep_date``: a run whose outcome
        is not known yet (still scraping) may add the event or rewrite it on its stored date,
        never move it: then the stored copy's marker is refreshed instead and DEFERRED returned
        (the sweep of the run, once it completed clean, applies the move: ``apply_deferred``).
        """
        condition = (
            "attribute_not_exists(event_id) OR attribute_not_exists(run_id) OR run_id <= :run"
        )
        values = {":run": {"S": run_id}}
        if keep_date:
            condition = (
                f"attribute_not_exists(event_id) OR (NOT {_LIVE} AND run_id <= :run) OR "
                "((attribute_not_exists(run_id) OR run_id <= :run) AND event_date = :date)"
            )
            values[":date"] = {"S": item["event_date"]}
        try:
            response = self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_attributes({**item, "run_id": run_id}),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if conditional_check_failed(error):
                if keep_date and self.keep(item["event_id"], run_id):
                    return UpsertOutcome.DEFERRED
                return UpsertOutcome.SUPERSEDED
            raise
        old = response.get("Attributes")
        if not old or is_tombstone(old):
            return UpsertOutcome.ADDED
        if old.get("content_hash", {}).get("S") == item["content_hash"]:
            return UpsertOutcome.UNCHANGED
        return UpsertOutcome.UPDATED

    def refresh_existing(self, item: EventItem, run_id: str) -> UpsertOutcome | None:
        """Write ``item`` only over a stored, older copy (an event now later than the window:
        its stored date is out of date, but it is not gone). None when nothing was stored."""
        try:
            response = self._dynamodb.put_item(
                TableName=self.table_name,
                Item=to_attributes({**item, "run_id": run_id}),
                ConditionExpression=(
                    f"attribute_exists(event_id) AND {_LIVE} AND "
                    "(attribute_not_exists(run_id) OR run_id <= :run)"
                ),
                ExpressionAttributeValues={":run": {"S": run_id}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return None
            raise
        old = response.get("Attributes", {})
        if old.get("content_hash", {}).get("S") == item["content_hash"]:
            return UpsertOutcome.UNCHANGED
        return UpsertOutcome.UPDATED

    def apply_deferred(self, item: EventItem, run_id: str) -> bool:
        """Write a date change deferred while its run was scraping, now that the run completed
        clean: an UpdateItem (the sweep's permission) of every field, unless a newer run wrote
        the item or it was deleted since. False when not applied."""
        present = {k: v for k, v in item.items() if k != "event_id"}
        names = {f"#f{n}": name for n, name in enumerate(present)}
        values = {f":f{n}": value for n, value in enumerate(present.values())}
        absent = [f"#r{n}" for n, name in enumerate(_ITEM_ATTRIBUTES) if name not in present]
        names.update(
            {f"#r{n}": name for n, name in enumerate(_ITEM_ATTRIBUTES) if name not in present}
        )
        update = "SET run_id = :run, " + ", ".join(f"#f{n} = :f{n}" for n in range(len(present)))
        update += " REMOVE #misses, #missed_by" + "".join(f", {name}" for name in absent)
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key={"event_id": {"S": item["event_id"]}},
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(event_id) AND {_LIVE} AND run_id <= :run",
                ExpressionAttributeNames={**names, **_NAMES},
                ExpressionAttributeValues={**to_attributes(values), ":run": {"S": run_id}},
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return False
            raise
        return True

    def keep(self, event_id: str, run_id: str) -> bool:
        """Refresh the marker of a stored item the run saw but could not store (invalid), so
        its last good content stays and the sweep does not take it. False when absent or a
        run at least as new already wrote it."""
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key={"event_id": {"S": event_id}},
                UpdateExpression="SET run_id = :run REMOVE #misses, #missed_by",
                ConditionExpression=f"attribute_exists(event_id) AND {_LIVE} AND {_OLDER}",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={":run": {"S": run_id}},
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return False
            raise
        return True

    def upsert_many(
        self,
        items: Sequence[EventItem],
        run_id: str,
        *,
        max_workers: int = 8,
        keep_date: bool = False,
    ) -> list[UpsertOutcome]:
        """Upsert in parallel (boto3 clients are thread-safe); outcomes in the order of ``items``.

        Raises the first error after every write has been tried, so a retry of the message
        repeats only idempotent writes.
        """
        return _in_parallel(
            lambda item: self.upsert(item, run_id, keep_date=keep_date), items, max_workers
        )

    def refresh_many(
        self, items: Sequence[EventItem], run_id: str, *, max_workers: int = 8
    ) -> list[UpsertOutcome | None]:
        return _in_parallel(lambda item: self.refresh_existing(item, run_id), items, max_workers)

    def keep_many(self, event_ids: Sequence[str], run_id: str, *, max_workers: int = 8) -> int:
        """How many stored items had their marker refreshed."""
        kept = _in_parallel(lambda event_id: self.keep(event_id, run_id), event_ids, max_workers)
        return sum(kept)

    def window_candidates(self, window: DateWindow) -> Iterator[SweepCandidate]:
        """Every item in ``window``: dated inside it, or multi-day and started before it but
        still running on its first day. Key and marker fields only."""
        projection = "event_id, run_id, #misses, #missed_by, event_date, start_time, title, #loc"
        for day in window.days():
            for raw in self.query_date(day, projection=projection):
                yield _candidate(raw)
        first = window.first
        for raw in self.query_multi_day(first, started_before=first, projection=projection):
            yield _candidate(raw)

    def strike(
        self,
        candidate: SweepCandidate,
        run_id: str,
        *,
        misses_before_delete: int,
        now: float,
        count_in: str | None = None,
    ) -> StrikeOutcome:
        """Count one more clean run that did not see the item, deleting it when that makes
        ``misses_before_delete`` in a row. Conditional on the item being as it was read (no
        newer marker, no other miss counted since), so a retried sweep counts each miss once
        and never deletes an item a newer run has written. A deletion leaves a tombstone
        marked with ``run_id`` (see the module's docstring), kept until ``now`` plus
        ``TOMBSTONE_SECONDS``. ``count_in``: the runs table, where a deletion is counted on
        ``run_id``'s record in the same transaction."""
        if candidate.missed_by is not None and not started_before(candidate.missed_by, run_id):
            return StrikeOutcome.KEPT  # a miss by this run (a retry) or a newer one is counted
        unchanged = (
            f"{_OLDER} AND "
            + ("attribute_not_exists(#misses)" if candidate.misses == 0 else "#misses = :misses")
            + " AND (attribute_not_exists(#missed_by) OR #missed_by < :run)"
        )
        values: dict[str, Any] = {":run": {"S": run_id}}
        if candidate.misses:
            values[":misses"] = {"N": str(candidate.misses)}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"event_id": {"S": candidate.event_id}},
            "ConditionExpression": unchanged,
            "ExpressionAttributeNames": _NAMES,
        }
        deleting = candidate.misses + 1 >= misses_before_delete
        try:
            if deleting:
                values[":expires"] = {"N": str(int(now) + TOMBSTONE_SECONDS)}
                tombstone: UpdateTypeDef = {
                    "TableName": self.table_name,
                    "Key": request["Key"],
                    "ConditionExpression": f"{unchanged} AND {_LIVE}",
                    "ExpressionAttributeNames": {
                        **_NAMES,
                        **_REMOVED_NAMES,
                        "#tomb": TOMBSTONE_MARK,
                        "#ttl": "ttl",
                    },
                    "UpdateExpression": (
                        "SET run_id = :run, #tomb = :run, #ttl = :expires REMOVE #misses, "
                        "#missed_by, " + ", ".join(_REMOVED_NAMES)
                    ),
                    "ExpressionAttributeValues": values,
                }
                if count_in is None:
                    self._dynamodb.update_item(**tombstone)
                else:
                    # The deletion and its count on the run, in one transaction: a sweep cut
                    # short between two writes would otherwise delete without counting it.
                    self._dynamodb.transact_write_items(
                        TransactItems=[
                            {"Update": tombstone},
                            {
                                "Update": {
                                    "TableName": count_in,
                                    "Key": {"run_id": {"S": run_id}},
                                    "UpdateExpression": "ADD deleted_count :one",
                                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                                }
                            },
                        ]
                    )
            else:
                values[":next"] = {"N": str(candidate.misses + 1)}
                self._dynamodb.update_item(
                    **request,
                    UpdateExpression="SET #misses = :next, #missed_by = :run",
                    ExpressionAttributeValues=values,
                )
        except ClientError as error:
            if conditional_check_failed(error) or _transaction_condition_failed(error):
                return StrikeOutcome.KEPT
            raise
        return StrikeOutcome.DELETED if deleting else StrikeOutcome.MISSED


def _transaction_condition_failed(error: ClientError) -> bool:
    """A transaction cancelled because a condition (the item changed since it was read) failed."""
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    if reasons:
        return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)
    return "ConditionalCheckFailed" in error.response["Error"].get("Message", "")


def _candidate(raw: Mapping[str, Any]) -> SweepCandidate:
    return SweepCandidate(
        event_id=raw["event_id"]["S"],
        run_id=raw.get("run_id", {}).get("S"),
        misses=int(raw.get("misses", {}).get("N", "0")),
        missed_by=raw.get("missed_by", {}).get("S"),
        content="\x1f".join(
            raw.get(name, {}).get("S", "")
            for name in ("event_date", "start_time", "title", "location")
        ),
    )


def _in_parallel(call: Callable[[Any], Any], values: Sequence[Any], max_workers: int) -> list[Any]:
    """``call`` on every value, in parallel (boto3 clients are thread-safe), results in order.
    Raises the first error after every call has been tried, so a retry repeats only idempotent
    writes."""
    if len(values) <= 1 or max_workers <= 1:
        return [call(value) for value in values]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(values))) as pool:
        futures = [pool.submit(call, value) for value in values]
    errors = [error for f in futures if (error := f.exception()) is not None]
    if errors:
        raise errors[0]
    return [f.result() for f in futures]
