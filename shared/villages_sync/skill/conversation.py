"""A question in, a reply out: what the skill says to each request, and how a conversation goes on.

Over 400 lines for a reason: every reply here (a page, a big list, nothing on, the horizon, a
problem) is built with the same card, paging and listing helpers and the same fixed prompts;
the slots' side went to ``questions``.

Pure except for ``read``, the function that returns the stored items of some days (the
``reader`` adapter in the function; a list in unit tests). The session keeps the *question*, the
moment it was asked and where the listener is in its answer (``PENDING``), never the answers:
"more", "repeat", "go back", "tell me about the second one" and a one-word follow-up ("tomorrow",
"Brownwood", "concerts") ask the same question again at the same moment, so the attributes stay
small whatever the number of events. Session attributes come from the device and are read as
untrusted input (``Pending.from_attributes``): a range of at most a month, bounded offsets,
anything else ignored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.skill.catalog import (
    CATEGORIES,
    SUGGESTED_VENUES,
    VENUE_GROUPS,
    VENUES,
    Venue,
    venue_by_id,
    venue_hosting,
)
from villages_sync.skill.dates import AskedDays, DateProblem, RangeKind

# The slots' side of the conversation lives in ``questions``; its callers find it here too.
from villages_sync.skill.questions import NotUnderstood as NotUnderstood
from villages_sync.skill.questions import SlotProblem as SlotProblem
from villages_sync.skill.questions import meant_time
from villages_sync.skill.questions import understand as understand
from villages_sync.skill.selection import Offer, days_to_read, select_offers
from villages_sync.skill.session import ASKED, PENDING, Pending, Question, pending_of
from villages_sync.skill.speech import (
    MAX_SPEECH_CHARS,
    Speech,
    card_lines,
    fit_card,
    say_count,
    say_date,
    say_offer,
    say_time,
    say_when,
    say_where,
    ssml_document,
)

PAGE_SIZE = 3
BIG_LIST = 12  # more events than this, and no venue or kind asked: offer to narrow first
ReadDays = Callable[[Sequence[date]], list[dict[str, Any]]]

WELCOME = (
    "Welcome to Villages Events. You can ask what's on tonight at Spanish Springs, or whether "
    "there are any concerts this weekend. What would you like to know?"
)
HELP = (
    "I read The Villages' community calendar. Ask me what's on today, tonight or this weekend, "
    "at a town square such as Spanish Springs, Lake Sumter Landing or Brownwood, or for a kind "
    "of event, like concerts or golf. When I list events, say more to hear the next ones, or "
    "tell me about the second one for its details. What would you like to know?"
)
ASK_AGAIN = "What would you like to know? For example, what's on tomorrow at Brownwood?"
FALLBACK = "Sorry, I can only tell you what's on in The Villages. Try: what's on tonight?"
GOODBYE = "Goodbye."
NOTHING_PENDING = "There's nothing more to read. Ask me what's on, for example tonight."
APOLOGY = "Sorry, I can't read the calendar right now. Please try again in a few minutes."
FAULT = "Sorry, something went wrong on my side. Please ask again, for example what's on today."
MORE_PROMPT = "Want to hear more? Say more, or stop."
ANYTHING_ELSE = "Would you like another day, venue or kind of event?"
LONG_TIME = (
    "That's a long time. I can look up a day, a week, a weekend or a month. Which would you like?"
)


class CalendarUnreadable(Exception):
    """The events table could not be read: the one failure the skill says is the calendar's."""


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    content: str
    lines: tuple[str, ...] = ()  # one line per event, for a screen's list


@dataclass(frozen=True, slots=True)
class Reply:
    speech: Speech
    reprompt: Speech | None = None  # None: the session ends with this reply
    card: Card | None = None
    attributes: dict[str, Any] | None = None  # session attributes to keep

    @property
    def ends_session(self) -> bool:
        return self.reprompt is None


# ------------------------------------------------------------------------------ answers


def read_offers(question: Question, *, read: ReadDays, now: datetime, tz: ZoneInfo) -> list[Offer]:
    days = days_to_read(question.days, question.part, now.astimezone(tz).date())
    try:
        items = read(days)
    except CalendarUnreadable:
        raise
    except Exception as error:  # the adapter's failure, whatever its kind
        raise CalendarUnreadable(str(error)[:200]) from error
    offers = select_offers(
        items,
        days=question.days,
        part=question.part,
        venue=question.venue,
        category=question.category,
        now=now,
        tz=tz,
    )
    if question.at is not None:
        offers = [o for o in offers if _on_around(o, question.at, tz)]
    return offers


def _on_around(offer: Offer, at: time, tz: ZoneInfo) -> bool:
    start = datetime.combine(offer.day, at, tzinfo=tz)
    return offer.span.start < start + timedelta(hours=1) and offer.span.end > start


def answer_question(
    question: Question,
    *,
    read: ReadDays,
    now: datetime,
    tz: ZoneInfo,
    offset: int = 0,
    page_size: int = PAGE_SIZE,
    days_ahead: int | None = None,
    narrow: bool = True,
) -> Reply:
    """Read the asked days, select the events and say the page that starts at ``offset``."""
    local_now = now.astimezone(tz)
    question = meant_time(question, local_now)
    horizon = local_now.date() + timedelta(days=days_ahead) if days_ahead is not None else None
    if days_ahead is not None and horizon is not None and question.days.first > horizon:
        return beyond_horizon(question, horizon, days_ahead, local_now)
    offers = read_offers(question, read=read, now=now, tz=tz)
    if narrow and offset == 0 and len(offers) > BIG_LIST:
        offered = _narrower(question, offers)
        if offered is not None:
            return _offer_narrower(question, offers, *offered, local_now)
    reply = say_page(question, offers, now=local_now, offset=offset, page_size=page_size)
    if days_ahead is not None and horizon and not offers and question.days.last > horizon:
        return _with_horizon(reply, horizon, days_ahead)
    return reply


def continue_answer(
    attributes: Mapping[str, Any],
    *,
    read: ReadDays,
    tz: ZoneInfo,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> Reply:
    """The next page of the question kept in the session ("more", "yes")."""
    pending = pending_of(attributes, now=now or _asked_at_of(attributes))
    if pending is None:
        return Reply(Speech.plain(NOTHING_PENDING), Speech.plain(ASK_AGAIN))
    if pending.offer:  # "yes" to "shall I read those?"
        narrowed = replace(pending.question, venue=venue_by_id(pending.offer))
        return answer_question(narrowed, read=read, now=pending.asked_at, tz=tz, narrow=False)
    return answer_question(
        pending.question,
        read=read,
        now=pending.asked_at,
        tz=tz,
        offset=pending.offset,
        page_size=page_size,
        narrow=False,
    )


def _asked_at_of(attributes: Mapping[str, Any]) -> datetime:
    """The moment the pending question was asked, when the caller has no clock (unit tests):
    the bounds checked against it are then only the question's own."""
    try:
        return datetime.fromisoformat(str(attributes[PENDING]["asked_at"])[:40])
    except (TypeError, KeyError, ValueError):
        return datetime.fromtimestamp(0).astimezone()


def say_page(
    question: Question, offers: list[Offer], *, now: datetime, offset: int, page_size: int
) -> Reply:
    today = now.date()
    when = _say_asked_when(question, today)
    total = len(offers)
    if total == 0:
        return _nothing_on(question, when, today, now)
    if offset >= total:
        said = max(total - PAGE_SIZE, 0)
        attributes = Pending(question, now, total, said, complete=True).as_attributes()
        text = f"That's all the events {when}. {ANYTHING_ELSE}"
        return Reply(Speech.plain(text), _anything_else(), None, attributes)
    page = offers[offset : offset + page_size]
    while True:  # titles are short, but the limit is Alexa's: never exceed it
        lines = " ".join(
            say_offer(o, kind=question.days.kind, venue=question.venue, today=today) for o in page
        )
        reply = _page_reply(question, total, offset, page, lines, when, now)
        if len(ssml_document(reply.speech)) <= MAX_SPEECH_CHARS or len(page) == 1:
            break
        page = page[:-1]
    if offset == 0:
        reply = replace(reply, card=_card_of(question, offers, when))
    return reply


def _card_of(question: Question, offers: list[Offer], when: str) -> Card:
    several_days = question.days.kind is not RangeKind.DAY
    title = _capitalised(
        f"{say_count(len(offers), question.category)}{say_where(question.venue)} {when}"
    )
    lines = card_lines(offers, several_days=several_days)
    return Card(title, fit_card(title, lines), tuple(line for line in lines if ": " in line))


def _say_asked_when(question: Question, today: date) -> str:
    when = say_when(question.days, question.part, today)
    if question.at is not None:
        when = f"at {say_time(question.at)} {when}"
    if question.days.evening_first:
        when = f"{when}, from Friday evening"
    return when


def _page_reply(
    question: Question,
    total: int,
    offset: int,
    page: list[Offer],
    lines: str,
    when: str,
    now: datetime,
) -> Reply:
    shown = offset + len(page)
    more = shown < total
    # The question stays in the session, read to the end or not: "tomorrow", "Brownwood",
    # "tell me about the second one" and "repeat" follow on from it.
    attributes = Pending(question, now, shown, offset, complete=not more).as_attributes()
    if offset == 0:
        verb = "is" if total == 1 else "are"
        intro = (
            f"There {verb} {say_count(total, question.category)}{say_where(question.venue)} {when}"
        )
        if not more:
            return Reply(
                Speech.plain(f"{intro}: {lines} {ANYTHING_ELSE}"),
                _anything_else(),
                None,
                attributes,
            )
        text = f"{intro}; here are the first {len(page)}: {lines} Want to hear more?"
        return Reply(Speech.plain(text), Speech.plain(MORE_PROMPT), attributes=attributes)
    if more:
        text = f"Here are the next {len(page)}: {lines} Want to hear more?"
        return Reply(Speech.plain(text), Speech.plain(MORE_PROMPT), attributes=attributes)
    last = "Here is the last one" if len(page) == 1 else f"Here are the last {len(page)}"
    text = f"{last}: {lines} That's everything {when}. {ANYTHING_ELSE}"
    return Reply(Speech.plain(text), _anything_else(), None, attributes)


def _anything_else() -> Speech:
    return Speech.plain(f"{ANYTHING_ELSE} Or say stop.")


# ------------------------------------------------------------------------------ big lists


def _narrower(question: Question, offers: list[Offer]) -> tuple[Venue, int] | None:
    """The venue (or the town squares) that holds the most of a big list, but not all of it,
    with how many it holds. Each distinct location is matched once (a month has ~1,000 events
    at ~20 places)."""
    if question.venue is not None or question.category is not None:
        return None
    at_location = Counter(str(offer.item.get("location", "")) for offer in offers)
    groups = [group for venue_id in VENUE_GROUPS if (group := venue_by_id(venue_id))]
    counts: Counter[str] = Counter()
    venues: dict[str, Venue] = {}
    for location, held in at_location.items():
        for venue in (venue_hosting(location), *(g for g in groups if g.hosts(location))):
            if venue is not None:
                counts[venue.id] += held
                venues[venue.id] = venue
    usable = [(held, venues[key]) for key, held in counts.items() if 0 < held < len(offers)]
    in_groups = [pair for pair in usable if pair[1].id in VENUE_GROUPS]
    best = max(in_groups or usable, key=lambda pair: pair[0], default=None)
    return (best[1], best[0]) if best else None


def _offer_narrower(
    question: Question, offers: list[Offer], venue: Venue, held: int, now: datetime
) -> Reply:
    when = _say_asked_when(question, now.date())
    there = "have" if venue.id in VENUE_GROUPS else "has"
    text = (
        f"There are {len(offers)} events {when}. {_capitalised(venue.spoken)} {there} {held} of "
        f"them. Shall I read those, or would you like a kind of event, such as concerts or golf?"
    )
    reprompt = f"Shall I read the {held} at {venue.spoken}? Or say a kind of event, or all of them."
    attributes = Pending(question, now, 0, 0, venue.id).as_attributes()
    card = _card_of(question, offers, when)
    return Reply(Speech.plain(text), Speech.plain(reprompt), card, attributes)


# ------------------------------------------------------------------------------ nothing on


def _nothing_on(question: Question, when: str, today: date, now: datetime) -> Reply:
    noun = say_count(2, question.category).split(" ", 1)[1]  # the plural: "events"
    more = "more " if question.days.first == today and question.days.kind is RangeKind.DAY else ""
    text = f"I don't see any {more}{noun}{say_where(question.venue)} {when}."
    others_days = _other_days(question.days, today)
    if question.venue:
        others = [
            venue.spoken
            for venue_id in SUGGESTED_VENUES
            if (venue := venue_by_id(venue_id)) and venue != question.venue
        ][:2]
        text += f" Try {others_days[0]}, or another venue, such as {others[0]} or {others[1]}."
    else:
        text += f" Try another day, such as {_listed(others_days, 'or')}."
    attributes = Pending(question, now, complete=True).as_attributes()
    return Reply(Speech.plain(text), Speech.plain(ASK_AGAIN), attributes=attributes)


def _other_days(asked: AskedDays, today: date) -> list[str]:
    """Two days to suggest, never one the question already covered."""
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    monday = today + timedelta(days=7 - today.weekday())
    choices = (
        ("tomorrow", today + timedelta(days=1), today + timedelta(days=1)),
        ("this weekend", saturday, saturday + timedelta(days=1)),
        ("next week", monday, monday + timedelta(days=6)),
        ("next weekend", saturday + timedelta(days=7), saturday + timedelta(days=8)),
    )
    return [words for words, first, last in choices if last < asked.first or first > asked.last][:2]


def beyond_horizon(question: Question, horizon: date, days_ahead: int, now: datetime) -> Reply:
    """Past the sync's window the table is empty by design: say how far ahead is known (the
    question stays, so that "Saturday" answers it for the same venue and kind)."""
    text = (
        f"I only know the calendar {days_ahead} days ahead, up to {say_date(horizon)}. "
        "Which day before then would you like?"
    )
    attributes = Pending(question, now, complete=True).as_attributes()
    return Reply(Speech.plain(text), Speech.plain("Which day would you like?"), None, attributes)


def _with_horizon(reply: Reply, horizon: date, days_ahead: int) -> Reply:
    note = f"I know the calendar {days_ahead} days ahead, up to {say_date(horizon)}."
    nothing, _, suggestion = reply.speech.text.partition(". ")  # the note before the suggestion
    return replace(reply, speech=Speech.plain(f"{nothing}. {note} {suggestion}"))


# ------------------------------------------------------------------------------ problems


def not_understood(problem: NotUnderstood, *, now: datetime | None = None) -> Reply:
    kept = (
        Pending(problem.understood, now, complete=True).as_attributes()
        if problem.understood is not None and now is not None
        else None
    )
    if problem.problem == SlotProblem.VENUE:
        squares = [v.spoken for i in SUGGESTED_VENUES if (v := venue_by_id(i))]
        text = (
            f"I don't know a venue called {problem.spoken}. I know the town squares, "
            f"{_listed(squares)}, the recreation centers, the theaters and the sports venues. "
            "Which venue would you like?"
        )
        card = Card("Venues I know", "\n".join(v.name for v in VENUES))
        return Reply(Speech.plain(text), Speech.plain("Which venue would you like?"), card, kept)
    if problem.problem == SlotProblem.CATEGORY:
        kinds = _listed([c.name for c in CATEGORIES if not c.narrow][:7], "or")
        text = (
            f"I don't know the kind of event {problem.spoken}. You can ask about {kinds}, or "
            "say concerts, golf or parades. Which kind would you like?"
        )
        return Reply(
            Speech.plain(text), Speech.plain("Which kind of event would you like?"), None, kept
        )
    if problem.problem in (SlotProblem.PART, SlotProblem.TIME):
        text = (
            f"I don't know the time of day {problem.spoken}. I can look up the morning, the "
            "afternoon, tonight, right now, or a time such as 7 PM. Which would you like?"
        )
        return Reply(
            Speech.plain(text), Speech.plain("Which time of day would you like?"), None, kept
        )
    if problem.problem is DateProblem.PAST:
        text = "I only know what's coming up, from today on. Which day would you like?"
    elif problem.problem is DateProblem.TOO_BROAD:
        text = LONG_TIME
    else:
        text = "I can look up a day, a week, a weekend or a month. Which day would you like?"
    return Reply(Speech.plain(text), Speech.plain("Which day would you like?"), None, kept)


def _listed(words: list[str], conjunction: str = "and") -> str:
    if len(words) <= 2:
        return f" {conjunction} ".join(words)
    return ", ".join(words[:-1]) + f" {conjunction} {words[-1]}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


__all__ = ["ASKED", "PENDING", "Pending", "Question", "pending_of"]
