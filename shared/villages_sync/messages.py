"""The events-queue wire format: versioned JSON carrying a compressed list of events. Pure.

``{"v": 1, "run_id": "...", "seq": 0, "n": 100, "encoding": "zlib+base64", "events": "...",
"refresh": "...", "keep": ["123", ...]}``: ``refresh`` (events outside the run's window, encoded
like ``events``) and ``keep`` (ids of events the run saw but could not store) are optional.

Compression is what lets one ``SendMessageBatch`` (at most 10 entries and 256 KiB) carry many
hundreds of realistic events; ``"encoding": "json"`` with a plain list is accepted too.
Decoding validates the envelope and names the first problem, so a poison message fails alone;
an event that breaks a rule fails alone too: it is left out of ``events`` and its problem listed
in ``invalid`` (and its id kept, when it has a usable one), the rest of the message is applied.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, TypeGuard, cast

from villages_sync.models import (
    CONTENT_HASH_BYTES,
    DESCRIPTION_MAX_CHARS,
    MESSAGE_VERSION,
    MULTI_DAY_SPAN,
    SUBCATEGORIES_MAX,
    SUBCATEGORY_MAX_CHARS,
    TITLE_MAX_CHARS,
    TTL_DAYS_AFTER_EVENT,
    URL_MAX_CHARS,
    EventItem,
    EventMessage,
)
from villages_sync.run_ids import RunId, is_run_id

SQS_MAX_BATCH_ENTRIES = 10
SQS_MAX_BATCH_BYTES = 256 * 1024
MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024  # a zip-bomb guard, far above any real message
ENCODINGS = ("zlib+base64", "json")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
EVENT_ID_MAX_DIGITS = 20  # DynamoDB keys hold more; no real id is near it
_EVENT_ID = re.compile(rf"^[0-9]{{1,{EVENT_ID_MAX_DIGITS}}}$")
_CONTENT_HASH = re.compile(rf"[0-9a-f]{{{2 * CONTENT_HASH_BYTES}}}")
_STR_FIELDS_REQUIRED = ("title", "description", "location", "category", "start_iso")
_STR_FIELDS_OPTIONAL = (
    "url", "end_iso", "venue_category", "address", "end_time", "end_date", "span",
)  # fmt: skip
_BOOL_FIELDS = ("all_day", "cancelled", "featured")
_KNOWN_FIELDS = frozenset(
    (
        "event_id", "event_date", "start_time", "last_updated", "ttl", "subcategories",
        "content_hash", *_STR_FIELDS_REQUIRED, *_STR_FIELDS_OPTIONAL, *_BOOL_FIELDS,
    )
)  # fmt: skip
_MAX_TEXT = {"title": TITLE_MAX_CHARS, "description": DESCRIPTION_MAX_CHARS, "url": URL_MAX_CHARS}
# (name, length limit, optional) for each text field, in the order they are checked: worked
# out once, not on every event (the producer checks every item it makes, the consumer again).
_TEXT_RULES = tuple(
    (name, _MAX_TEXT.get(name, 500), name in _STR_FIELDS_OPTIONAL)
    for name in _STR_FIELDS_REQUIRED + _STR_FIELDS_OPTIONAL
)


class MessageFormatError(ValueError):
    """The body is not a valid events message; the text says what is wrong."""


@dataclass(frozen=True, slots=True)
class SendEntry:
    id: str
    body: str


def encode_message(message: EventMessage, *, compress: bool = True) -> str:
    envelope: dict[str, Any] = {
        "v": message.version,
        "run_id": message.run_id,
        "seq": message.sequence,
        "n": len(message.events),
        "encoding": ENCODINGS[0] if compress else ENCODINGS[1],
        "events": _encode_events(message.events, compress=compress),
    }
    if message.refresh:
        envelope["refresh"] = _encode_events(message.refresh, compress=compress)
    if message.keep:
        envelope["keep"] = list(message.keep)
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def _encode_events(events: Sequence[EventItem], *, compress: bool) -> str | list[EventItem]:
    if not compress:
        return list(events)
    events_json = json.dumps(list(events), separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(zlib.compress(events_json.encode(), 6)).decode("ascii")


def decode_message(body: object) -> EventMessage:
    if not isinstance(body, str):
        raise MessageFormatError(f"body is {type(body).__name__}, not text")
    try:
        envelope = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise MessageFormatError(f"body is not JSON ({str(error)[:80]})") from None
    if not isinstance(envelope, dict):
        raise MessageFormatError(f"body is a JSON {type(envelope).__name__}, not an object")
    version = envelope.get("v")
    if version != MESSAGE_VERSION or isinstance(version, bool):
        raise MessageFormatError(
            f"unsupported version {version!r:.20} (expected {MESSAGE_VERSION})"
        )
    run_id = envelope.get("run_id")
    if not is_run_id(run_id):
        raise MessageFormatError(f"run_id {run_id!r:.60} is not a run id")
    sequence = envelope.get("seq")
    if not _is_int(sequence) or not 0 <= sequence < 1_000_000:
        raise MessageFormatError(f"seq {sequence!r:.20} is not a whole number 0-999999")
    encoding = envelope.get("encoding", "json")
    events = _events_payload(encoding, envelope.get("events"), "events")
    count = envelope.get("n")
    if count is not None and (not _is_int(count) or count != len(events)):
        raise MessageFormatError(f"n is {count!r:.20} but the message carries {len(events)} events")
    refresh = (
        _events_payload(encoding, envelope["refresh"], "refresh") if "refresh" in envelope else []
    )
    keep = envelope.get("keep", [])
    if not isinstance(keep, list) or not all(
        isinstance(event_id, str) and _EVENT_ID.match(event_id) for event_id in keep
    ):
        raise MessageFormatError("keep is not a list of event ids")
    message = EventMessage(run_id=run_id, sequence=sequence, events=[], keep=list(keep))
    for name, payload, valid in (
        ("events", events, message.events),
        ("refresh", refresh, message.refresh),
    ):
        for index, event in enumerate(payload):
            try:
                validate_event_item(event)
            except MessageFormatError as error:
                # This event alone is not stored; a usable id still keeps its stored item.
                message.invalid.append(f"{name}[{index}]: {error}")
                event_id = event.get("event_id") if isinstance(event, dict) else None
                if isinstance(event_id, str) and _EVENT_ID.match(event_id):
                    message.keep.append(event_id)
            else:
                valid.append(event)
    return message


def validate_event_item(item: object) -> None:
    """Raise MessageFormatError unless ``item`` is a storable EventItem within every limit.

    Every item is checked twice (by the producer that makes it, by the consumer that stores
    it), so the checks are written for the valid case: no work for a field beyond its test.
    """
    if not isinstance(item, dict):
        raise MessageFormatError(f"event is {type(item).__name__}, not an object")
    if not _KNOWN_FIELDS.issuperset(item):
        unknown = set(item) - _KNOWN_FIELDS
        raise MessageFormatError(f"unknown field(s) {sorted(unknown)[:5]}")
    get = item.get
    event_id = get("event_id")
    if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
        raise MessageFormatError(f"event_id {event_id!r:.30} is not a decimal string")
    _check_date(item, "event_date", required=True)
    _check_date(item, "end_date", required=False)
    value = get("start_time")
    if not isinstance(value, str) or not _TIME.match(value):
        raise MessageFormatError(f"start_time {value!r:.30} is not HH:MM")
    value = get("end_time")
    if value is not None and (not isinstance(value, str) or not _TIME.match(value)):
        raise MessageFormatError(f"end_time {value!r:.30} is not HH:MM")
    for name, limit, optional in _TEXT_RULES:
        value = get(name)
        if value is None and optional:
            continue
        if not isinstance(value, str):
            raise MessageFormatError(f"{name} is {type(value).__name__}, not text")
        if len(value) > limit:
            raise MessageFormatError(f"{name} is {len(value)} characters (limit {limit})")
        if not value and optional:
            raise MessageFormatError(f"{name} is empty (omit it instead)")
    if not item["title"]:
        raise MessageFormatError("title is empty")
    if get("span", MULTI_DAY_SPAN) != MULTI_DAY_SPAN:
        raise MessageFormatError(f"span is {item['span']!r:.30}, not {MULTI_DAY_SPAN!r}")
    for name in ("last_updated", "ttl"):
        value = get(name)
        if not _is_int(value) or not 0 <= value < 2**40:
            raise MessageFormatError(f"{name} {value!r:.30} is not epoch seconds")
    for name in _BOOL_FIELDS:
        value = get(name)
        if not isinstance(value, bool):
            raise MessageFormatError(f"{name} is {type(value).__name__}, not a boolean")
    subcategories = get("subcategories")
    if not isinstance(subcategories, list) or not _short_texts(subcategories):
        raise MessageFormatError(
            f"subcategories is not a list of up to {SUBCATEGORIES_MAX} short texts"
        )
    if item["ttl"] > latest_ttl(item):
        raise MessageFormatError(
            f"ttl {item['ttl']} is past {TTL_DAYS_AFTER_EVENT} days after the event's last day"
        )
    content_hash = get("content_hash")
    if not isinstance(content_hash, str) or not _CONTENT_HASH.fullmatch(content_hash):
        raise MessageFormatError(f"content_hash is not {2 * CONTENT_HASH_BYTES} hex digits")


def latest_ttl(item: Mapping[str, Any]) -> int:
    """The latest ``ttl`` an item may carry: ``TTL_DAYS_AFTER_EVENT`` days after its last day,
    counted from the end of that day in UTC (so later than any zone's local midnight). A ttl
    beyond it would pin the item long after the event (a forged message's year 36812)."""
    last_day = date.fromisoformat(item.get("end_date") or item["event_date"])
    return _epoch_day(last_day.toordinal() + TTL_DAYS_AFTER_EVENT + 1)


def _epoch_day(ordinal: int) -> int:
    return (ordinal - _EPOCH_ORDINAL) * 86_400


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _short_texts(values: list[Any]) -> bool:
    """At most SUBCATEGORIES_MAX non-empty texts of at most SUBCATEGORY_MAX_CHARS each."""
    if len(values) > SUBCATEGORIES_MAX:
        return False
    for value in values:  # a loop, not all(generator): most lists hold one or two
        if not isinstance(value, str) or not 0 < len(value) <= SUBCATEGORY_MAX_CHARS:
            return False
    return True


# What one message carries: ("events", item), ("refresh", item) or ("keep", event_id).
PackEntry = tuple[str, Any]


def pack_messages(
    run_id: RunId,
    items: Sequence[EventItem],
    *,
    max_bytes: int,
    max_events: int,
    refresh: Sequence[EventItem] = (),
    keep: Sequence[str] = (),
    first_sequence: int = 0,
) -> list[str]:
    """Message bodies of at most ``max_events`` entries and ``max_bytes`` bytes each, in order:
    the events to upsert, then those to refresh, then the ids to keep.

    Packs by count first (the common case: 100 compressed events are far below 256 KiB) and
    halves a chunk only when its encoded body is over the size limit. Sequence numbers count
    from ``first_sequence`` (a streaming producer packs a run a message or so at a time).
    """
    entries: list[PackEntry] = [
        *(("events", item) for item in items),
        *(("refresh", item) for item in refresh),
        *(("keep", event_id) for event_id in keep),
    ]
    iterator = iter(entries)
    chunks: list[list[PackEntry]] = []
    while chunk := list(islice(iterator, max_events)):
        chunks.append(chunk)
    bodies: list[str] = []
    while chunks:
        chunk = chunks.pop(0)
        body = encode_message(message_of(run_id, first_sequence + len(bodies), chunk))
        if len(body.encode()) <= max_bytes:
            bodies.append(body)
            continue
        if len(chunk) == 1:
            raise ValueError(f"event {_entry_id(chunk[0])} alone is over {max_bytes} bytes")
        half = len(chunk) // 2
        chunks[:0] = [chunk[:half], chunk[half:]]
    return bodies


def message_of(run_id: RunId, sequence: int, entries: Sequence[PackEntry]) -> EventMessage:
    """The message carrying ``entries`` (see ``PackEntry``)."""
    message = EventMessage(run_id, sequence, [])
    lists: dict[str, list[Any]] = {
        "events": message.events,
        "refresh": message.refresh,
        "keep": message.keep,
    }
    for kind, value in entries:
        lists[kind].append(value)
    return message


def _entry_id(entry: PackEntry) -> str:
    kind, value = entry
    return value if kind == "keep" else cast(str, value["event_id"])


def plan_send_batches(
    bodies: Sequence[str],
    *,
    max_entries: int = SQS_MAX_BATCH_ENTRIES,
    max_batch_bytes: int = SQS_MAX_BATCH_BYTES,
) -> list[list[SendEntry]]:
    """Greedy batches within SendMessageBatch's limits; entry ids unique within a batch."""
    batches: list[list[SendEntry]] = []
    current: list[SendEntry] = []
    size = 0
    for body in bodies:
        body_bytes = len(body.encode())
        if body_bytes > max_batch_bytes:
            raise ValueError(f"a message of {body_bytes} bytes cannot fit any batch")
        if current and (len(current) == max_entries or size + body_bytes > max_batch_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(SendEntry(id=f"m{len(current)}", body=body))
        size += body_bytes
    if current:
        batches.append(current)
    return batches


def _events_payload(encoding: object, payload: object, name: str) -> list[Any]:
    if encoding == "json":
        if not isinstance(payload, list):
            raise MessageFormatError(f"{name} is not a list")
        return payload
    if encoding != "zlib+base64":
        raise MessageFormatError(f"unknown encoding {encoding!r:.30}")
    if not isinstance(payload, str):
        raise MessageFormatError(f"{name} is not base64 text")
    try:
        compressed = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise MessageFormatError(f"{name} is not valid base64") from None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, MAX_DECOMPRESSED_BYTES)
    except zlib.error as error:
        raise MessageFormatError(f"{name} is not zlib data ({error})") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise MessageFormatError(
            f"{name} is truncated or inflates past {MAX_DECOMPRESSED_BYTES} bytes"
        )
    try:
        events = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise MessageFormatError(f"{name} does not inflate to JSON") from None
    if not isinstance(events, list):
        raise MessageFormatError(f"{name} does not inflate to a list")
    return events


def _check_date(item: Mapping[str, Any], name: str, *, required: bool) -> None:
    value = item.get(name)
    if value is None and not required:
        return
    if not isinstance(value, str) or not _DATE.match(value):
        raise MessageFormatError(f"{name} {value!r:.30} is not YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise MessageFormatError(f"{name} {value!r:.30} is not a real date") from None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
