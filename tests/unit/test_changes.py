"""Stream records to calendar changes: every kind, and every rewrite that is not a change."""

from __future__ import annotations

from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from villages_sync.changes import (
    ChangeKind,
    UnreadableRecordError,
    change_from_record,
    listener_view,
)

RUN_1 = "20261124T100000.000000Z-aaaaaa"
RUN_2 = "20261124T160000.000000Z-bbbbbb"
_serializer = TypeSerializer()

ITEM: dict[str, Any] = {
    "event_id": "12345",
    "title": "Rockin' Retirees",
    "description": "Live music",
    "event_date": "2026-11-28",
    "start_time": "19:00",
    "end_time": "21:00",
    "location": "Brownwood Paddock Square",
    "category": "Entertainment",
    "last_updated": 1764000000,
    "ttl": 1772000000,
    "start_iso": "2026-11-28T19:00:00-05:00",
    "all_day": False,
    "cancelled": False,
    "featured": False,
    "subcategories": [],
    "content_hash": "a" * 32,
    "run_id": RUN_1,
}
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def _image(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else {k: _serializer.serialize(v) for k, v in item.items()}


def stream_record(
    name: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    *,
    identity: dict[str, str] | None = None,
    sequence: str = "100",
) -> dict[str, Any]:
    """A record in the shape Lambda hands a DynamoDB-stream function."""
    stream: dict[str, Any] = {
        "Keys": {"event_id": {"S": "12345"}},
        "SequenceNumber": sequence,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        stream["OldImage"] = _image(old)
    if new is not None:
        stream["NewImage"] = _image(new)
    record: dict[str, Any] = {
        "eventID": "e-" + sequence,
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": stream,
    }
    if identity is not None:
        record["userIdentity"] = identity
    return record


def rewritten(**changes: Any) -> dict[str, Any]:
    """The item as a later run (RUN_2) writes it, with ``changes``."""
    return {**ITEM, "run_id": RUN_2, "last_updated": 1764100000, **changes}


TOMBSTONE = {"event_id": "12345", "run_id": RUN_2, "deleted_by": RUN_2, "ttl": 1765000000}


@pytest.mark.parametrize(
    ("name", "old", "new", "kind", "changed", "run_id"),
    [
        pytest.param("INSERT", None, ITEM, ChangeKind.ADDED, [], RUN_1, id="added"),
        pytest.param(
            "MODIFY", TOMBSTONE, rewritten(), ChangeKind.ADDED, [], RUN_2, id="un-tombstoned"
        ),
        pytest.param(
            "MODIFY",
            ITEM,
            rewritten(event_date="2026-11-29", start_iso="2026-11-29T19:00:00-05:00"),
            ChangeKind.MOVED,
            ["event_date", "start_iso"],
            RUN_2,
            id="moved-day",
        ),
        pytest.param(
            "MODIFY",
            ITEM,
            rewritten(start_time="20:00", start_iso="2026-11-28T20:00:00-05:00"),
            ChangeKind.MOVED,
            ["start_iso", "start_time"],
            RUN_2,
            id="moved-time",
        ),
        pytest.param(
            "MODIFY",
            ITEM,
            rewritten(location="Spanish Springs Town Square"),
            ChangeKind.MOVED,
            ["location"],
            RUN_2,
            id="moved-venue",
        ),
        pytest.param(
            "MODIFY",
            ITEM,
            rewritten(cancelled=True),
            ChangeKind.CANCELLED,
            ["cancelled"],
            RUN_2,
            id="cancelled",
        ),
        pytest.param(
            "MODIFY",
            ITEM,
            rewritten(cancelled=True, event_date="2026-11-29"),
            ChangeKind.CANCELLED,
            ["cancelled", "event_date"],
            RUN_2,
            id="cancelled-and-moved-is-cancelled",
        ),
        pytest.param(
            "MODIFY",
            rewritten(cancelled=True),
            rewritten(cancelled=False),
            ChangeKind.UPDATED,
            ["cancelled"],
            RUN_2,
            id="uncancelled",
        ),
        pytest.param(
            "MODIFY",
            ITEM,
            rewritten(title="Rockin' Retirees Reunion"),
            ChangeKind.UPDATED,
            ["title"],
            RUN_2,
            id="retitled",
        ),
        pytest.param(
            "MODIFY",
            ITEM,
            rewritten(end_time="22:00"),
            ChangeKind.UPDATED,
            ["end_time"],
            RUN_2,
            id="end-time",
        ),
        pytest.param(
            "MODIFY",
            ITEM,
            {k: v for k, v in rewritten().items() if k != "end_time"},
            ChangeKind.UPDATED,
            ["end_time"],
            RUN_2,
            id="end-time-dropped",
        ),
        pytest.param(
            "MODIFY", ITEM, TOMBSTONE, ChangeKind.REMOVED, [], RUN_2, id="swept-to-tombstone"
        ),
        pytest.param("REMOVE", ITEM, None, ChangeKind.REMOVED, [], None, id="deleted-by-hand"),
    ],
)
def test_change_from_record_each_kind_named_with_its_fields(
    name: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    kind: ChangeKind,
    changed: list[str],
    run_id: str | None,
) -> None:
    # Given a stream record of a listener-visible change
    record = stream_record(name, old, new)

    # When it is read
    change = change_from_record(record)

    # Then it is exactly one change of that kind, with its views
    assert change is not None
    assert change.kind is kind
    assert change.detail["changed"] == changed
    assert change.detail["run_id"] == run_id
    assert change.detail["event_id"] == "12345"
    live_old = old if old is not None and "deleted_by" not in old else None
    live_new = new if new is not None and "deleted_by" not in new else None
    assert change.detail["before"] == (listener_view(live_old) if live_old else None)
    assert change.detail["after"] == (listener_view(live_new) if live_new else None)
    assert len(change.change_id) == 64


@pytest.mark.parametrize(
    ("name", "old", "new", "identity"),
    [
        pytest.param("MODIFY", ITEM, rewritten(), None, id="run-marker-and-last-updated"),
        pytest.param("MODIFY", ITEM, {**ITEM, "misses": 1, "missed_by": RUN_2}, None, id="strike"),
        pytest.param("MODIFY", {**ITEM, "misses": 1}, rewritten(), None, id="strike-cleared"),
        pytest.param("MODIFY", ITEM, rewritten(ttl=1790000000), None, id="ttl"),
        pytest.param(
            "MODIFY",
            ITEM,
            rewritten(content_hash="b" * 32, description="new words"),
            None,
            id="content-hash-and-unheard-description",
        ),
        pytest.param("MODIFY", ITEM, rewritten(featured=True), None, id="featured"),
        pytest.param("REMOVE", ITEM, None, TTL_IDENTITY, id="ttl-expiry-of-an-event"),
        pytest.param("REMOVE", TOMBSTONE, None, TTL_IDENTITY, id="ttl-expiry-of-a-tombstone"),
        pytest.param("REMOVE", TOMBSTONE, None, None, id="tombstone-deleted-by-hand"),
        pytest.param(
            "MODIFY", TOMBSTONE, {**TOMBSTONE, "ttl": 1766000000}, None, id="tombstone-rewritten"
        ),
        pytest.param("INSERT", None, TOMBSTONE, None, id="tombstone-inserted"),
    ],
)
def test_change_from_record_rewrites_nobody_hears_are_not_changes(
    name: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    identity: dict[str, str] | None,
) -> None:
    # Given a record that changes nothing a listener hears
    record = stream_record(name, old, new, identity=identity)

    # When it is read
    change = change_from_record(record)

    # Then there is no change
    assert change is None


def test_change_id_same_record_redelivered_same_id() -> None:
    # Given one move, delivered twice (the second time in another batch, another sequence)
    first = stream_record("MODIFY", ITEM, rewritten(location="Lake Sumter Landing"))
    again = stream_record("MODIFY", ITEM, rewritten(location="Lake Sumter Landing"), sequence="7")

    # When both are read
    ids = {change_from_record(first).change_id, change_from_record(again).change_id}  # type: ignore[union-attr]

    # Then they carry one id
    assert len(ids) == 1


def test_change_id_same_move_by_a_later_run_is_a_new_change() -> None:
    # Given the same move made by two runs (it moved back in between)
    moved = {"location": "Lake Sumter Landing"}
    by_run_2 = stream_record("MODIFY", ITEM, rewritten(**moved))
    by_run_3 = stream_record(
        "MODIFY", ITEM, {**rewritten(**moved), "run_id": "20261125T100000.000000Z-cccccc"}
    )

    # When both are read
    first, second = change_from_record(by_run_2), change_from_record(by_run_3)

    # Then each is its own change
    assert first is not None and second is not None
    assert first.change_id != second.change_id


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({}, id="empty"),
        pytest.param({"eventName": "MODIFY", "dynamodb": {}}, id="no-keys"),
        pytest.param(
            {"eventName": "MODIFY", "dynamodb": {"Keys": {"event_id": {"Q": "1"}}}},
            id="unknown-type",
        ),
        pytest.param(
            {"eventName": "MODIFY", "dynamodb": {"Keys": {"event_id": {"S": "1"}}, "NewImage": 3}},
            id="image-not-a-map",
        ),
        pytest.param(
            {"eventName": "UPSERT", "dynamodb": {"Keys": {"event_id": {"S": "1"}}}},
            id="unknown-event-name",
        ),
        pytest.param(
            stream_record("INSERT", None, {"event_id": "12345", "run_id": RUN_1}),
            id="item-without-title",
        ),
    ],
)
def test_change_from_record_unreadable_raises(record: dict[str, Any]) -> None:
    # Given a record that is not a readable events-table stream record
    # When it is read / Then it is refused with the one error the handler fails a record on
    with pytest.raises(UnreadableRecordError):
        change_from_record(record)
