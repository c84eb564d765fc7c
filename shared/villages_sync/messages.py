"""The events-queue wire format: versioned JSON carrying a compressed list of events. Pure.

``{"v": 1, "run_id": "...", "seq": 0, "n": 100, "encoding": "zlib+base64", "events": "..."}``

Compression is what lets one ``SendMessageBatch`` (at most 10 entries and 256 KiB) carry many
hundreds of realistic events; ``"encoding": "json"`` with a plain list is accepted too.
Decoding validates everything and names the first problem: a poison message fails alone.
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
from typing import Any

from villages_sync.models import (
    CONTENT_HASH_BYTES,
    DESCRIPTION_MAX_CHARS,
    MESSAGE_VERSION,
    SUBCATEGORIES_MAX,
    SUBCATEGORY_MAX_CHARS,
    TITLE_MAX_CHARS,
    URL_MAX_CHARS,
    EventItem,
    EventMessage,
)
from villages_sync.run_ids import is_run_id

SQS_MAX_BATCH_ENTRIES = 10
SQS_MAX_BATCH_BYTES = 256 * 1024
MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024  # a zip-bomb guard, far above any real message
ENCODINGS = ("zlib+base64", "json")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_EVENT_ID = re.compile(r"^[0-9]{1,20}$")
_CONTENT_HASH = re.compile(rf"[0-9a-f]{{{2 * CONTENT_HASH_BYTES}}}")
_STR_FIELDS_REQUIRED = ("title", "description", "location", "category", "start_iso")
_STR_FIELDS_OPTIONAL = ("url", "end_iso", "venue_category", "address", "end_time", "end_date")
_BOOL_FIELDS = ("all_day", "cancelled", "featured")
_KNOWN_FIELDS = frozenset(
    (
        "event_id", "event_date", "start_time", "last_updated", "ttl", "subcategories",
        "content_hash", *_STR_FIELDS_REQUIRED, *_STR_FIELDS_OPTIONAL, *_BOOL_FIELDS,
    )
)  # fmt: skip
_MAX_TEXT = {"title": TITLE_MAX_CHARS, "description": DESCRIPTION_MAX_CHARS, "url": URL_MAX_CHARS}


class MessageFormatError(ValueError):
    """The body is not a valid events message; the text says what is wrong."""


@dataclass(frozen=True, slots=True)
class SendEntry:
    id: str
    body: str


def encode_message(message: EventMessage, *, compress: bool = True) -> str:
    events_json = json.dumps(message.events, separators=(",", ":"), ensure_ascii=False)
    payload: str | list[EventItem]
    if compress:
        payload = base64.b64encode(zlib.compress(events_json.encode(), 6)).decode("ascii")
    else:
        payload = list(message.events)
    return json.dumps(
        {
            "v": message.version,
            "run_id": message.run_id,
            "seq": message.sequence,
            "n": len(message.events),
            "encoding": ENCODINGS[0] if compress else ENCODINGS[1],
            "events": payload,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


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
    events = _events_payload(envelope)
    count = envelope.get("n")
    if count is not None and (not _is_int(count) or count != len(events)):
        raise MessageFormatError(f"n is {count!r:.20} but the message carries {len(events)} events")
    for index, event in enumerate(events):
        try:
            validate_event_item(event)
        except MessageFormatError as error:
            raise MessageFormatError(f"events[{index}]: {error}") from None
    return EventMessage(run_id=run_id, sequence=sequence, events=events)


def validate_event_item(item: object) -> None:
    """Raise MessageFormatError unless ``item`` is a storable EventItem within every limit."""
    if not isinstance(item, dict):
        raise MessageFormatError(f"event is {type(item).__name__}, not an object")
    unknown = set(item) - _KNOWN_FIELDS
    if unknown:
        raise MessageFormatError(f"unknown field(s) {sorted(unknown)[:5]}")
    event_id = item.get("event_id")
    if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
        raise MessageFormatError(f"event_id {event_id!r:.30} is not a decimal string")
    _check_date(item, "event_date", required=True)
    _check_date(item, "end_date", required=False)
    for name in ("start_time", "end_time"):
        value = item.get(name)
        if (name == "start_time" or value is not None) and (
            not isinstance(value, str) or not _TIME.match(value)
        ):
            raise MessageFormatError(f"{name} {value!r:.30} is not HH:MM")
    for name in _STR_FIELDS_REQUIRED + _STR_FIELDS_OPTIONAL:
        value = item.get(name)
        if value is None and name in _STR_FIELDS_OPTIONAL:
            continue
        if not isinstance(value, str):
            raise MessageFormatError(f"{name} is {type(value).__name__}, not text")
        if len(value) > _MAX_TEXT.get(name, 500):
            raise MessageFormatError(
                f"{name} is {len(value)} characters (limit {_MAX_TEXT.get(name, 500)})"
            )
        if name in _STR_FIELDS_OPTIONAL and not value:
            raise MessageFormatError(f"{name} is empty (omit it instead)")
    if not item["title"]:
        raise MessageFormatError("title is empty")
    for name in ("last_updated", "ttl"):
        if not _is_int(item.get(name)) or not 0 <= item[name] < 2**40:
            raise MessageFormatError(f"{name} {item.get(name)!r:.30} is not epoch seconds")
    for name in _BOOL_FIELDS:
        if not isinstance(item.get(name), bool):
            raise MessageFormatError(f"{name} is {type(item.get(name)).__name__}, not a boolean")
    subcategories = item.get("subcategories")
    if (
        not isinstance(subcategories, list)
        or len(subcategories) > SUBCATEGORIES_MAX
        or not all(
            isinstance(s, str) and 0 < len(s) <= SUBCATEGORY_MAX_CHARS for s in subcategories
        )
    ):
        raise MessageFormatError(
            f"subcategories is not a list of up to {SUBCATEGORIES_MAX} short texts"
        )
    content_hash = item.get("content_hash")
    if not isinstance(content_hash, str) or not _CONTENT_HASH.fullmatch(content_hash):
        raise MessageFormatError(f"content_hash is not {2 * CONTENT_HASH_BYTES} hex digits")


def pack_messages(
    run_id: str, items: Sequence[EventItem], *, max_bytes: int, max_events: int
) -> list[str]:
    """Message bodies of at most ``max_events`` events and ``max_bytes`` bytes each, in order.

    Packs by count first (the common case: 100 compressed events are far below 256 KiB) and
    halves a chunk only when its encoded body is over the size limit.
    """
    chunks: list[Sequence[EventItem]] = [
        items[start : start + max_events] for start in range(0, len(items), max_events)
    ]
    bodies: list[str] = []
    while chunks:
        chunk = chunks.pop(0)
        body = encode_message(EventMessage(run_id, len(bodies), list(chunk)))
        if len(body.encode()) <= max_bytes:
            bodies.append(body)
            continue
        if len(chunk) == 1:
            raise ValueError(f"event {chunk[0]['event_id']} alone is over {max_bytes} bytes")
        half = len(chunk) // 2
        chunks[:0] = [chunk[:half], chunk[half:]]
    return bodies


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


def _events_payload(envelope: Mapping[str, Any]) -> list[Any]:
    encoding = envelope.get("encoding", "json")
    payload = envelope.get("events")
    if encoding == "json":
        if not isinstance(payload, list):
            raise MessageFormatError("events is not a list")
        return payload
    if encoding != "zlib+base64":
        raise MessageFormatError(f"unknown encoding {encoding!r:.30}")
    if not isinstance(payload, str):
        raise MessageFormatError("events is not base64 text")
    try:
        compressed = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise MessageFormatError("events is not valid base64") from None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, MAX_DECOMPRESSED_BYTES)
    except zlib.error as error:
        raise MessageFormatError(f"events is not zlib data ({error})") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise MessageFormatError(
            f"events is truncated or inflates past {MAX_DECOMPRESSED_BYTES} bytes"
        )
    try:
        events = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise MessageFormatError("events does not inflate to JSON") from None
    if not isinstance(events, list):
        raise MessageFormatError("events does not inflate to a list")
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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
