"""MessageStream: a run packed page by page gives the messages pack_messages gives for the
whole run, in full SendMessageBatch calls, sequence numbers in the order sent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from villages_sync.message_stream import EventIds, MessageStream, entries_of
from villages_sync.messages import (
    SQS_MAX_BATCH_BYTES,
    SQS_MAX_BATCH_ENTRIES,
    decode_message,
    pack_messages,
)
from villages_sync.normalise import normalise_events, window_for
from villages_sync.run_ids import new_run_id
from villages_sync_ops.standin.dataset import generate_events

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
RUN = new_run_id(NOW)
ITEMS = normalise_events(
    generate_events(1234, seed=3, today=date(2026, 11, 24)),
    tz=TZ,
    window=window_for(NOW, TZ, 90),
    last_updated=int(NOW.timestamp()),
).items


def _pages(items: list, sizes: list[int]):
    start = 0
    while start < len(items):
        for size in sizes:
            yield items[start : start + size]
            start += size


@pytest.mark.parametrize("sizes", [[100], [37, 250, 1], [1000]])
def test_message_stream_pages_of_any_size_same_bodies_as_packing_the_whole_run(
    sizes: list[int],
) -> None:
    # Given a run's items arriving in pages of uneven sizes
    stream = MessageStream(RUN, max_bytes=256 * 1024, max_entries=100)
    calls: list[list[str]] = []

    # When each page is added as it comes, then the stream is flushed
    for page in _pages(ITEMS, sizes):
        calls += stream.add(entries_of(page, [], []))
    calls += stream.flush()

    # Then the bodies are exactly those of packing the run at once, in full calls
    bodies = [body for call in calls for body in call]
    assert bodies == pack_messages(RUN, ITEMS, max_bytes=256 * 1024, max_events=100)
    assert stream.messages == len(bodies) == 13
    assert [len(call) for call in calls] == [10, 3]
    assert all(sum(len(b.encode()) for b in call) <= SQS_MAX_BATCH_BYTES for call in calls)


def test_message_stream_flush_after_first_page_sends_it_alone_then_sequences_continue() -> None:
    # Given a first page of 60 items, flushed at once (the producer's first message)
    stream = MessageStream(RUN, max_bytes=256 * 1024, max_entries=100)
    first = stream.add(entries_of(ITEMS[:60], [], [])) + stream.flush()

    # When the rest arrives
    rest = stream.add(entries_of(ITEMS[60:], [], [])) + stream.flush()

    # Then the first call carries one message, seq 0; the others follow 1, 2, ... in order
    assert [len(call) for call in first] == [1]
    sequences = [decode_message(b).sequence for call in first + rest for b in call]
    assert sequences == list(range(len(sequences)))
    events = [
        e["event_id"] for call in first + rest for b in call for e in decode_message(b).events
    ]
    assert events == [item["event_id"] for item in ITEMS]


def test_message_stream_mixed_entries_and_oversized_message_split_within_limits() -> None:
    # Given events, refreshes and kept ids, with messages limited to 6 KiB
    stream = MessageStream(RUN, max_bytes=6 * 1024, max_entries=100)
    keep = [str(9_000_000 + n) for n in range(50)]

    # When they are streamed
    calls = stream.add(entries_of(ITEMS[:300], ITEMS[300:350], keep)) + stream.flush()

    # Then every entry arrives once, each body within 6 KiB, each call within SQS's limits
    messages = [decode_message(b) for call in calls for b in call]
    assert [m.sequence for m in messages] == list(range(len(messages)))
    assert sum(len(m.events) for m in messages) == 300
    assert sum(len(m.refresh) for m in messages) == 50
    assert [k for m in messages for k in m.keep] == keep
    assert all(len(b.encode()) <= 6 * 1024 for call in calls for b in call)
    assert all(len(call) <= SQS_MAX_BATCH_ENTRIES for call in calls)


def test_event_ids_holds_decimal_ids_like_a_set() -> None:
    # Given ids as the normaliser writes them
    ids = EventIds()

    # When some are added
    ids.add("1480001")
    ids.add("7")
    ids.add("7")

    # Then membership, size and iteration are a set's
    assert "7" in ids and "1480001" in ids and "8" not in ids and 7 not in ids
    assert len(ids) == 2 and sorted(ids) == ["1480001", "7"]
