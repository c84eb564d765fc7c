"""Packing a run's messages while its events still arrive, and the ids it has seen. Pure.

The streaming producer hands entries over page by page; full messages are sealed with the next
sequence number and grouped into SendMessageBatch calls (10 entries, 256 KiB) as soon as a call
is full. What is held is one message being filled and one call being gathered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSet
from dataclasses import dataclass, field

from villages_sync.id_sets import CompactIds
from villages_sync.messages import (
    SQS_MAX_BATCH_ENTRIES,
    PackEntry,
    pack_messages,
    plan_send_batches,
)
from villages_sync.models import EventItem
from villages_sync.run_ids import RunId

SendBatch = list[str]  # the bodies of one SendMessageBatch call, in sequence order


@dataclass(slots=True)
class MessageStream:
    """Entries in, ready SendMessageBatch calls out, sequence numbers in the order sent."""

    run_id: RunId
    max_bytes: int
    max_entries: int
    messages: int = 0  # sealed so far: the next message's sequence number
    entries: list[PackEntry] = field(default_factory=list)  # the message being filled
    gathering: list[str] = field(default_factory=list)  # sealed bodies not yet in a call

    def add(self, entries: Iterable[PackEntry]) -> list[SendBatch]:
        """Take ``entries``; return the calls that became full."""
        ready: list[SendBatch] = []
        for entry in entries:
            self.entries.append(entry)
            if len(self.entries) == self.max_entries:
                ready += self._seal()
        return ready

    def flush(self) -> list[SendBatch]:
        """Seal the message being filled, if any, and return every call, full or not."""
        ready = self._seal() if self.entries else []
        ready += list(_planned(self.gathering))
        self.gathering = []
        return ready

    def _seal(self) -> list[SendBatch]:
        items: list[EventItem] = [v for kind, v in self.entries if kind == "events"]
        refresh: list[EventItem] = [v for kind, v in self.entries if kind == "refresh"]
        keep: list[str] = [v for kind, v in self.entries if kind == "keep"]
        self.entries = []
        bodies = pack_messages(
            self.run_id,
            items,
            refresh=refresh,
            keep=keep,
            max_bytes=self.max_bytes,
            max_events=self.max_entries,
            first_sequence=self.messages,
        )
        self.messages += len(bodies)
        batches = list(_planned([*self.gathering, *bodies]))
        last = batches[-1]
        # A call is full at 10 entries, or when the next body did not fit (a call follows it).
        full = len(last) == SQS_MAX_BATCH_ENTRIES
        self.gathering = [] if full else last
        return batches if full else batches[:-1]


def entries_of(
    items: Iterable[EventItem], refresh: Iterable[EventItem], keep: Iterable[str]
) -> Iterator[PackEntry]:
    yield from (("events", item) for item in items)
    yield from (("refresh", item) for item in refresh)
    yield from (("keep", event_id) for event_id in keep)


class EventIds(MutableSet[str]):
    """Normalised event ids (decimal text) held as numbers in a CompactIds: a few bytes each
    instead of ~110 as text in a set, which keeps the producer's memory flat in the run's size."""

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids = CompactIds()

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, str) and int(event_id) in self._ids

    def __iter__(self) -> Iterator[str]:
        return (str(n) for n in self._ids)  # only numbers are ever added

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        self._ids.add(int(event_id))

    def discard(self, event_id: str) -> None:
        self._ids.discard(int(event_id))


def _planned(bodies: list[str]) -> Iterator[SendBatch]:
    for batch in plan_send_batches(bodies) if bodies else []:
        yield [entry.body for entry in batch]
