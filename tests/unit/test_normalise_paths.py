"""The cheap normaliser gives exactly the items the reference path gives (BeautifulSoup for every
text field, strftime, json.dumps, a character-by-character URL check)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from villages_sync import event_fields, event_times, normalise, text
from villages_sync.models import CONTENT_HASH_BYTES
from villages_sync.normalise import normalise_events, window_for
from villages_sync_ops.standin.dataset import generate_events, mutate_events

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)  # the window spans the spring DST change


def _reference_clean_text(value: object, max_chars: int) -> str:
    return text.clean_text(value, max_chars, reference=True)


def _old_url(value: object) -> str:
    """event_fields.clean_url (normalise._url) as it was: every character checked in Python."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    usable = (
        url.startswith(("https://", "http://"))
        and len(url) <= event_fields.URL_MAX_CHARS
        and not any(ch.isspace() or ch in '<>"' or not ch.isprintable() for ch in url)
    )
    return url if usable else ""


def _old_hash(item: dict) -> str:
    hashed = {k: v for k, v in item.items() if k not in normalise._UNHASHED}
    encoded = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(encoded.encode(), digest_size=CONTENT_HASH_BYTES).hexdigest()


def test_normalise_events_generated_data_set_same_items_as_reference_path() -> None:
    # Given the stand-in's generated events, a day later mutated (retitled, moved, added)
    day_one = generate_events(3000, seed=11, today=date(2026, 3, 1))
    raws = day_one + mutate_events(day_one, seed=12, added=100, removed=100, changed=300)
    window = window_for(NOW, TZ, 90)
    arguments = {"tz": TZ, "window": window, "last_updated": int(NOW.timestamp())}

    # When they are normalised by the fast paths and by the reference path
    fast = normalise_events(raws, **arguments)
    with (
        mock.patch.object(normalise, "clean_text", _reference_clean_text),
        mock.patch.object(event_fields, "clean_text", _reference_clean_text),
    ):
        reference = normalise_events(raws, **arguments)

    # Then every item, reject, hash and kept id is the same
    assert fast.items == reference.items
    assert fast.refresh == reference.refresh
    assert fast.keep == reference.keep
    assert fast.rejects == reference.rejects
    assert len(fast.items) > 2500
    assert all(item["content_hash"] == _old_hash(item) for item in fast.items)
    assert all(
        item["start_time"] == datetime.fromisoformat(item["start_iso"]).strftime("%H:%M")
        for item in fast.items
    )


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40).map(lambda rest: "https://" + rest),
        st.text(st.sampled_from(list('htps:/ <>"\t\u00a0\x00\u2028ab.?&=')), max_size=30),
        st.none(),
        st.integers(),
    )
)
def test_url_any_value_same_as_character_by_character_check(value: object) -> None:
    # Given any value in a url field
    # When the new check and the old one read it
    # Then they accept and refuse the same values
    assert event_fields.clean_url(value) == _old_url(value)


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from([TZ, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata"), ZoneInfo("Pacific/Chatham")]),
)
def test_hh_mm_any_moment_same_as_strftime(moment: datetime, zone: ZoneInfo) -> None:
    # Given any aware moment, as the normaliser makes them (any year 1-9999, odd offsets)
    aware = moment.replace(tzinfo=zone)
    # When its time and date are read from its isoformat() text
    iso = aware.isoformat()
    # Then they are what strftime and date().isoformat() give
    assert event_times.hh_mm(iso) == aware.strftime("%H:%M")
    assert iso[:10] == aware.date().isoformat()


def test_normalise_event_all_day_start_late_9999_rejected_with_overflow_detail() -> None:
    # Given an all-day event whose expiry (90 days after its last day) is past year 9999
    raw = {
        "id": 7,
        "title": "Far ahead",
        "allDay": True,
        "start": {"date": "9999-12-20", "type": "date"},
        "end": {"date": "9999-12-21", "type": "date"},
    }
    window = window_for(NOW, TZ, 90)
    # When it is normalised
    outcome = normalise.normalise_event(raw, tz=TZ, window=window, last_updated=0)
    # Then it is refused as an implausible date (issue 18: years away is no date the calendar
    # means; it was outside_window before), naming the overflow
    assert isinstance(outcome, normalise.Rejection)
    assert outcome.reason == normalise.RejectReason.IMPLAUSIBLE_DATE
    assert outcome.detail.startswith("9999-12-20..9999-12-21 is not a date")
