"""How answers are said: times, days, the timeframe, one line per event, SSML and the card.

Everything said is escaped for SSML (``&``, ``<``, ``>``): titles such as "Johnny Wild & The
Delights" are common, and one bare ``&`` makes Alexa reject the whole response.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from villages_sync.skill.catalog import VENUE_GROUPS, Category, Venue, spoken_location
from villages_sync.skill.dates import AskedDays, RangeKind
from villages_sync.skill.selection import Offer
from villages_sync.skill.timeframe import PartOfDay

MAX_SPEECH_CHARS = 8000  # Alexa's limit for outputSpeech, the <speak> tags included
MAX_CARD_CHARS = 8000  # a simple card's title and content together
SPOKEN_TITLE_CHARS = 70  # a longer title is cut at a word in speech (the card keeps it whole)
ECHO_CHARS = 60  # the most of a listener's unmatched words said back
_PART_NAMES = {
    PartOfDay.MORNING: "morning",
    PartOfDay.AFTERNOON: "afternoon",
    PartOfDay.EVENING: "evening",
}


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as SSML entities, ``&`` first: what ``xml.sax.saxutils.escape``
    does, without loading the xml.sax package into the skill's cold start (2 ms)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


@dataclass(frozen=True, slots=True)
class Speech:
    """What Alexa says: ``ssml`` goes inside <speak>; ``text`` is the same words, plain."""

    ssml: str
    text: str

    @classmethod
    def plain(cls, text: str) -> Speech:
        return cls(escape(text), text)

    def __add__(self, other: Speech) -> Speech:
        return Speech(_join(self.ssml, other.ssml), _join(self.text, other.text))


def _join(first: str, second: str) -> str:
    return f"{first} {second}".strip()


def ssml_document(speech: Speech) -> str:
    """The full SSML document as Alexa receives it."""
    return f"<speak>{speech.ssml}</speak>"


# ------------------------------------------------------------------------------ words


def say_time(moment: time | datetime) -> str:
    """``7 PM``, ``7:30 PM``, ``noon``, ``midnight``."""
    hour, minute = moment.hour, moment.minute
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "noon"
    suffix = "AM" if hour < 12 else "PM"
    twelve = hour % 12 or 12
    return f"{twelve} {suffix}" if minute == 0 else f"{twelve}:{minute:02d} {suffix}"


def ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def say_date(day: date) -> str:
    """``Saturday, December 5th``."""
    return f"{day:%A}, {day:%B} {ordinal(day.day)}"


def say_when(days: AskedDays, part: PartOfDay | None, today: date) -> str:
    """The timeframe as a listener would say it: ``tonight``, ``tomorrow afternoon``,
    ``this weekend``, ``on Saturday, December 12th``, ``in January``."""
    if part is PartOfDay.NOW and days.first == today:
        return "right now"
    part_name = _PART_NAMES.get(part) if part else None
    if days.kind is RangeKind.DAY:
        return _say_day(days.first, part_name, today)
    phrase = _say_range(days, today)
    return f"{phrase}, in the {part_name}s" if part_name else phrase


def _say_day(day: date, part_name: str | None, today: date) -> str:
    if day == today:
        if part_name == "evening":
            return "tonight"
        return f"this {part_name}" if part_name else "today"
    if day == today + timedelta(days=1):
        return f"tomorrow {part_name}" if part_name else "tomorrow"
    within_week = (day - today).days < 7
    said = f"on {day:%A}" if within_week else f"on {say_date(day)}"
    if part_name:
        return f"{said} {part_name}" if within_week else f"{said}, in the {part_name}"
    return said


def _say_range(days: AskedDays, today: date) -> str:
    start = days.asked_first
    monday = today - timedelta(days=today.weekday())
    if days.kind is RangeKind.WEEK:
        if start <= today <= days.last:
            return "this week"
        if start == monday + timedelta(days=7):
            return "next week"
        return f"the week of {start:%B} {ordinal(start.day)}"
    if days.kind is RangeKind.WEEKEND:
        if start < monday + timedelta(days=7):
            return "this weekend"
        if start < monday + timedelta(days=14):
            return "next weekend"
        return f"the weekend of {start:%B} {ordinal(start.day)}"
    if (start.year, start.month) == (today.year, today.month):
        return "this month"
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    if (start.year, start.month) == (following.year, following.month):
        return "next month"
    return f"in {start:%B}" + (f" {start.year}" if start.year != today.year else "")


def say_count(count: int, category: Category | None) -> str:
    """``3 concerts``: the listener's own word for what they asked about."""
    if category is None:
        return "one event" if count == 1 else f"{count} events"
    return f"one {category.noun}" if count == 1 else f"{count} {category.plural}"


def spoken_text(text: str, limit: int = SPOKEN_TITLE_CHARS) -> str:
    """Calendar text as it is said: without emoji (Alexa reads them out, or stumbles), and cut
    at a word when longer than ``limit`` (the card shows it whole)."""
    kept = "".join(ch for ch in text if not _is_emoji(ch))
    words = " ".join(kept.split())
    if len(words) <= limit:
        return words
    cut = words[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-&(")


def echo(words: str) -> str:
    """A listener's unmatched words, said back bounded (never the whole of a long slot)."""
    return spoken_text(words, ECHO_CHARS)


def _is_emoji(ch: str) -> bool:
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("So", "Cs", "Co")
        or 0x1F000 <= code <= 0x1FAFF
        or code in (0x200D, 0xFE0F, 0xFE0E, 0x20E3)
        or 0x1F3FB <= code <= 0x1F3FF
    )


def say_where(venue: Venue | None) -> str:
    return f" at {venue.spoken}" if venue else ""


def say_offer(offer: Offer, *, kind: RangeKind, venue: Venue | None, today: date) -> str:
    """One event, as one sentence: ``Saturday at 7 PM, Neon Jukebox at Brownwood.``"""
    title = spoken_text(str(offer.item.get("title", "")))
    said_venue = venue is not None and venue.id not in VENUE_GROUPS  # "at Brownwood" said once
    where = "" if said_venue else _at_location(str(offer.item.get("location", "")))
    return f"{_capitalised(_when_for(offer, kind, today))}, {title}{where}."


def _when_for(offer: Offer, kind: RangeKind, today: date) -> str:
    span = offer.span
    next_midnight = datetime.combine(
        offer.day + timedelta(days=1), time(0, 0), tzinfo=offer.day_start.tzinfo
    )
    if offer.in_progress and not span.all_day and offer.day == today:
        if not span.end_known:  # the calendar gives no end: say only when it began
            return f"started at {say_time(span.start)}"
        return f"on now, until {say_time(span.end)}"
    if offer.continuing:
        if span.all_day:
            when = "all day"
        elif not span.end_known:
            when = f"since {say_time(span.start)} the day before"
        elif span.end <= next_midnight + timedelta(hours=6):  # ends that day, or that night
            when = f"until {say_time(span.end)}"
        else:
            when = "all day"
    else:
        when = f"at {say_time(span.start)}"
    if kind is RangeKind.DAY:
        return when
    return f"{_say_day_in_range(offer.day, kind, today)} {when}"


def _say_day_in_range(day: date, kind: RangeKind, today: date) -> str:
    """The day of one event in a longer answer: a week or weekend names its days, a month dates
    them (the range was said first, so "Sunday" cannot mean another week)."""
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    return f"{day:%A}" if kind is not RangeKind.MONTH else f"{day:%B} {ordinal(day.day)}"


def _at_location(location: str) -> str:
    location = location.strip()
    return f" at {spoken_location(location)}" if location else ""


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------ the card


def card_lines(offers: list[Offer], *, several_days: bool) -> list[str]:
    """Every offered event, one line each, grouped under its day when the range has several."""
    lines: list[str] = []
    current: date | None = None
    for offer in offers:
        if several_days and offer.day != current:
            current = offer.day
            heading = f"{offer.day:%A}, {offer.day:%B} {offer.day.day}"
            lines.append(f"\n{heading}" if lines else heading)
        span, item = offer.span, offer.item
        if span.all_day:
            when = "All day"
        elif offer.continuing:
            when = f"Until {say_time(span.end)}" if span.end_known else "Continuing"
        else:
            when = say_time(span.start)
            if span.end_known:
                when += f"-{say_time(span.end)}"
        title = _capitalised(" ".join(str(item.get("title", "")).split()))
        location = str(item.get("location", "")).strip()
        line = f"{when}: {title}" + (f" ({location})" if location else "")
        lines.append(_capitalised(line))
    return lines


def fit_card(title: str, lines: list[str]) -> str:
    """The card's content: as many lines as fit with the title, then how many events were left
    out (event lines hold ": ", day headings do not)."""
    budget = MAX_CARD_CHARS - len(title) - 40  # room for the "... and N more" line
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            left_out = sum(1 for rest in lines[index:] if ": " in rest)
            kept.append(f"... and {left_out} more")
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)
