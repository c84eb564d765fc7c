"""Which stored events answer a question (pure): over, in progress, parts of day, DST, multi-day,
cancelled, venue and category. Items are real stored items: raw events through the normaliser."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from support.skill import TZ, at, raw_event
from villages_sync.models import DateWindow
from villages_sync.normalise import normalise_event
from villages_sync.skill.catalog import category_by_id, venue_by_id
from villages_sync.skill.dates import AskedDays, RangeKind
from villages_sync.skill.selection import select_offers
from villages_sync.skill.timeframe import PartOfDay, day_window, event_span

DAY = date(2026, 12, 10)
SS = "Spanish Springs Town Square"


def stored(raw: dict, **extra) -> dict:
    window = DateWindow(DAY - timedelta(days=30), DAY + timedelta(days=60))
    item = normalise_event(raw, tz=TZ, window=window, last_updated=0)
    assert isinstance(item, dict), item
    return {**item, **extra}


def one_day(day: date = DAY) -> AskedDays:
    return AskedDays(day, day, RangeKind.DAY, day)


def titles(offers) -> list[str]:
    return [offer.item["title"] for offer in offers]


def select(items, *, days=None, part=None, venue=None, category=None, now):
    return select_offers(
        items,
        days=days or one_day(now.date()),
        part=part,
        venue=venue,
        category=category,
        now=now,
        tz=TZ,
    )


def test_select_offers_today_skips_what_is_over_and_keeps_what_is_on():
    items = [
        stored(raw_event(1, "Over", SS, at(DAY, 14), at(DAY, 15))),
        stored(raw_event(2, "Running", SS, at(DAY, 15), at(DAY, 17))),
        stored(raw_event(3, "Later", SS, at(DAY, 19), at(DAY, 21))),
    ]

    offers = select(items, now=at(DAY, 16))

    assert titles(offers) == ["Running", "Later"]
    assert [o.in_progress for o in offers] == [True, False]


def test_select_offers_now_means_in_progress_only():
    items = [
        stored(raw_event(1, "Running", SS, at(DAY, 15), at(DAY, 17))),
        stored(raw_event(2, "Later", SS, at(DAY, 19), at(DAY, 21))),
    ]

    assert titles(select(items, part=PartOfDay.NOW, now=at(DAY, 16))) == ["Running"]


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (PartOfDay.MORNING, ["Breakfast Club"]),
        (PartOfDay.AFTERNOON, ["Matinee", "Spans Five"]),
        (PartOfDay.EVENING, ["Spans Five", "Show"]),
        (None, ["Breakfast Club", "Matinee", "Spans Five", "Show"]),
    ],
)
def test_select_offers_parts_of_day_overlap_their_hours(part, expected):
    items = [
        stored(raw_event(1, "Breakfast Club", SS, at(DAY, 8), at(DAY, 9))),
        stored(raw_event(2, "Matinee", SS, at(DAY, 13), at(DAY, 15))),
        stored(raw_event(3, "Spans Five", SS, at(DAY, 16), at(DAY, 18))),
        stored(raw_event(4, "Show", SS, at(DAY, 19), at(DAY, 21))),
    ]

    offers = select(items, days=one_day(), part=part, now=at(DAY - timedelta(days=1), 12))

    assert titles(offers) == expected


def test_select_offers_tonight_asked_at_9pm_starts_at_9pm():
    items = [
        stored(raw_event(1, "Ended at nine", SS, at(DAY, 19), at(DAY, 21))),
        stored(raw_event(2, "Until ten", SS, at(DAY, 20), at(DAY, 22))),
        stored(raw_event(3, "Late", SS, at(DAY, 22), at(DAY, 23))),
    ]

    offers = select(items, part=PartOfDay.EVENING, now=at(DAY, 21))

    assert titles(offers) == ["Until ten", "Late"]


@pytest.mark.parametrize("day", [date(2027, 3, 14), date(2026, 11, 1)], ids=["spring", "fall"])
def test_day_window_evening_is_5pm_local_on_dst_days(day):
    start, end = day_window(day, PartOfDay.EVENING, TZ)

    assert (start.hour, start.minute, start.date()) == (17, 0, day)
    assert (end.hour, end.date()) == (5, day + timedelta(days=1))  # tonight: into the small hours
    assert start.utcoffset() != at(day - timedelta(days=1), 17).utcoffset()


def test_select_offers_cancelled_and_expired_are_never_offered():
    items = [
        stored(raw_event(1, "Cancelled", SS, at(DAY, 19), cancelled=True)),
        stored(raw_event(2, "Expired item", SS, at(DAY, 19)), ttl=0),
        stored(raw_event(3, "On", SS, at(DAY, 19))),
    ]

    assert titles(select(items, now=at(DAY, 8))) == ["On"]


def test_select_offers_multi_day_events_once_on_their_first_asked_day():
    friday, saturday, sunday = DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)
    festival = stored(raw_event(1, "Festival", "Sawgrass Grove", friday, sunday))
    festival["end_date"] = sunday.isoformat()  # issue 9 keeps end_date on all-day items
    fair = stored(raw_event(2, "Fair", SS, at(friday, 10), at(saturday, 16)))
    weekend = AskedDays(saturday, sunday, RangeKind.WEEKEND, saturday)

    # The reader returns a multi-day item once per day it spans: it is offered once
    offers = select([festival, fair, festival, dict(festival)], days=weekend, now=at(saturday, 8))

    assert [(o.item["title"], o.day, o.continuing) for o in offers] == [
        ("Festival", saturday, True),
        ("Fair", saturday, True),
    ]
    on_sunday = select([festival, fair], days=one_day(sunday), now=at(sunday, 8))
    assert titles(on_sunday) == ["Festival"]
    assert event_span(festival, TZ).end == at(sunday + timedelta(days=1), 0)


def test_select_offers_filters_by_venue_and_category():
    items = [
        stored(raw_event(1, "Kitchen show", "The Show Kitchen at Sawgrass Grove", at(DAY, 19))),
        stored(raw_event(2, "Grove band", "Sawgrass Grove", at(DAY, 18))),
        stored(raw_event(3, "Grove golf", "Sawgrass Grove", at(DAY, 9), category="sports")),
        stored(raw_event(4, "Elsewhere", SS, at(DAY, 18))),
    ]

    sawgrass = select(items, venue=venue_by_id("SAWGRASS"), now=at(DAY, 7))
    kitchen = select(items, venue=venue_by_id("SHOW_KITCHEN"), now=at(DAY, 7))
    music = select(
        items,
        venue=venue_by_id("SAWGRASS"),
        category=category_by_id("entertainment"),
        now=at(DAY, 7),
    )

    assert titles(sawgrass) == ["Grove golf", "Grove band", "Kitchen show"]
    assert titles(kitchen) == ["Kitchen show"]
    assert titles(music) == ["Grove band", "Kitchen show"]


def test_event_span_without_an_end_lasts_an_hour():
    item = stored(raw_event(1, "No end", SS, at(DAY, 19)))
    item.pop("end_iso"), item.pop("end_time")

    span = event_span(item, TZ)

    assert (span.start, span.end) == (at(DAY, 19), at(DAY, 20))
