"""A deterministic, realistic data set in the calendar API's raw shape, for the stand-in.

Times are generated as America/New_York wall-clock times and converted to UTC the way the real
feed writes them (``...T22:00:00.000Z``), so evening shows end after midnight UTC.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from villages_sync.settings import DEFAULT_TIMEZONE

LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)
FIRST_ID = 1_480_000
CATEGORIES = (
    "entertainment",
    "arts-and-crafts",
    "health-and-wellness",
    "recreation",
    "social-clubs",
    "special-events",
    "sports",
)
CANCELLED_SHARE = 0.03
ALL_DAY_SHARE = 0.04


@dataclass(frozen=True, slots=True)
class Venue:
    title: str
    category: str  # the API's location category
    street: str
    lon: float
    lat: float


TOWN_SQUARES = (
    Venue("Spanish Springs Town Square", "town-squares", "Main Street", -81.9503, 28.9404),
    Venue(
        "Lake Sumter Landing Market Square",
        "town-squares",
        "Lake Sumter Landing",
        -81.9745,
        28.9086,
    ),
    Venue(
        "Brownwood Paddock Square", "town-squares", "2705 West Torch Lake Drive", -82.0221, 28.8445
    ),
    Venue("Sawgrass Grove", "town-squares", "766 Marilee Place", -81.9688, 28.7898),
    # On the town-square schedule though no public client's venue list has it
    # (docs/calendar-contract.md): the sync must carry every location it is given, never a
    # hand-kept list.
    Venue("Eastport", "town-squares", "Eastport Run", -81.9580, 28.8330),
)
REC_CENTERS = (
    Venue("Savannah Center", "entertainment", "1545 Buena Vista Boulevard", -81.9871, 28.9322),
    Venue(
        "Laurel Manor Recreation Center",
        "sports-recreation",
        "1985 Laurel Manor Drive",
        -81.9790,
        28.9187,
    ),
    Venue(
        "Colony Cottage Recreation Center",
        "sports-recreation",
        "510 Colony Boulevard",
        -81.9612,
        28.9277,
    ),
    Venue(
        "Eisenhower Recreation Center",
        "sports-recreation",
        "3560 Buena Vista Boulevard",
        -82.0071,
        28.9006,
    ),
    Venue(
        "Bridgeport Recreation Center",
        "sports-recreation",
        "1355 Bridgeport Drive",
        -82.0028,
        28.8753,
    ),
    # Venues seen in public clients (docs/calendar-contract.md, "The response").
    Venue("The Sharon", "entertainment", "1051 Main Street", -81.9519, 28.9395),
    Venue(
        "The Studio Theatre at Tierra Del Sol",
        "entertainment",
        "806 San Marino Drive",
        -81.9561,
        28.9526,
    ),
    Venue(
        "The Show Kitchen at Sawgrass Grove",
        "entertainment",
        "766 Marilee Place",
        -81.9688,
        28.7898,
    ),
    Venue("Polo Club", "sports-recreation", "3000 Polo Club Drive", -81.9886, 28.9046),
)
SPORTS_VENUES = (
    Venue("Saddlebrook Pickleball Complex", "sports", "3010 Saddlebrook Lane", -81.9930, 28.9169),
    Venue(
        "Churchill Greens Executive Golf Course",
        "executive-golf",
        "2850 Buena Vista Boulevard",
        -82.0003,
        28.9078,
    ),
)

BANDS = (
    "The Sunset Cruisers",
    "Neon Jukebox",
    "Gator Bay Band",
    "Midnight Motown Revue",
    "Johnny Blue & The Tailfins",
    "Orange Blossom Express",
    "The Rockin' Retirees",
    "Copper Canyon Country",
    "Soul Shakers",
    "Heartland Highway",
)
GENRES = ("classic-rock", "dance", "motown", "classic-country", "oldies", "blues", "beach-music")
CLUB_ACTIVITIES = (
    ("Canasta Club", "social-clubs"),
    ("Mah Jongg Open Play", "social-clubs"),
    ("Duplicate Bridge", "social-clubs"),
    ("Ukulele Strummers", "arts-and-crafts"),
    ("Woodcarvers Guild", "arts-and-crafts"),
    ("Quilting & Sewing Circle", "arts-and-crafts"),
    ("Photography Club", "arts-and-crafts"),
    ("Tai Chi for Beginners", "health-and-wellness"),
    ("Water Aerobics", "health-and-wellness"),
    ("Chair Yoga", "health-and-wellness"),
    ("Line Dancing Class", "recreation"),
    ("Billiards League", "recreation"),
    ("Pickleball Open Play", "sports"),
    ("Shuffleboard Tournament", "sports"),
    ("Executive Golf Scramble", "sports"),
)
SPECIAL_EVENTS = (
    "Farmers Market",
    "Car Show on the Square",
    "Arts & Crafts Festival",
    "Holiday Parade",
    "Veterans Appreciation Day",
)
BAND_LINES = (
    "A classic dance band playing Country, Rock and Motown hits!",
    "High-energy renditions of classic rock &amp; crowd favorites.",
    "<p>Bring your dancing shoes for an evening of <strong>oldies</strong>.</p>",
    "Florida's favorite beach music\u00a0band.",
)
CLUB_LINES = (
    "All skill levels welcome; bring a friend.",
    "<p>Meets weekly.<br>Resident ID required.</p>",
    "Equipment provided &amp; instruction for newcomers.",
    "Join your neighbors\u00a0for friendly play.",
)


def generate_events(count: int, *, seed: int, today: date, days: int = 90) -> list[dict]:
    """``count`` events on local dates ``today`` .. ``today + days``, sorted as the API lists
    them (by start, then id). Same arguments, same events."""
    rng = random.Random(seed)
    next_id = FIRST_ID + rng.randrange(10_000)
    events = []
    for _ in range(count):
        next_id += rng.randint(1, 37)
        day = today + timedelta(days=rng.randint(0, days))
        events.append(_make_event(rng, next_id, day))
    return sorted(events, key=api_order)


def mutate_events(
    events: list[dict],
    *,
    seed: int,
    added: int,
    removed: int,
    changed: int,
) -> list[dict]:
    """A "next day" version of ``events`` (a new list; the input is not modified): ``removed``
    events gone, ``changed`` events retitled and moved an hour later, ``added`` new events with
    new ids on dates already in the set (or today when the set is empty)."""
    rng = random.Random(seed)
    result = copy.deepcopy(events)
    for index in sorted(rng.sample(range(len(result)), min(removed, len(result))), reverse=True):
        del result[index]
    for event in rng.sample(result, min(changed, len(result))):
        event["title"] = f"{event['title']} (Rescheduled)"
        for end in ("start", "end"):
            moved = _parse_utc(event[end]["date"]) + timedelta(hours=1)
            event[end]["date"] = _format_utc(moved)
    next_id = max((e["id"] for e in events), default=FIRST_ID) + 1_000
    days = sorted({_local_day(e) for e in events}) or [datetime.now(LOCAL_TZ).date()]
    for _ in range(added):
        next_id += rng.randint(1, 37)
        result.append(_make_event(rng, next_id, rng.choice(days)))
    return sorted(result, key=api_order)


def _make_event(rng: random.Random, event_id: int, day: date) -> dict:
    roll = rng.random()
    if roll < ALL_DAY_SHARE:
        return _all_day_event(rng, event_id, day)
    if roll < 0.45:
        venue = rng.choice(TOWN_SQUARES)
        title = rng.choice(BANDS)
        start_hour = rng.choice((16, 17, 17, 18))  # evening shows: end after midnight UTC
        start, end = _local_span(day, time(start_hour), hours=4)
        description = rng.choice(BAND_LINES)
        return _event(
            rng,
            event_id,
            title,
            "entertainment",
            [*sorted(rng.sample(GENRES, 2)), "entertainment"],
            venue,
            start,
            end,
            description,
        )
    title, category = rng.choice(CLUB_ACTIVITIES)
    venue = rng.choice(SPORTS_VENUES if category == "sports" else REC_CENTERS)
    start_time = time(rng.randint(7, 19), rng.choice((0, 15, 30)))
    start, end = _local_span(day, start_time, hours=rng.choice((1, 1.5, 2, 3)))
    description = rng.choice(CLUB_LINES)
    return _event(rng, event_id, title, category, [category], venue, start, end, description)


def _all_day_event(rng: random.Random, event_id: int, day: date) -> dict:
    # How the API writes an all-day start is unknown: both plausible encodings are used, and
    # either way the date part as written is the local date.
    last_day = day + timedelta(days=rng.choice((0, 0, 1, 2)))
    clock = rng.choice(("T00:00:00.000Z", "T05:00:00.000Z"))
    event = _event(
        rng,
        event_id,
        rng.choice(SPECIAL_EVENTS),
        "special-events",
        ["special-events"],
        rng.choice(TOWN_SQUARES),
        day.isoformat() + clock,
        last_day.isoformat() + clock,
        "<p>Vendors, music &amp; food all day.</p>",
    )
    event["allDay"] = True
    event["start"]["type"] = event["end"]["type"] = "date"
    return event


def _event(
    rng: random.Random,
    event_id: int,
    title: str,
    category: str,
    subcategories: list[str],
    venue: Venue,
    start: str,
    end: str,
    description: str,
) -> dict:
    # The real feed is messy: some longitudes come without their minus sign.
    lon = venue.lon if rng.random() < 0.8 else -venue.lon
    image = "" if rng.random() < 0.3 else f"https://images.example.test/{event_id}_600x450.png"
    return {
        "address": {
            "country": "US",
            "locality": "The Villages",
            "postalCode": "" if rng.random() < 0.7 else "32162",
            "region": "FL",
            "streetAddress": venue.street,
        },
        "allDay": False,
        "cancelled": rng.random() < CANCELLED_SHARE,
        "category": category,
        "description": description,
        "end": {"date": end, "type": "time"},
        "enrolement": category in ("arts-and-crafts", "health-and-wellness") and rng.random() < 0.3,
        "excerpt": description.replace("<p>", "").replace("</p>", "")[:80],
        "featured": rng.random() < 0.05,
        "geo": {"type": "Point", "coordinates": [round(lon, 6), round(venue.lat, 6)]},
        "image": image,
        "location": {
            "id": str(uuid.UUID(int=rng.getrandbits(128))).upper(),
            "title": venue.title,
            "category": venue.category,
            "complexId": f"{rng.getrandbits(96):024x}",
            "image": image,
        },
        "otherInfo": "" if rng.random() < 0.9 else "Bring a chair.",
        "start": {"date": start, "type": "time"},
        "subcategories": subcategories,
        "title": title,
        "url": "" if rng.random() < 0.2 else "https://www.thevillagesentertainment.com/",
        "id": event_id,
    }


def _local_span(day: date, start: time, *, hours: float) -> tuple[str, str]:
    local_start = datetime.combine(day, start, tzinfo=LOCAL_TZ)
    local_end = local_start + timedelta(hours=hours)
    return _format_utc(local_start), _format_utc(local_end)


def _format_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC)


def _local_day(event: dict) -> date:
    if event.get("allDay"):
        return date.fromisoformat(event["start"]["date"][:10])
    return _parse_utc(event["start"]["date"]).astimezone(LOCAL_TZ).date()


def api_order(event: object) -> tuple[str, tuple[int, int, str]]:
    """The order the API lists events in: by start, then id.

    Total over any JSON value, so the stand-in can serve garbled events (a start or an id of
    the wrong type, a missing start, an event that is not an object): those sort by their
    JSON text, after the well-formed values. Well-formed events keep their order.
    """
    if not isinstance(event, dict):
        return "\uffff", (2, 0, json.dumps(event, sort_keys=True, default=str))
    start = event.get("start")
    when = start.get("date") if isinstance(start, dict) else None
    when_key = when if isinstance(when, str) else "\uffff" + json.dumps(when, default=str)
    event_id = event.get("id")
    if isinstance(event_id, int) and not isinstance(event_id, bool):
        return when_key, (0, event_id, "")
    return when_key, (1, 0, json.dumps(event_id, sort_keys=True, default=str))
