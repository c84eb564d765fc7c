"""normalise_event / normalise_events / window_for / content_hash_of: API events to stored items."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from villages_sync.messages import validate_event_item
from villages_sync.models import DateWindow, RejectReason
from villages_sync.normalise import (
    Rejection,
    content_hash_of,
    normalise_event,
    normalise_events,
    window_for,
)

TZ = ZoneInfo("America/New_York")
WINDOW = DateWindow(first=date(2026, 1, 1), last=date(2026, 12, 31))
LAST_UPDATED = 1_795_000_000


def raw_event(event_id: object = 4242, **fields: Any) -> dict[str, Any]:
    """An upstream event in the calendar API's shape (our own fixture data)."""
    event: dict[str, Any] = {
        "id": event_id,
        "title": "Evening Concert on the Square",
        "description": "<p>Live music &amp; dancing.</p>",
        "excerpt": "Live music",
        "allDay": False,
        "start": {"date": "2026-11-14T22:00:00.000Z", "type": "datetime"},
        "end": {"date": "2026-11-15T02:00:00.000Z", "type": "datetime"},
        "location": {"title": "Spanish Springs Town Square", "category": "Town Square"},
        "address": {
            "streetAddress": "1000 Main St",
            "locality": "The Villages",
            "region": "FL",
            "postalCode": "32159",
        },
        "category": "Entertainment",
        "subcategories": ["Classic Rock"],
        "url": "https://example.test/events/4242",
        "cancelled": False,
        "featured": False,
    }
    event.update(fields)
    return event


def normalise(raw: object, window: DateWindow = WINDOW) -> Any:
    return normalise_event(raw, tz=TZ, window=window, last_updated=LAST_UPDATED)


def test_normalise_event_evening_show_local_date_and_times() -> None:
    # Given a show 22:00Z-02:00Z in November (EST, UTC-5)
    raw = raw_event()
    # When it is normalised
    item = normalise(raw)
    # Then it is on the 22:00Z day's local date, 17:00-21:00, ending the same local day
    assert item["event_id"] == "4242"
    assert item["event_date"] == "2026-11-14"
    assert item["start_time"] == "17:00"
    assert item["end_time"] == "21:00"
    assert "end_date" not in item
    assert item["start_iso"] == "2026-11-14T17:00:00-05:00"
    assert item["description"] == "Live music & dancing."
    assert item["location"] == "Spanish Springs Town Square"
    assert item["venue_category"] == "Town Square"
    assert item["category"] == "entertainment"
    assert item["subcategories"] == ["classic rock"]
    assert item["last_updated"] == LAST_UPDATED
    assert item["content_hash"] == content_hash_of(item)


@pytest.mark.parametrize(
    ("start", "event_date", "start_time", "offset"),
    [
        ("2026-07-04T23:00:00.000Z", "2026-07-04", "19:00", "-04:00"),
        ("2026-01-15T23:00:00.000Z", "2026-01-15", "18:00", "-05:00"),
        ("2026-03-08T06:30:00.000Z", "2026-03-08", "01:30", "-05:00"),
        ("2026-03-08T07:30:00.000Z", "2026-03-08", "03:30", "-04:00"),
        ("2026-11-01T05:30:00.000Z", "2026-11-01", "01:30", "-04:00"),
        ("2026-11-01T06:30:00.000Z", "2026-11-01", "01:30", "-05:00"),
        ("2026-11-25T03:00:00.000Z", "2026-11-24", "22:00", "-05:00"),
    ],
)
def test_normalise_event_utc_instant_local_time_with_dst_offset(
    start: str, event_date: str, start_time: str, offset: str
) -> None:
    # Given an event starting at a UTC instant in summer, winter or on a DST change day
    raw = raw_event(start={"date": start, "type": "datetime"}, end=None)
    # When it is normalised
    item = normalise(raw)
    # Then local date, time and the offset in force at that instant are stored
    assert item["event_date"] == event_date
    assert item["start_time"] == start_time
    assert item["start_iso"] == f"{event_date}T{start_time}:00{offset}"
    assert "end_time" not in item


@pytest.mark.parametrize(
    ("start", "extra"),
    [
        ({"date": "2026-11-20T05:00:00.000Z", "type": "datetime"}, {"allDay": True}),
        ({"date": "2026-11-20T00:00:00.000Z", "type": "datetime"}, {"allDay": True}),
        ({"date": "2026-11-20T00:00:00.000Z", "type": "date"}, {"allDay": False}),
        ({"date": "2026-11-20", "type": "date"}, {}),
    ],
)
def test_normalise_event_all_day_keeps_written_date_without_end(
    start: dict[str, str], extra: dict[str, Any]
) -> None:
    # Given an all-day event (allDay true or start.type "date"), midnight encoded either way
    raw = raw_event(start=start, end={"date": "2026-11-21T04:59:59.000Z"}, **extra)
    # When it is normalised
    item = normalise(raw)
    # Then the date as written is kept, at 00:00, with no end
    assert item["all_day"] is True
    assert item["event_date"] == "2026-11-20"
    assert item["start_time"] == "00:00"
    assert "end_time" not in item
    assert "end_iso" not in item
    assert "end_date" not in item


def test_normalise_event_long_text_truncated_to_limits() -> None:
    # Given a very long title and description
    raw = raw_event(title="T " * 300, description="D " * 3000)
    # When it is normalised
    item = normalise(raw)
    # Then title is at most 200 and description at most 2000 characters, marked as cut
    assert 150 < len(item["title"]) <= 200
    assert item["title"].endswith("…")
    assert 1900 < len(item["description"]) <= 2000
    assert item["description"].endswith("…")


@pytest.mark.parametrize("description", [None, "", "<p></p>"])
def test_normalise_event_no_description_falls_back_to_excerpt(description: object) -> None:
    # Given an event without a usable description but with an excerpt
    raw = raw_event(description=description, excerpt="<b>Short</b> excerpt")
    # When it is normalised
    item = normalise(raw)
    # Then the excerpt is used
    if description == "<p></p>":
        # A description that is markup only is still a description (cleaned to "")
        assert item["description"] == ""
    else:
        assert item["description"] == "Short excerpt"


NARROW = DateWindow(first=date(2026, 11, 10), last=date(2026, 11, 20))


@pytest.mark.parametrize(
    ("raw", "reason", "event_id"),
    [
        ("not an event", RejectReason.NOT_AN_OBJECT, None),
        ([1, 2], RejectReason.NOT_AN_OBJECT, None),
        ({"title": "No id"}, RejectReason.MISSING_ID, None),
        (raw_event(event_id=None), RejectReason.MISSING_ID, None),
        (raw_event(event_id=True), RejectReason.BAD_ID, None),
        (raw_event(event_id=-5), RejectReason.BAD_ID, None),
        (raw_event(event_id="12a"), RejectReason.BAD_ID, None),
        (raw_event(event_id="9" * 5000), RejectReason.ID_TOO_LONG, None),
        (raw_event(event_id=10**5000), RejectReason.ID_TOO_LONG, None),
        (raw_event(event_id="1" * 21), RejectReason.ID_TOO_LONG, None),
        (raw_event(event_id={"id": 1}), RejectReason.BAD_ID, None),
        (raw_event(cancelled="maybe"), RejectReason.BAD_FLAG, "4242"),
        (raw_event(allDay=2), RejectReason.BAD_FLAG, "4242"),
        (raw_event(featured={"x": 1}), RejectReason.BAD_FLAG, "4242"),
        (raw_event(title=None), RejectReason.MISSING_TITLE, "4242"),
        (raw_event(title="<p> </p>"), RejectReason.MISSING_TITLE, "4242"),
        (raw_event(start=None), RejectReason.MISSING_START, "4242"),
        (raw_event(start={"date": "  "}), RejectReason.MISSING_START, "4242"),
        (raw_event(start={"date": "next tuesday"}), RejectReason.BAD_START, "4242"),
        (raw_event(start={"date": "2026-02-30T10:00:00Z"}), RejectReason.BAD_START, "4242"),
        (
            raw_event(
                start={"date": "2026-11-09T12:00:00.000Z"}, end={"date": "2026-11-09T14:00:00Z"}
            ),
            RejectReason.OUTSIDE_WINDOW,
            "4242",
        ),
        (
            raw_event(start={"date": "2026-11-21T12:00:00.000Z"}),
            RejectReason.OUTSIDE_WINDOW,
            "4242",
        ),
        (
            # 2026-11-21T03:00Z is still the 20th locally, so inside; 05:00Z is the 21st
            raw_event(start={"date": "2026-11-21T05:00:00.000Z"}),
            RejectReason.OUTSIDE_WINDOW,
            "4242",
        ),
    ],
)
def test_normalise_event_invalid_raw_rejection_with_reason_and_id(
    raw: object, reason: RejectReason, event_id: str | None
) -> None:
    # Given an upstream event that cannot be stored
    # When it is normalised
    outcome = normalise(raw, NARROW)
    # Then it is a Rejection naming the reason and, where known, the event id
    assert isinstance(outcome, Rejection)
    assert outcome.reason == reason
    assert outcome.event_id == event_id
    assert outcome.detail


@pytest.mark.parametrize(
    ("start", "expected_date"),
    [("2026-11-10T05:00:00.000Z", "2026-11-10"), ("2026-11-21T03:00:00.000Z", "2026-11-20")],
)
def test_normalise_event_window_edges_inclusive_kept(start: str, expected_date: str) -> None:
    # Given events on the first and last local days of the window
    raw = raw_event(start={"date": start}, end=None)
    # When they are normalised
    item = normalise(raw, NARROW)
    # Then they are kept
    assert item["event_date"] == expected_date


def test_normalise_event_end_before_start_end_dropped_event_kept() -> None:
    # Given an event whose end is before its start
    raw = raw_event(end={"date": "2026-11-14T20:00:00.000Z"})
    # When it is normalised
    item = normalise(raw)
    # Then the event is kept without end fields
    assert item["start_time"] == "17:00"
    assert not {"end_time", "end_iso", "end_date"} & set(item)


def test_normalise_event_ends_next_local_day_end_date_set() -> None:
    # Given an event 23:00 local to 01:00 local the next day
    raw = raw_event(
        start={"date": "2026-11-15T04:00:00.000Z"}, end={"date": "2026-11-15T06:00:00.000Z"}
    )
    # When it is normalised
    item = normalise(raw)
    # Then end_date is the later local date
    assert item["event_date"] == "2026-11-14"
    assert item["end_time"] == "01:00"
    assert item["end_date"] == "2026-11-15"
    assert item["end_iso"] == "2026-11-15T01:00:00-05:00"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.test/e/1", True),
        ("http://example.test/e/1", True),
        # a query parameter named like an HTML entity is kept as given, not decoded into "©"
        ("https://example.org/event?id=7&copy=2", True),
        ("javascript:alert(1)", False),
        ("ftp://example.test/x", False),
        ("example.test/e/1", False),
        (None, False),
        (123, False),
    ],
)
def test_normalise_event_url_only_http_kept(url: object, kept: bool) -> None:
    # Given an event with some url
    raw = raw_event(url=url)
    # When it is normalised
    item = normalise(raw)
    # Then only http(s) urls are kept
    assert item.get("url") == (url if kept else None)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (
            {
                "streetAddress": "1 Main St",
                "locality": "The Villages",
                "region": "FL",
                "postalCode": "32159",
            },
            "1 Main St, The Villages, FL 32159",
        ),
        ({"locality": "The Villages", "region": "FL"}, "The Villages, FL"),
        ({"streetAddress": "1 Main St", "postalCode": "32159"}, "1 Main St, 32159"),
        ({"locality": "Lady Lake"}, "Lady Lake"),
        ({}, None),
    ],
)
def test_normalise_event_address_parts_present_assembled(
    parts: dict[str, str], expected: str | None
) -> None:
    # Given an address with only some parts
    raw = raw_event(address=parts)
    # When it is normalised
    item = normalise(raw)
    # Then the address is made of the parts present (and omitted when there are none)
    assert item.get("address") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        (" TRUE ", True),
        ("False", False),
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        (None, False),
    ],
)
def test_normalise_event_flags_booleans_and_their_spellings(value: object, expected: bool) -> None:
    # Given cancelled/featured flags sent as booleans, or as the strings and numbers an API
    # might send for one (issue 9, case 5)
    raw = raw_event(cancelled=value, featured=value)
    # When it is normalised
    item = normalise(raw)
    # Then each is read as the boolean it spells
    assert item["cancelled"] is expected
    assert item["featured"] is expected


def test_normalise_event_ttl_local_midnight_90_days_after() -> None:
    # Given an event on 2026-11-14 local
    raw = raw_event()
    # When it is normalised
    item = normalise(raw)
    # Then ttl is local midnight of 2027-02-12 (90 days later, EST)
    expected = datetime(2027, 2, 12, 5, 0, tzinfo=UTC)
    assert item["ttl"] == int(expected.timestamp())


def test_normalise_events_duplicates_and_rejects_first_kept_and_counted() -> None:
    # Given a mix of valid, duplicate and invalid events
    raws = [
        raw_event(1, title="First"),
        raw_event(2),
        raw_event(1, title="Second copy"),
        "junk",
        7,
        raw_event(3, title=""),
        raw_event(4, start={"date": "2028-01-01T12:00:00Z"}),
    ]
    # When they are normalised together
    result = normalise_events(raws, tz=TZ, window=WINDOW, last_updated=LAST_UPDATED)
    # Then each id is kept once (first wins) and rejects are counted by reason
    assert [(i["event_id"], i["title"]) for i in result.items] == [
        ("1", "First"),
        ("2", "Evening Concert on the Square"),
    ]
    assert result.rejects == {"not_an_object": 2, "missing_title": 1, "outside_window": 1}
    assert [r.event_id for r in result.rejections] == [None, None, "3", "4"]


def test_content_hash_of_title_changes_hash_changes() -> None:
    # Given an item and a copy with a different title
    item = normalise(raw_event())
    changed = {**item, "title": "Another title"}
    # When their hashes are computed
    # Then they differ
    assert content_hash_of(changed) != content_hash_of(item)


def test_content_hash_of_last_updated_and_ttl_changes_hash_same() -> None:
    # Given an item and a copy only refreshed (last_updated, ttl)
    item = normalise(raw_event())
    refreshed = {**item, "last_updated": LAST_UPDATED + 3600, "ttl": item["ttl"] + 86400}
    # When their hashes are computed
    # Then they are equal
    assert content_hash_of(refreshed) == content_hash_of(item)
    assert len(content_hash_of(item)) == 32


@pytest.mark.parametrize(
    ("now", "first"),
    [
        (datetime(2026, 11, 25, 3, 0, tzinfo=UTC), date(2026, 11, 24)),
        (datetime(2026, 11, 25, 5, 0, tzinfo=UTC), date(2026, 11, 25)),
        (datetime(2026, 7, 1, 3, 59, tzinfo=UTC), date(2026, 6, 30)),
        (datetime(2026, 7, 1, 4, 0, tzinfo=UTC), date(2026, 7, 1)),
    ],
)
def test_window_for_utc_now_local_date_window(now: datetime, first: date) -> None:
    # Given an instant late in the evening in New York (already tomorrow in UTC)
    # When the window is computed
    window = window_for(now, TZ, 14)
    # Then it starts on the local date and spans 15 days inclusive
    assert window.first == first
    assert window.last == first + timedelta(days=14)
    assert len(window.days()) == 15


def test_normalise_event_subcategory_lengthened_by_lowering_passes_consumer_rules() -> None:
    # Given a subcategory that lengthens when lower-cased ("İ" is two characters in lower case)
    raw = raw_event(subcategories=["İ" * 100, "Rock"])
    # When it is normalised
    item = normalise(raw)
    # Then it is cut after lowering, so the item passes the consumer's validator
    validate_event_item(item)
    assert len(item["subcategories"][0]) <= 100
    assert item["subcategories"][1] == "rock"


@pytest.mark.parametrize(
    ("start", "end", "expected_end_date"),
    [
        # local midnight in UTC, ending at the end of the 22nd (three days)
        ("2026-11-20T05:00:00.000Z", "2026-11-23T04:59:59.000Z", "2026-11-22"),
        # an end written like the start (same midnight encoding) names the last day
        ("2026-11-20T05:00:00.000Z", "2026-11-22T05:00:00.000Z", "2026-11-22"),
        ("2026-11-20T00:00:00.000Z", "2026-11-22T00:00:00.000Z", "2026-11-22"),
        # floating midnight, ending at 23:59:59 on the 22nd
        ("2026-11-20T00:00:00.000Z", "2026-11-22T23:59:59.000Z", "2026-11-22"),
        # a bare date is the last day itself
        ("2026-11-20", "2026-11-22", "2026-11-22"),
    ],
)
def test_normalise_event_all_day_multi_day_keeps_end_date(
    start: str, end: str, expected_end_date: str
) -> None:
    # Given a three-day all-day festival, its dates encoded in each way seen or guessed
    raw = raw_event(allDay=True, start={"date": start}, end={"date": end})
    # When it is normalised
    item = normalise(raw)
    # Then it starts on the 20th, keeps its last day, and is on the multi-day index
    assert (item["event_date"], item["end_date"]) == ("2026-11-20", expected_end_date)
    assert item["span"] == "multi-day"
    assert "end_time" not in item


def test_normalise_event_all_day_as_string_floating_midnight_keeps_its_date() -> None:
    # Given "allDay": "true" with a floating midnight start (issue 9, case 5)
    raw = raw_event(allDay="true", start={"date": "2026-12-01T00:00:00.000Z"}, end=None)
    # When it is normalised
    item = normalise(raw)
    # Then it is an all-day event on the date as written, not the previous evening
    assert (item["all_day"], item["event_date"], item["start_time"]) == (
        True,
        "2026-12-01",
        "00:00",
    )


def test_normalise_event_in_progress_multi_day_is_inside_the_window() -> None:
    # Given a festival that started before the window and ends inside it
    raw = raw_event(start={"date": "2026-11-08T15:00:00Z"}, end={"date": "2026-11-12T22:00:00Z"})
    # When it is normalised for a window starting on the 10th
    item = normalise(raw, window=NARROW)
    # Then it is kept, dated from its start, and reaches the 12th
    assert (item["event_date"], item["end_date"], item["span"]) == (
        "2026-11-08",
        "2026-11-12",
        "multi-day",
    )


_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**6000), max_value=10**6000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
    | st.sampled_from(["9" * 5000, "true", "2026/12/01 22:00:00 UTC", "<b>x</b>", "\ud800"])
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = ("id", "title", "description", "excerpt", "allDay", "cancelled", "featured", "start",
           "end", "location", "address", "category", "subcategories", "url")  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    base=st.just(raw_event()),
    replaced=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=4),
    start=st.one_of(st.none(), st.dictionaries(st.sampled_from(["date", "type"]), _JSON)),
)
def test_normalise_event_any_json_value_never_raises_and_passes_consumer_rules(
    base: dict[str, Any], replaced: dict[str, Any], start: dict[str, Any] | None
) -> None:
    # Given an event whose fields hold any JSON value (huge numbers, nested objects, ...)
    raw = {**base, **replaced}
    if start is not None:
        raw["start"] = start
    # When it is normalised
    outcome = normalise(raw)
    # Then it never raises, and an item it returns is one the consumer accepts
    if not isinstance(outcome, Rejection):
        validate_event_item(outcome)
    else:
        assert outcome.reason in set(RejectReason)


def test_normalise_events_listed_but_outside_window_never_a_deletion_candidate() -> None:
    # Given a feed listing one event dated before the window (its start moved into the past),
    # one later than it, one invalid with a usable id, and one valid inside it
    raws = [
        raw_event(event_id=1, start={"date": "2026-11-05T15:00:00Z"}, end=None),
        raw_event(event_id=2, start={"date": "2027-03-01T15:00:00Z"}, end=None),
        raw_event(event_id=3, start={"date": "2026/11/12 22:00:00 UTC"}),
        raw_event(event_id=4, start={"date": "2026-11-12T15:00:00Z"}, end=None),
    ]
    # When they are normalised for a window of the 10th to the 20th
    result = normalise_events(raws, tz=TZ, window=NARROW, last_updated=LAST_UPDATED)
    # Then only the valid one is upserted; the invalid one is kept (its stored copy stays), the
    # ones dated outside the window refresh a stored copy to their new date: none is left for
    # the sweep to miss
    assert [item["event_id"] for item in result.items] == ["4"]
    assert result.keep == ["3"]
    assert [item["event_id"] for item in result.refresh] == ["1", "2"]
    assert result.invalid == 1  # only the bad start: outside the window is not invalid


def test_normalise_event_invalid_but_dated_outside_window_is_outside_window() -> None:
    # Given an untitled placeholder for next year's programme, far outside the window
    raw = raw_event(title="", start={"date": "2027-08-01T15:00:00Z"}, end=None)
    # When it is normalised for a window of the 10th to the 20th
    outcome = normalise(raw, window=NARROW)
    # Then it is outside the window (not invalid: it must not make a clean window degraded)
    assert outcome.reason == RejectReason.OUTSIDE_WINDOW
    assert outcome.event_id == "4242"


def test_normalise_event_long_event_expires_after_its_last_day() -> None:
    # Given a 150-day market season that started 100 days before the window
    raw = raw_event(
        allDay=True, start={"date": "2026-08-02T05:00:00Z"}, end={"date": "2026-12-30T05:00:00Z"}
    )
    # When it is normalised
    item = normalise(raw, window=NARROW)
    # Then its ttl is 90 days after its last day, not its first
    last_day = datetime(2026, 12, 30, tzinfo=TZ)
    assert item["ttl"] == int((last_day + timedelta(days=90)).timestamp())


@pytest.mark.parametrize(
    ("end", "multi_day"),
    [
        ("2026-11-15T05:30:00.000Z", False),  # 21:00-00:30: a late dance
        ("2026-11-15T10:00:00.000Z", False),  # ends 05:00
        ("2026-11-15T14:00:00.000Z", True),  # ends 09:00 next day
        ("2026-11-17T02:00:00.000Z", True),  # three evenings
    ],
)
def test_normalise_event_past_midnight_is_not_multi_day(end: str, multi_day: bool) -> None:
    # Given an event starting at 21:00 local on the 14th and ending on a later date
    raw = raw_event(start={"date": "2026-11-15T02:00:00.000Z"}, end={"date": end})
    # When it is normalised
    item = normalise(raw)
    # Then it is on the days after its start only when it runs past the early morning
    assert item["event_date"] == "2026-11-14"
    assert ("span" in item) is multi_day


def test_normalise_event_integral_float_id_is_the_same_id() -> None:
    # Given an id sent as 2000010.0 (a serialiser's change of type)
    # When / Then it is the same id as 2000010
    assert normalise(raw_event(event_id=2000010.0))["event_id"] == "2000010"
    assert normalise(raw_event(event_id=2000010.5)).reason == RejectReason.BAD_ID


@pytest.mark.parametrize(
    "start",
    [
        "1970-01-01T00:00:00Z",  # a null date serialised as the epoch
        "2025-11-30T12:00:00Z",  # a month and a day before the window: a garbled year or month
        "2029-01-05T12:00:00Z",  # years after the window
        "9998-06-01T12:00:00Z",
    ],
)
def test_normalise_event_implausible_start_rejected_id_kept_never_refreshed(start: str) -> None:
    # Given a listed event whose start no calendar entry can mean
    raw = raw_event(start={"date": start}, end=None)
    # When it is normalised alone and in a run
    outcome = normalise(raw)
    result = normalise_events([raw], tz=TZ, window=WINDOW, last_updated=LAST_UPDATED)
    # Then it is an implausible_date reject: counted as invalid (the degraded ratio), its id kept
    # so the stored copy stays, and no item to refresh that copy with (no ttl from the epoch)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == RejectReason.IMPLAUSIBLE_DATE
    assert outcome.item is None
    assert (result.keep, result.refresh, result.invalid) == (["4242"], [], 1)


def test_normalise_event_implausible_end_of_a_multi_day_event_rejected() -> None:
    # Given an event starting in the window whose end reads years away
    raw = raw_event(end={"date": "4000-01-01T00:00:00Z"})
    # When it is normalised
    outcome = normalise(raw)
    # Then it is rejected as implausible rather than stored with a ttl in the year 4000
    assert isinstance(outcome, Rejection)
    assert outcome.reason == RejectReason.IMPLAUSIBLE_DATE


@pytest.mark.parametrize("days_before", [1, 2, 31])
def test_normalise_event_recently_past_start_is_outside_window_with_live_ttl(
    days_before: int,
) -> None:
    # Given an event moved into the recent past (up to a month before the window)
    start = datetime.combine(WINDOW.first - timedelta(days=days_before), datetime.min.time())
    raw = raw_event(start={"date": start.replace(hour=17, tzinfo=UTC).isoformat()}, end=None)
    # When it is normalised
    outcome = normalise(raw)
    # Then it is outside the window, with an item to refresh the stored copy whose ttl is
    # still ahead of the window's first day (never a ttl already past)
    assert isinstance(outcome, Rejection)
    assert outcome.reason == RejectReason.OUTSIDE_WINDOW
    first = datetime.combine(WINDOW.first, datetime.min.time(), tzinfo=TZ).timestamp()
    assert outcome.item is not None and outcome.item["ttl"] > first
