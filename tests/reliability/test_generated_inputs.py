"""Generated bad input (hypothesis): the normaliser and the message decoder never crash, and
whatever they let through satisfies the stored schema and limits."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_harness import TZ, unclean_fields
from villages_sync.messages import (
    MessageFormatError,
    decode_message,
    encode_message,
    validate_event_item,
)
from villages_sync.models import EventMessage, RejectReason
from villages_sync.normalise import Rejection, normalise_event, normalise_events, window_for

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
WINDOW = window_for(NOW, TZ, 90)
RUN_ID = "20261124T170000.000000Z-abc123"
EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&amp;lt;b&amp;gt;",
        "<img src=x onerror=alert(1)>",
        "\x00\x07\x1b[31m",
        "\u202egnp.exe",
        "\u200b\u200d\ufeff",
        "line\u2028break\u2029",
        "&#60;iframe&#62;",
        "<<b>>x<</b>>",
        "\ud800",
        "  \t\n ",
    ]
)
TEXT = st.one_of(
    st.text(max_size=300), HOSTILE, st.lists(HOSTILE | st.text(max_size=20)).map("".join)
)
JSON_SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
JSON = st.recursive(
    JSON_SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _instant(offset_minutes: int) -> str:
    moment = NOW.astimezone(UTC) + timedelta(minutes=offset_minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


INSTANT = st.one_of(
    st.integers(-3 * 1440, 95 * 1440).map(_instant),
    st.dates().map(lambda d: d.isoformat()),
    TEXT,
    JSON,
)
API_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.integers(), st.text(max_size=25), JSON),
        "title": st.one_of(TEXT, JSON),
        "description": st.one_of(TEXT, st.text(min_size=3000, max_size=6000), JSON),
        "excerpt": TEXT,
        "category": st.one_of(TEXT, JSON),
        "subcategories": st.one_of(st.lists(TEXT, max_size=30), JSON),
        "start": st.one_of(
            st.fixed_dictionaries(
                {"date": INSTANT}, optional={"type": st.sampled_from(["time", "date"]) | JSON}
            ),
            JSON,
        ),
        "end": st.one_of(st.fixed_dictionaries({"date": INSTANT}), JSON),
        "allDay": JSON,
        "cancelled": JSON,
        "featured": JSON,
        "url": st.one_of(TEXT, st.just("https://example.test/" + "a" * 3000), JSON),
        "location": st.one_of(
            st.fixed_dictionaries({}, optional={"title": TEXT, "category": TEXT}), JSON
        ),
        "address": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"streetAddress": TEXT, "locality": TEXT, "postalCode": JSON}
            ),
            JSON,
        ),
    },
)


def _assert_clean(item: dict) -> None:
    assert unclean_fields(item) == [], {name: item[name] for name in unclean_fields(item)}


@EXAMPLES
@given(raw=st.one_of(API_EVENT, JSON))
def test_normalise_event_arbitrary_api_object_stores_valid_item_or_names_reason(raw, fault_report):
    # Given an arbitrary API event object / When it is normalised
    outcome = normalise_event(raw, tz=TZ, window=WINDOW, last_updated=int(NOW.timestamp()))

    # Then it is rejected with a named reason, or it is a valid, clean, storable item
    fault_report.count_input("API event objects (normaliser)")
    if isinstance(outcome, Rejection):
        assert isinstance(outcome.reason, RejectReason)
        return
    validate_event_item(outcome)
    _assert_clean(outcome)
    round_trip = decode_message(encode_message(EventMessage(RUN_ID, 0, [outcome])))
    assert round_trip.events == [outcome]


@EXAMPLES
@given(raws=st.lists(API_EVENT, max_size=8))
def test_normalise_events_arbitrary_feed_accounts_for_every_event(raws, fault_report):
    # Given an arbitrary feed / When it is normalised
    result = normalise_events(raws, tz=TZ, window=WINDOW, last_updated=0)

    # Then every event is stored (once per id), rejected with a reason, or a repeat of an id
    # already seen (the first occurrence decides): none vanishes
    fault_report.count_input("API feeds (normaliser)")
    ids = [item["event_id"] for item in result.items]
    assert len(ids) == len(set(ids))
    accepted = [
        outcome
        for outcome in (normalise_event(r, tz=TZ, window=WINDOW, last_updated=0) for r in raws)
        if not isinstance(outcome, Rejection)
    ]
    assert set(ids) <= {item["event_id"] for item in accepted}
    assert len(result.items) + len(result.rejections) + result.duplicates == len(raws)
    assert sum(result.rejects.values()) == len(result.rejections)
    # and a rejected event with a usable id is still kept or refreshed (never swept)
    seen_not_stored = set(result.keep) | {item["event_id"] for item in result.refresh}
    for rejection in result.rejections:
        if rejection.event_id:
            assert rejection.event_id in seen_not_stored
    for item in result.items:
        validate_event_item(item)


def _compressed(value: object) -> str:
    return base64.b64encode(zlib.compress(json.dumps(value).encode())).decode()


def _flip(body: str, data: st.DataObject) -> str:
    if not body:
        return body
    index = data.draw(st.integers(0, len(body) - 1))
    return body[:index] + data.draw(st.characters()) + body[index + 1 :]


ENVELOPE = st.fixed_dictionaries(
    {},
    optional={
        "v": st.one_of(st.just(1), JSON),
        "run_id": st.one_of(st.just(RUN_ID), JSON),
        "seq": st.one_of(st.integers(-2, 2_000_000), JSON),
        "n": st.one_of(st.integers(0, 3), JSON),
        "encoding": st.one_of(st.sampled_from(["json", "zlib+base64", "gzip"]), JSON),
        "events": st.one_of(
            st.lists(API_EVENT | JSON, max_size=3),
            st.lists(API_EVENT | JSON, max_size=3).map(_compressed),
            JSON,
        ),
    },
).map(json.dumps)


@EXAMPLES
@given(data=st.data())
def test_decode_message_arbitrary_body_rejects_with_format_error_or_yields_valid_items(
    data, fault_report, make_item
):
    # Given an arbitrary body: text, JSON, a near-miss envelope, or a good message corrupted
    good = encode_message(EventMessage(RUN_ID, 0, [make_item("77"), make_item("78")]))
    body = data.draw(
        st.one_of(
            st.text(max_size=500),
            JSON.map(json.dumps),
            ENVELOPE,
            st.just(good),
            st.builds(lambda: _flip(good, data)),
        )
    )

    # When it is decoded
    fault_report.count_input("message bodies (decoder)")
    try:
        message = decode_message(body)
    except MessageFormatError as error:
        # Then it is refused with a reason
        assert str(error)
        return
    # Or every event it carries is storable within the limits
    for item in message.events:
        validate_event_item(item)
