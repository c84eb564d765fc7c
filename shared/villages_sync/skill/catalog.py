"""The venues, categories and parts of day the skill's interaction model knows, with synonyms.

This is the source of the model's VENUE, CATEGORY and PART_OF_DAY slot types:
``tools/interaction_model.py`` writes them into ``skill-package/interactionModels/custom/
en-US.json`` (a unit test fails when the file is behind). A venue's ``name`` is its title in the
calendar; ``also_titled`` lists other titles the calendar has used for the same place.
``villages-sync skill venues`` lists the venues in the table that no entry here hosts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Venue:
    id: str  # the slot value's id: what entity resolution returns
    name: str  # the slot value: the venue's title in the calendar
    spoken: str  # how the skill says it
    synonyms: tuple[str, ...] = ()
    also_titled: tuple[str, ...] = ()

    def hosts(self, location: str) -> bool:
        """True when an event titled at ``location`` takes place here (``Sawgrass Grove`` hosts
        ``The Show Kitchen at Sawgrass Grove``)."""
        place = " ".join(location.casefold().split())
        return any(title.casefold() in place for title in (self.name, *self.also_titled))


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of event a listener asks for: one of the calendar's categories ("sports"), or a
    narrower word ("golf", "parades", "concerts") matched in an event's title, description and
    subcategories, so that a specific word narrows the answer rather than widening it."""

    id: str  # the calendar's category as stored on each event, or a narrow word's id (GOLF)
    name: str  # the slot value
    noun: str  # "sports event": said as "3 sports events"; "concert": "3 concerts"
    synonyms: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # narrow: word stems, any of which an event's text must hold
    within: tuple[str, ...] = ()  # narrow: only events of these calendar categories
    not_words: tuple[str, ...] = ()  # narrow: events whose text holds these are not meant

    @property
    def narrow(self) -> bool:
        return bool(self.words)

    @property
    def plural(self) -> str:
        return _plural(self.noun)

    def matches(self, item: Mapping[str, Any]) -> bool:
        category = str(item.get("category", ""))
        if not self.narrow:
            return category == self.id
        if self.within and category not in self.within:
            return False
        text = _searchable(item)
        return _any_word(self.words, text) and not _any_word(self.not_words, text)


def _searchable(item: Mapping[str, Any]) -> str:
    subcategories = " ".join(str(s) for s in item.get("subcategories") or ())
    parts = (item.get("title"), item.get("description"), subcategories)
    return " ".join(str(part or "") for part in parts).casefold().replace("-", " ")


def _any_word(stems: tuple[str, ...], text: str) -> bool:
    return any(re.search(rf"\b{re.escape(stem)}", text) for stem in stems)


def _plural(noun: str) -> str:
    if noun.endswith(("s", "sh", "ch")):
        return f"{noun}es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return f"{noun[:-1]}ies"
    return f"{noun}s"


def _rec_center(key: str, place: str, *extra: str) -> Venue:
    """A recreation center, with the short names residents use ("Paradise rec")."""
    names = (place, f"{place} rec", f"{place} rec center", f"the {place} rec center")
    return Venue(key, f"{place} Recreation Center", place, (*names, *extra))


VENUES: tuple[Venue, ...] = (
    Venue(
        "TOWN_SQUARES",
        "the town squares",
        "the town squares",
        ("town squares", "the squares", "a town square", "any town square"),
        also_titled=(
            "Spanish Springs Town Square",
            "Lake Sumter Landing Market Square",
            "Brownwood Paddock Square",
            "Sawgrass Grove",
            "Eastport",
        ),
    ),
    Venue(
        "SPANISH_SPRINGS",
        "Spanish Springs Town Square",
        "Spanish Springs",
        ("Spanish Springs", "Spanish Springs Square", "the Spanish Springs square"),
    ),
    Venue(
        "LAKE_SUMTER",
        "Lake Sumter Landing Market Square",
        "Lake Sumter Landing",
        ("Lake Sumter", "Lake Sumter Landing", "Market Square", "Lake Sumter Market Square"),
    ),
    Venue(
        "BROWNWOOD",
        "Brownwood Paddock Square",
        "Brownwood",
        ("Brownwood", "Paddock Square", "Brownwood Square", "Brownwood Paddock"),
    ),
    Venue("SAWGRASS", "Sawgrass Grove", "Sawgrass Grove", ("Sawgrass", "the Sawgrass square")),
    Venue(
        "SHOW_KITCHEN",
        "The Show Kitchen at Sawgrass Grove",
        "the Show Kitchen",
        ("Show Kitchen", "the Show Kitchen", "Sawgrass Show Kitchen"),
    ),
    Venue("EASTPORT", "Eastport", "Eastport", ("Eastport square", "Eastport town square")),
    Venue(
        "SHARON",
        "The Sharon",
        "the Sharon",
        (
            "Sharon",
            "the Sharon Morse",
            "Sharon Morse Performing Arts Center",
            "the performing arts center",
        ),
        also_titled=("Sharon L. Morse",),
    ),
    Venue(
        "STUDIO_THEATRE",
        "The Studio Theatre at Tierra Del Sol",
        "the Studio Theatre",
        ("Studio Theatre", "Studio Theater", "Tierra Del Sol", "the Tierra Del Sol theater"),
    ),
    Venue(
        "SAVANNAH",
        "Savannah Center",
        "Savannah Center",
        ("Savannah", "Savannah Recreation", "Savannah Recreation Center", "Savannah rec center"),
        also_titled=("Savannah Recreation",),
    ),
    Venue("POLO_CLUB", "Polo Club", "the Polo Club", ("Villages Polo Club", "polo", "polo field")),
    Venue(
        "LAUREL_MANOR",
        "Laurel Manor Recreation Center",
        "Laurel Manor",
        ("Laurel Manor", "Laurel Manor rec", "Laurel Manor rec center"),
    ),
    Venue(
        "COLONY_COTTAGE",
        "Colony Cottage Recreation Center",
        "Colony Cottage",
        ("Colony Cottage", "Colony Cottage rec", "Colony Cottage rec center"),
    ),
    Venue(
        "EISENHOWER",
        "Eisenhower Recreation Center",
        "Eisenhower",
        ("Eisenhower", "Eisenhower rec", "Eisenhower rec center"),
    ),
    Venue(
        "BRIDGEPORT",
        "Bridgeport Recreation Center",
        "Bridgeport",
        ("Bridgeport", "Bridgeport rec", "Bridgeport rec center"),
    ),
    _rec_center("PARADISE", "Paradise"),
    _rec_center("LA_HACIENDA", "La Hacienda"),
    _rec_center("CHULA_VISTA", "Chula Vista"),
    _rec_center("EL_SANTIAGO", "El Santiago"),
    _rec_center("LAKE_MIONA", "Lake Miona"),
    _rec_center("MULBERRY_GROVE", "Mulberry Grove", "Mulberry"),
    _rec_center("ROHAN", "Rohan"),
    _rec_center("SEABREEZE", "SeaBreeze", "Sea Breeze"),
    _rec_center("EVERGLADES", "Everglades"),
    _rec_center("BIG_CYPRESS", "Big Cypress"),
    _rec_center("COCONUT_COVE", "Coconut Cove"),
    Venue(
        "SADDLEBROOK",
        "Saddlebrook Pickleball Complex",
        "Saddlebrook",
        ("Saddlebrook", "Saddlebrook pickleball", "the pickleball complex"),
    ),
    Venue(
        "CHURCHILL_GREENS",
        "Churchill Greens Executive Golf Course",
        "Churchill Greens",
        ("Churchill Greens", "Churchill Greens golf course"),
    ),
    Venue(
        "GLENVIEW",
        "Glenview Championship Golf Course",
        "Glenview",
        ("Glenview", "Glenview golf course", "Glenview Country Club"),
    ),
    Venue("KATIE_BELLE", "Katie Belle's", "Katie Belle's", ("Katie Belle", "Katie Belles")),
    Venue(
        "OLD_MILL",
        "Old Mill Playhouse",
        "the Old Mill Playhouse",
        ("Old Mill", "the Old Mill", "Old Mill theater"),
    ),
    Venue(
        "BARNSTORM",
        "Barnstorm Theater",
        "the Barnstorm Theater",
        ("Barnstorm", "the Barnstorm", "Barnstorm Theatre"),
    ),
)

_MUSIC = ("band", "concert", "music", "singer", "orchestra", "choir", "jazz", "blues", "rock")
_MUSIC_GENRES = ("motown", "country", "oldies", "doo wop", "tribute", "swing", "big band")

CATEGORIES: tuple[Category, ...] = (
    Category(
        "entertainment",
        "entertainment",
        "entertainment event",
        ("show", "shows", "performances", "something to see"),
    ),
    Category(
        "arts-and-crafts",
        "arts and crafts",
        "arts and crafts event",
        ("arts", "crafts", "art", "craft", "art classes"),
    ),
    Category(
        "health-and-wellness",
        "health and wellness",
        "health and wellness event",
        ("health", "wellness", "fitness", "exercise", "exercise classes"),
    ),
    Category("recreation", "recreation", "recreation event", ("games",)),
    Category("social-clubs", "social clubs", "club meeting", ("clubs", "club meetings")),
    Category(
        "special-events",
        "special events",
        "special event",
        ("special event", "big events"),
    ),
    Category("sports", "sports", "sports event", ("sport", "sporting events")),
    # Narrow words: a listener who says "golf" means golf, not every sports event.
    Category(
        "CONCERTS",
        "concerts",
        "concert",
        ("concert", "music", "live music", "band", "bands", "bands playing"),
        words=(*_MUSIC, *_MUSIC_GENRES),
        within=("entertainment",),
        not_words=("karaoke", "magic", "comedy", "comedian", "movie", "bingo", "trivia"),
    ),
    Category("GOLF", "golf", "golf event", ("golfing", "golf tournaments"), words=("golf",)),
    Category(
        "PICKLEBALL",
        "pickleball",
        "pickleball event",
        ("pickle ball", "pickleball games"),
        words=("pickleball", "pickle ball"),
    ),
    Category(
        "SHUFFLEBOARD",
        "shuffleboard",
        "shuffleboard event",
        ("shuffle board",),
        words=("shuffleboard",),
    ),
    Category(
        "BILLIARDS", "billiards", "billiards event", ("snooker", "pool tables"), words=("billiard",)
    ),
    Category("PARADES", "parades", "parade", ("parade",), words=("parade",)),
    Category("FESTIVALS", "festivals", "festival", ("festival",), words=("festival",)),
    Category(
        "MARKETS",
        "markets",
        "market",
        ("market", "farmers market", "farmers markets"),
        words=("market",),
    ),
    Category("CAR_SHOWS", "car shows", "car show", ("car show",), words=("car show",)),
    Category(
        "LINE_DANCING",
        "line dancing",
        "line dancing event",
        ("line dance", "line dances", "line dancing classes"),
        words=("line danc",),
    ),
    Category(
        "DANCING", "dancing", "dancing event", ("dance", "dances", "a dance"), words=("danc",)
    ),
    Category("YOGA", "yoga", "yoga class", ("chair yoga", "yoga classes"), words=("yoga",)),
    Category(
        "CARDS",
        "card games",
        "card game",
        ("cards", "canasta", "bridge", "mah jongg", "mahjong"),
        words=("card", "canasta", "bridge", "mah jongg", "mahjong", "poker", "euchre"),
    ),
    Category("KARAOKE", "karaoke", "karaoke event", ("karaoke night",), words=("karaoke",)),
    Category("BINGO", "bingo", "bingo game", ("bingo night",), words=("bingo",)),
)

# The PART_OF_DAY slot type: value id (a PartOfDay in timeframe.py), name, synonyms.
PARTS_OF_DAY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("MORNING", "morning", ("this morning", "in the morning", "early")),
    ("AFTERNOON", "afternoon", ("this afternoon", "in the afternoon", "after lunch")),
    (
        "EVENING",
        "evening",
        ("tonight", "this evening", "in the evening", "night", "tonight's", "after dinner"),
    ),
    ("NOW", "now", ("right now", "at the moment", "currently", "going on now")),
)

_VENUES_BY_ID = {venue.id: venue for venue in VENUES}
_CATEGORIES_BY_ID = {category.id: category for category in CATEGORIES}
# What the skill names when it does not know a venue: the town squares first, then the rest.
SUGGESTED_VENUES = ("SPANISH_SPRINGS", "LAKE_SUMTER", "BROWNWOOD", "SAWGRASS", "EASTPORT")
# A group of venues (the town squares) is offered when narrowing a big list.
VENUE_GROUPS = ("TOWN_SQUARES",)


def venue_by_id(venue_id: str) -> Venue | None:
    return _VENUES_BY_ID.get(venue_id)


def category_by_id(category_id: str) -> Category | None:
    return _CATEGORIES_BY_ID.get(category_id)


def venue_hosting(location: str) -> Venue | None:
    """The most specific known venue an event titled at ``location`` takes place at."""
    hosts = [v for v in VENUES if v.id not in VENUE_GROUPS and v.hosts(location)]
    return max(hosts, key=lambda venue: len(venue.name), default=None)


def spoken_location(location: str) -> str:
    """How to say where an event is: the known venue's spoken name, else its title."""
    venue = venue_hosting(location)
    return venue.spoken if venue else location
