"""A question in, a reply out: what the skill says to each request, and how paging resumes.

Pure except for ``read``, the function that returns the stored items of some days (the
``reader`` adapter in the function; a list in unit tests). Paging keeps the *question* and the
moment it was asked in the session attributes, not the answers: "more" asks the same question
again at the same moment and reads the next page, so the attributes stay small whatever the
number of events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.skill.catalog import (
    CATEGORIES,
    SUGGESTED_VENUES,
    VENUES,
    Category,
    Venue,
    category_by_id,
    venue_by_id,
)
from villages_sync.skill.dates import AskedDays, DateProblem, RangeKind, parse_amazon_date
from villages_sync.skill.selection import Offer, select_offers
from villages_sync.skill.slots import (
    SlotChoice,
    resolved_category,
    resolved_part,
    resolved_venue,
)
from villages_sync.skill.speech import (
    MAX_SPEECH_CHARS,
    Speech,
    card_lines,
    fit_card,
    say_count,
    say_offer,
    say_when,
    say_where,
    ssml_document,
)
from villages_sync.skill.timeframe import PartOfDay

PAGE_SIZE = 3
PENDING = "pending"  # the session attribute that holds the question being paged through
ReadDays = Callable[[Sequence[date]], list[dict[str, Any]]]

WELCOME = (
    "Welcome to Villages Events. You can ask what's on tonight at Spanish Springs, or whether "
    "there are any concerts this weekend. What would you like to know?"
)
HELP = (
    "I read The Villages' community calendar. Ask me what's on today, tonight or this weekend, "
    "at a town square such as Spanish Springs, Lake Sumter Landing or Brownwood, or for a kind "
    "of event, like concerts or sports. When I list events, say more to hear the next ones. "
    "What would you like to know?"
)
ASK_AGAIN = "What would you like to know? For example, what's on tomorrow at Brownwood?"
FALLBACK = "Sorry, I can only tell you what's on in The Villages. Try: what's on tonight?"
GOODBYE = "Goodbye."
NOTHING_PENDING = "There's nothing more to read. Ask me what's on, for example tonight."
APOLOGY = "Sorry, I can't read the calendar right now. Please try again in a few minutes."
MORE_PROMPT = "Want to hear more? Say more, or stop."


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    content: str


@dataclass(frozen=True, slots=True)
class Reply:
    speech: Speech
    reprompt: Speech | None = None  # None: the session ends with this reply
    card: Card | None = None
    attributes: dict[str, Any] | None = None  # session attributes to keep

    @property
    def ends_session(self) -> bool:
        return self.reprompt is None


@dataclass(frozen=True, slots=True)
class Question:
    days: AskedDays
    part: PartOfDay | None = None
    venue: Venue | None = None
    category: Category | None = None

    def as_attributes(self) -> dict[str, Any]:
        return {
            "first": self.days.first.isoformat(),
            "last": self.days.last.isoformat(),
            "asked_first": self.days.asked_first.isoformat(),
            "kind": str(self.days.kind),
            "part": str(self.part) if self.part else None,
            "venue": self.venue.id if self.venue else None,
            "category": self.category.id if self.category else None,
        }

    @classmethod
    def from_attributes(cls, data: Mapping[str, Any]) -> Question:
        """Raises ValueError (or KeyError) when the attributes are not ours."""
        days = AskedDays(
            first=date.fromisoformat(data["first"]),
            last=date.fromisoformat(data["last"]),
            kind=RangeKind(data["kind"]),
            asked_first=date.fromisoformat(data["asked_first"]),
        )
        return cls(
            days,
            PartOfDay(data["part"]) if data.get("part") else None,
            venue_by_id(data["venue"]) if data.get("venue") else None,
            category_by_id(data["category"]) if data.get("category") else None,
        )


@dataclass(frozen=True, slots=True)
class NotUnderstood:
    problem: DateProblem | str  # a DateProblem, "venue" or "category"
    spoken: str


def understand(slots: Mapping[str, SlotChoice], *, today: date) -> Question | NotUnderstood:
    """The question a WhatsOnIntent's slots ask, or what could not be understood."""
    venue_choice = slots.get("venue", SlotChoice())
    venue = resolved_venue(venue_choice) if venue_choice.filled else None
    if venue_choice.filled and venue is None:
        return NotUnderstood("venue", venue_choice.spoken)
    category_choice = slots.get("category", SlotChoice())
    category = resolved_category(category_choice) if category_choice.filled else None
    if category_choice.filled and category is None:
        return NotUnderstood("category", category_choice.spoken)
    date_choice = slots.get("date", SlotChoice())
    days = parse_amazon_date(date_choice.spoken, today=today)
    if isinstance(days, DateProblem):
        return NotUnderstood(days, date_choice.spoken)
    part_choice = slots.get("partOfDay", SlotChoice())
    part = PartOfDay.NOW if days.now_requested else resolved_part(part_choice)
    return Question(days, part, venue, category)


def answer_question(
    question: Question,
    *,
    read: ReadDays,
    now: datetime,
    tz: ZoneInfo,
    offset: int = 0,
    page_size: int = PAGE_SIZE,
) -> Reply:
    """Read the asked days, select the events and say the page that starts at ``offset``."""
    offers = select_offers(
        read(question.days.days),
        days=question.days,
        part=question.part,
        venue=question.venue,
        category=question.category,
        now=now,
        tz=tz,
    )
    return say_page(question, offers, now=now.astimezone(tz), offset=offset, page_size=page_size)


def continue_answer(
    attributes: Mapping[str, Any], *, read: ReadDays, tz: ZoneInfo, page_size: int = PAGE_SIZE
) -> Reply:
    """The next page of the question kept in the session ("more", "yes")."""
    pending = attributes.get(PENDING)
    try:
        question = Question.from_attributes(pending["question"])  # type: ignore[index]
        asked_at = datetime.fromisoformat(pending["asked_at"])  # type: ignore[index]
        offset = int(pending["offset"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return Reply(Speech.plain(NOTHING_PENDING), Speech.plain(ASK_AGAIN))
    return answer_question(
        question, read=read, now=asked_at, tz=tz, offset=offset, page_size=page_size
    )


def say_page(
    question: Question, offers: list[Offer], *, now: datetime, offset: int, page_size: int
) -> Reply:
    today = now.date()
    when = say_when(question.days, question.part, today)
    total = len(offers)
    if total == 0:
        return _nothing_on(question, when, today)
    if offset >= total:
        return Reply(Speech.plain(f"That's all the events {when}."))
    several_days = question.days.kind is not RangeKind.DAY
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
        title = _capitalised(
            f"{say_count(total, question.category)}{say_where(question.venue)} {when}"
        )
        content = fit_card(title, card_lines(offers, several_days=several_days))
        reply = Reply(reply.speech, reply.reprompt, Card(title, content), reply.attributes)
    return reply


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
    attributes = (
        {
            PENDING: {
                "question": question.as_attributes(),
                "asked_at": now.isoformat(),
                "offset": shown,
            }
        }
        if more
        else None
    )
    if offset == 0:
        verb = "is" if total == 1 else "are"
        intro = (
            f"There {verb} {say_count(total, question.category)}{say_where(question.venue)} {when}"
        )
        if not more:
            return Reply(Speech.plain(f"{intro}: {lines}"))
        text = f"{intro}; here are the first {len(page)}: {lines} Want to hear more?"
        return Reply(Speech.plain(text), Speech.plain(MORE_PROMPT), attributes=attributes)
    if more:
        text = f"Here are the next {len(page)}: {lines} Want to hear more?"
        return Reply(Speech.plain(text), Speech.plain(MORE_PROMPT), attributes=attributes)
    last = "Here is the last one" if len(page) == 1 else f"Here are the last {len(page)}"
    return Reply(Speech.plain(f"{last}: {lines} That's everything {when}."))


def _nothing_on(question: Question, when: str, today: date) -> Reply:
    noun = say_count(2, question.category).split(" ", 1)[1]  # the plural: "events"
    more = "more " if question.days.first == today and question.days.kind is RangeKind.DAY else ""
    text = f"I don't see any {more}{noun}{say_where(question.venue)} {when}."
    if question.venue:
        others = [
            venue.spoken
            for venue_id in SUGGESTED_VENUES
            if (venue := venue_by_id(venue_id)) and venue != question.venue
        ][:2]
        text += f" Try another day, or another venue, such as {others[0]} or {others[1]}."
    else:
        text += " Try another day, such as tomorrow or this weekend."
    return Reply(Speech.plain(text), Speech.plain(ASK_AGAIN))


def not_understood(problem: NotUnderstood) -> Reply:
    if problem.problem == "venue":
        squares = [v.spoken for i in SUGGESTED_VENUES if (v := venue_by_id(i))]
        others = [v.spoken for v in VENUES if v.id not in SUGGESTED_VENUES]
        text = (
            f"I don't know a venue called {problem.spoken}. I know the town squares, "
            f"{_listed(squares)}, and {_listed(others)}. Which venue would you like?"
        )
        card = Card("Venues I know", "\n".join(v.name for v in VENUES))
        return Reply(Speech.plain(text), Speech.plain("Which venue would you like?"), card)
    if problem.problem == "category":
        kinds = _listed([c.name for c in CATEGORIES], "or")
        text = f"I don't know the kind of event {problem.spoken}. You can ask about {kinds}."
        return Reply(Speech.plain(text), Speech.plain(ASK_AGAIN))
    if problem.problem is DateProblem.PAST:
        text = "I only know what's coming up, from today on. Which day would you like?"
    elif problem.problem is DateProblem.TOO_BROAD:
        text = (
            "That's a long time. I can look up a day, a week, a weekend or a month. "
            "Which would you like?"
        )
    else:
        text = "I can look up a day, a week, a weekend or a month. Which day would you like?"
    return Reply(Speech.plain(text), Speech.plain("Which day would you like?"))


def _listed(words: list[str], conjunction: str = "and") -> str:
    if len(words) <= 2:
        return f" {conjunction} ".join(words)
    return ", ".join(words[:-1]) + f" {conjunction} {words[-1]}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
