"""The venues, categories and parts of day the skill's interaction model knows, with synonyms.

This is the source of the model's VENUE, CATEGORY and PART_OF_DAY slot types:
``tools/interaction_model.py`` writes them into ``skill-package/interactionModels/custom/
en-US.json`` (a unit test fails when the file is behind). A venue's ``name`` is its title in the
calendar; ``also_titled`` lists other titles the calendar has used for the same place.
``villages-sync skill venues`` lists the venues in the table that no entry here hosts.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    id: str  # the calendar's category, as stored on each event
    name: str  # the slot value
    noun: str  # "sports event": said as "3 sports events"
    synonyms: tuple[str, ...] = ()


VENUES: tuple[Venue, ...] = (
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
        ("Laurel Manor", "Laurel Manor rec center"),
    ),
    Venue(
        "COLONY_COTTAGE",
        "Colony Cottage Recreation Center",
        "Colony Cottage",
        ("Colony Cottage", "Colony Cottage rec center"),
    ),
    Venue(
        "EISENHOWER",
        "Eisenhower Recreation Center",
        "Eisenhower",
        ("Eisenhower", "Eisenhower rec center"),
    ),
    Venue(
        "BRIDGEPORT",
        "Bridgeport Recreation Center",
        "Bridgeport",
        ("Bridgeport", "Bridgeport rec center"),
    ),
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
)

CATEGORIES: tuple[Category, ...] = (
    Category(
        "entertainment",
        "entertainment",
        "entertainment event",
        ("concert", "concerts", "music", "live music", "show", "shows", "band", "bands"),
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
        ("health", "wellness", "fitness", "exercise", "exercise classes", "yoga"),
    ),
    Category(
        "recreation",
        "recreation",
        "recreation event",
        ("games", "dancing", "line dancing", "billiards"),
    ),
    Category(
        "social-clubs",
        "social clubs",
        "club meeting",
        ("clubs", "club meetings", "card games", "cards"),
    ),
    Category(
        "special-events",
        "special events",
        "special event",
        ("festival", "festivals", "parade", "parades", "market", "markets", "car show"),
    ),
    Category(
        "sports",
        "sports",
        "sports event",
        ("sport", "pickleball", "golf", "shuffleboard"),
    ),
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


def venue_by_id(venue_id: str) -> Venue | None:
    return _VENUES_BY_ID.get(venue_id)


def category_by_id(category_id: str) -> Category | None:
    return _CATEGORIES_BY_ID.get(category_id)


def venue_hosting(location: str) -> Venue | None:
    """The most specific known venue an event titled at ``location`` takes place at."""
    hosts = [venue for venue in VENUES if venue.hosts(location)]
    return max(hosts, key=lambda venue: len(venue.name), default=None)


def spoken_location(location: str) -> str:
    """How to say where an event is: the known venue's spoken name, else its title."""
    venue = venue_hosting(location)
    return venue.spoken if venue else location
