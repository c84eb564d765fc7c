"""The events-queue wire format: encode/decode, validation errors, packing and batch planning."""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from typing import Any

import pytest
from villages_sync.messages import (
    MessageFormatError,
    decode_message,
    encode_message,
    pack_messages,
    plan_send_batches,
    validate_event_item,
)
from villages_sync.models import EventMessage

RUN_ID = "20261124T172500.123456Z-abc123"


def envelope(events: Any, **fields: Any) -> str:
    body = {"v": 1, "run_id": RUN_ID, "seq": 0, "encoding": "json", "events": events}
    body.update(fields)
    return json.dumps(body)


def compressed(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data)).decode()


def noise(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


@pytest.mark.parametrize("compress", [True, False])
def test_encode_message_round_trip_same_message(make_item, compress: bool) -> None:
    # Given a message with a few valid events, one with every optional field
    events = [
        make_item("1"),
        make_item("2", url="https://example.test/2", end_date="2026-11-25", address="1 Main St"),
        make_item("3", title="Café \u2013 ünïcode ♪"),
    ]
    message = EventMessage(run_id=RUN_ID, sequence=7, events=events)
    # When it is encoded and decoded
    body = encode_message(message, compress=compress)
    decoded = decode_message(body)
    # Then the same message comes back, in the declared encoding
    assert decoded == message
    assert json.loads(body)["encoding"] == ("zlib+base64" if compress else "json")
    assert json.loads(body)["n"] == 3


def bad_bodies(item: dict[str, Any]) -> list[tuple[str, object, str]]:
    return [
        ("not text", 42, "not text"),
        ("not json", "{nope", "not JSON"),
        ("json array", "[1, 2]", "JSON list, not an object"),
        ("version 2", envelope([], v=2), "unsupported version 2"),
        ("bool version", envelope([], v=True), "unsupported version True"),
        ("missing version", envelope([], v=None), "unsupported version None"),
        ("bad run_id", envelope([], run_id="yesterday"), "run_id 'yesterday' is not a run id"),
        ("negative seq", envelope([], seq=-1), "seq -1 is not a whole number"),
        ("float seq", envelope([], seq=1.5), "seq 1.5 is not a whole number"),
        ("bool seq", envelope([], seq=True), "seq True is not a whole number"),
        ("events not list", envelope({"a": 1}), "events is not a list"),
        ("unknown encoding", envelope([], encoding="gzip"), "unknown encoding 'gzip'"),
        ("events not text", envelope([1], encoding="zlib+base64"), "events is not base64 text"),
        ("not base64", envelope("***", encoding="zlib+base64"), "events is not valid base64"),
        (
            "not zlib",
            envelope(base64.b64encode(b"plain").decode(), encoding="zlib+base64"),
            "events is not zlib data",
        ),
        (
            "truncated zlib",
            envelope(
                base64.b64encode(zlib.compress(b"[1,2,3]")[:-6]).decode(), encoding="zlib+base64"
            ),
            "truncated",
        ),
        (
            "zip bomb",
            envelope(compressed(b"[" + b" " * 5_000_000 + b"]"), encoding="zlib+base64"),
            "inflates past 4194304 bytes",
        ),
        (
            "inflates to non-json",
            envelope(compressed(b"{nope"), encoding="zlib+base64"),
            "does not inflate to JSON",
        ),
        (
            "inflates to object",
            envelope(compressed(b'{"a": 1}'), encoding="zlib+base64"),
            "does not inflate to a list",
        ),
        ("n mismatch", envelope([item], n=2), "n is 2 but the message carries 1 events"),
        ("bool n", envelope([item], n=True), "n is True"),
    ]


_BAD_BODY_LABELS = [label for label, _, _ in bad_bodies({})]


def bad_events(item: dict[str, Any]) -> list[tuple[str, object, str]]:
    """Events that break one rule each: (label, event, what the problem text says)."""
    return [
        ("event not object", "x", "event is str, not an object"),
        ("unknown field", {**item, "colour": "red"}, "unknown field(s) ['colour']"),
        ("long title", {**item, "title": "t" * 201}, "title is 201 characters"),
        ("bad date", {**item, "event_date": "2026-02-30"}, "event_date '2026-02-30' is not a real"),
        ("bad time", {**item, "start_time": "24:00"}, "start_time '24:00' is not HH:MM"),
        ("bool last_updated", {**item, "last_updated": True}, "last_updated True is not epoch"),
        ("empty optional", {**item, "url": ""}, "url is empty (omit it instead)"),
        ("bad id", {**item, "event_id": "abc"}, "event_id 'abc' is not a decimal"),
        ("long id", {**item, "event_id": "1" * 21}, "is not a decimal"),
        ("bool flag", {**item, "cancelled": 0}, "cancelled is int, not a boolean"),
        ("bad hash", {**item, "content_hash": "xyz"}, "content_hash is not 32 hex"),
        ("bad span", {**item, "span": "week"}, "span is 'week'"),
    ]


_BAD_EVENT_LABELS = [label for label, _, _ in bad_events({})]


@pytest.mark.parametrize("label", _BAD_EVENT_LABELS)
def test_decode_message_bad_event_fails_alone(make_item, label: str) -> None:
    # Given a message whose second of three events breaks one rule
    good = [make_item("1"), make_item("3")]
    bad, expected = next((e, t) for name, e, t in bad_events(make_item("2")) if name == label)
    body = envelope([good[0], bad, good[1]])
    # When it is decoded
    message = decode_message(body)
    # Then the other two are applied, the bad one is named, and a usable id is still kept
    assert [e["event_id"] for e in message.events] == ["1", "3"]
    assert len(message.invalid) == 1
    assert message.invalid[0].startswith("events[1]: ")
    assert expected in message.invalid[0]
    usable = isinstance(bad, dict) and bad.get("event_id") == "2"
    assert message.keep == (["2"] if usable else [])


@pytest.mark.parametrize("label", _BAD_BODY_LABELS)
def test_decode_message_bad_body_error_names_problem(make_item, label: str) -> None:
    # Given a body that is wrong in one way
    body, expected = next((b, e) for name, b, e in bad_bodies(make_item("9")) if name == label)
    # When it is decoded
    with pytest.raises(MessageFormatError) as raised:
        decode_message(body)
    # Then the error names the problem
    assert expected in str(raised.value)


def test_decode_message_bad_event_problem_names_its_index(make_item) -> None:
    # Given a compressed message whose fourth event has a bad time
    events = [make_item(str(n)) for n in range(5)]
    events[3]["end_time"] = "25:61"
    body = encode_message(EventMessage(RUN_ID, 0, events))
    # When it is decoded
    message = decode_message(body)
    # Then the problem points at events[3], and the four others are applied
    assert message.invalid == ["events[3]: end_time '25:61' is not HH:MM"]
    assert [e["event_id"] for e in message.events] == ["0", "1", "2", "4"]


def test_pack_messages_refresh_and_keep_round_trip(make_item) -> None:
    # Given events to upsert, events later than the window to refresh, and ids to keep
    items = [make_item(str(n)) for n in range(3)]
    later = [make_item("90", event_date="2027-06-01")]
    # When they are packed two entries a message and decoded again
    bodies = pack_messages(
        RUN_ID, items, max_bytes=256 * 1024, max_events=2, refresh=later, keep=["91", "92"]
    )
    messages = [decode_message(body) for body in bodies]
    # Then every entry arrives once, in order, in the list it was packed into
    assert [m.sequence for m in messages] == [0, 1, 2]
    assert [e["event_id"] for m in messages for e in m.events] == ["0", "1", "2"]
    assert [e["event_id"] for m in messages for e in m.refresh] == ["90"]
    assert [i for m in messages for i in m.keep] == ["91", "92"]
    assert all(not m.invalid for m in messages)


def test_decode_message_keep_not_ids_rejected_whole() -> None:
    # Given a message whose keep list holds something that is not an id
    body = json.dumps({"v": 1, "run_id": RUN_ID, "seq": 0, "events": [], "keep": ["1", 2]})
    # When it is decoded
    # Then the whole message is refused (it cannot be trusted)
    with pytest.raises(MessageFormatError, match="keep is not a list of event ids"):
        decode_message(body)


def test_validate_event_item_valid_item_accepted(make_item) -> None:
    # Given a valid item (fixture) and one from the normaliser
    item = make_item("77", end_date="2026-11-25", venue_category="Town Square")
    # When validated
    # Then nothing is raised (and a broken copy is refused, so the check is real)
    validate_event_item(item)
    with pytest.raises(MessageFormatError, match="subcategories"):
        validate_event_item({**item, "subcategories": [""]})


def items_with_noise(make_item, count: int, size: int) -> list[dict[str, Any]]:
    return [make_item(str(n), description=noise(size, n)) for n in range(count)]


@pytest.mark.parametrize(("count", "max_events"), [(1, 100), (100, 100), (101, 100), (25, 7)])
def test_pack_messages_max_events_respected_in_order(make_item, count, max_events) -> None:
    # Given some small items
    items = [make_item(str(n)) for n in range(count)]
    # When they are packed
    bodies = pack_messages(RUN_ID, items, max_bytes=256 * 1024, max_events=max_events)
    # Then no message holds more than max_events, order is kept, sequences are 0..n-1
    messages = [decode_message(b) for b in bodies]
    assert all(len(m.events) <= max_events for m in messages)
    assert len(messages) == -(-count // max_events)
    assert [m.sequence for m in messages] == list(range(len(messages)))
    assert [e["event_id"] for m in messages for e in m.events] == [str(n) for n in range(count)]


def test_pack_messages_small_max_bytes_split_within_limit(make_item) -> None:
    # Given items with incompressible descriptions, far more than 8 KiB in total
    items = items_with_noise(make_item, 40, 1500)
    # When they are packed into 8 KiB messages
    bodies = pack_messages(RUN_ID, items, max_bytes=8192, max_events=100)
    # Then each body is within the limit, everything is there once and in order
    assert len(bodies) > 4
    assert all(len(b.encode()) <= 8192 for b in bodies)
    messages = [decode_message(b) for b in bodies]
    assert [m.sequence for m in messages] == list(range(len(bodies)))
    assert [e["event_id"] for m in messages for e in m.events] == [str(n) for n in range(40)]
    assert [e for m in messages for e in m.events] == items


def test_pack_messages_single_event_too_large_value_error(make_item) -> None:
    # Given one item whose description alone is over the limit
    items = [make_item("1"), make_item("2", description=noise(2000, 2))]
    # When packed into tiny messages
    # Then ValueError names the event
    with pytest.raises(ValueError, match="event 2 alone is over 1024 bytes"):
        pack_messages(RUN_ID, items, max_bytes=1024, max_events=10)


@pytest.mark.parametrize(
    ("sizes", "max_batch_bytes", "expected"),
    [
        ([10] * 25, 1000, [10, 10, 5]),
        ([100] * 10, 350, [3, 3, 3, 1]),
        ([300, 300, 300, 50], 650, [2, 2]),
        ([], 1000, []),
    ],
)
def test_plan_send_batches_limits_respected(sizes, max_batch_bytes, expected) -> None:
    # Given bodies of given sizes
    bodies = [f"{n:03d}" + "x" * (size - 3) for n, size in enumerate(sizes)]
    # When they are planned into batches
    batches = plan_send_batches(bodies, max_batch_bytes=max_batch_bytes)
    # Then batches have at most 10 entries and bytes, keep order, and ids are unique per batch
    assert [len(b) for b in batches] == expected
    assert [e.body for b in batches for e in b] == bodies
    for batch in batches:
        assert len(batch) <= 10
        assert sum(len(e.body.encode()) for e in batch) <= max_batch_bytes
        assert len({e.id for e in batch}) == len(batch)


def test_plan_send_batches_body_over_limit_value_error() -> None:
    # Given a body larger than a whole batch may be
    # When planned
    # Then ValueError
    with pytest.raises(ValueError, match="cannot fit any batch"):
        plan_send_batches(["x" * 2000], max_batch_bytes=1000)


def test_validate_event_item_ttl_past_90_days_after_last_day_rejected(make_item) -> None:
    # Given an item whose ttl pins it far beyond its event (a forged message's year 36812)
    from villages_sync.messages import latest_ttl

    item = make_item("1")
    forged = {**item, "ttl": 1_093_000_000_000}
    just_inside = {**item, "ttl": latest_ttl(item)}
    # When validated / Then the forged ttl is refused and the bound itself accepted
    with pytest.raises(MessageFormatError, match="ttl"):
        validate_event_item(forged)
    validate_event_item(just_inside)
