"""One batch of the events table's stream, turned into published changes.

Per record: read it (``changes.change_from_record``), record its change as pending in the
changes table, publish what is new or still pending, mark it published (the order is explained
in ``aws/changes_table.py``). A record that cannot be read, recorded or published is reported
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
    to_publish: list[tuple[int, Change, int]] = []
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
        changed_at = _changed_at(record, now)
        try:
            new = table.record(change, changed_at)
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "change not recorded", extra={"change_id": change.change_id, "error": str(error)}
            )
            failed.add(position)
            continue
        if new:
            to_publish.append((position, change, changed_at))
        else:
            outcome.counts["ChangesAlreadyPublished"] += 1
    unpublished = bus.publish([(change, at) for _, change, at in to_publish])
    for position, change, _ in to_publish:
        if change.change_id in unpublished:
            failed.add(position)
            continue
        outcome.published.append(change)
        outcome.counts["ChangesPublished"] += 1
        try:
            table.mark_published(change.change_id)
        except (ClientError, BotoCoreError) as error:
            # Published all the same: a redelivery would publish it again, with the same id.
            logger.warning(
                "change published, not marked",
                extra={"change_id": change.change_id, "error": str(error)},
            )
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
