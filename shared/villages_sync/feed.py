"""One batch of the events table's stream, turned into published changes.

Per batch: read each record (``changes.change_from_record``), look the changes up in the
changes table, publish those not there, record what was published (the order is explained in
``aws/changes_table.py``). A record that cannot be read, recorded or published is reported
by its ``SequenceNumber``, as Lambda's partial batch response for streams expects: Lambda
retries from the lowest one (the records after it come again and are found already published),
halves the batch (``BisectBatchOnFunctionError``) and at last hands the failing record's
position to the on-failure queue.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from villages_sync.changes import Change, UnreadableRecordError, change_from_record

if TYPE_CHECKING:
    from villages_sync.aws.changes_bus import ChangesBus
    from villages_sync.aws.changes_table import ChangesTable

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class FeedOutcome:
    failed_sequence_numbers: list[str] = field(default_factory=list)  # in the batch's order
    published: list[Change] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # ChangesPublished, NotChanges ...

    def batch_response(self) -> dict[str, list[dict[str, str]]]:
        """Lambda's partial batch response for a stream event source."""
        return {
            "batchItemFailures": [
                {"itemIdentifier": number} for number in self.failed_sequence_numbers
            ]
        }


def publish_stream_batch(
    records: Sequence[Mapping[str, Any]],
    *,
    table: ChangesTable,
    bus: ChangesBus,
    now: float,
) -> FeedOutcome:
    outcome = FeedOutcome()
    failed: set[int] = set()
    found: list[tuple[int, Change, int]] = []
    for position, record in enumerate(records):
        try:
            change = change_from_record(record)
        except UnreadableRecordError as error:
            logger.warning(
                "stream record unreadable",
                extra={"sequence_number": _sequence_number(record), "error": str(error)},
            )
            outcome.counts["RecordsUnreadable"] += 1
            failed.add(position)
            continue
        if change is None:
            outcome.counts["RecordsNotChanges"] += 1
            continue
        found.append((position, change, _changed_at(record, now)))
    try:
        recorded = table.recorded([change.change_id for _, change, _ in found])
    except (ClientError, BotoCoreError, RuntimeError) as error:
        logger.warning("changes table unreadable", extra={"error": str(error)})
        failed.update(position for position, _, _ in found)
        found = []
        recorded = set()
    outcome.counts["ChangesAlreadyPublished"] += sum(
        1 for _, change, _ in found if change.change_id in recorded
    )
    # A change twice in one batch (its record delivered twice) is published once.
    fresh: dict[str, tuple[int, Change, int]] = {}
    for position, change, at in found:
        if change.change_id not in recorded:
            fresh.setdefault(change.change_id, (position, change, at))
    unpublished = bus.publish([(change, at) for _, change, at in fresh.values()])
    published = [(c, at) for _, c, at in fresh.values() if c.change_id not in unpublished]
    unrecorded = table.record_many(published)
    for position, change, _ in found:
        if change.change_id in unpublished or change.change_id in unrecorded:
            # Not on the bus, or on it but not recorded: the retry publishes it (again, with
            # the same id), so nothing is lost.
            failed.add(position)
    for change, _ in published:
        outcome.published.append(change)
    outcome.counts["ChangesPublished"] += len(published)
    outcome.counts["RecordsFailed"] = len(failed)
    outcome.failed_sequence_numbers = [
        _sequence_number(records[position]) for position in sorted(failed)
    ]
    return outcome


def _sequence_number(record: Mapping[str, Any]) -> str:
    """The record's SequenceNumber ("" when it has none: Lambda then fails the whole batch,
    which is right for a record that cannot even be placed)."""
    stream = record.get("dynamodb") if isinstance(record, Mapping) else None
    number = stream.get("SequenceNumber") if isinstance(stream, Mapping) else None
    return str(number) if number else ""


def _changed_at(record: Mapping[str, Any], now: float) -> int:
    """When the table changed: the stream's ApproximateCreationDateTime (stable over
    redelivery), else now."""
    stamp = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    try:
        return int(float(stamp))
    except (TypeError, ValueError):
        return int(now)
