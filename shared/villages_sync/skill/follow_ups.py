"""Turns that follow on from a question kept in the session: "more" after an offer to narrow,
"repeat", "go back", "tell me about the second one", help in the middle of a list, and a
look-up by title. Pure except for ``read`` (as in ``conversation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.skill.conversation import (
    ASK_AGAIN,
    NOTHING_PENDING,
    PAGE_SIZE,
    CalendarUnreadable,
    ReadDays,
    Reply,
    answer_question,
    continue_answer,
    read_offers,
)
from villages_sync.skill.lookup import LOOKUP_DAYS, find_by_title, say_details, say_lookup
from villages_sync.skill.selection import Offer
from villages_sync.skill.session import pending_of
from villages_sync.skill.speech import Speech


def read_all(
    attributes: Mapping[str, Any], *, read: ReadDays, tz: ZoneInfo, now: datetime
) -> Reply:
    """ "More" or "read them all" after an offer to narrow: the whole list, from the start."""
    pending = pending_of(attributes, now=now)
    if pending is None:
        return Reply(Speech.plain(NOTHING_PENDING), Speech.plain(ASK_AGAIN))
    if not pending.offer:
        return continue_answer(attributes, read=read, tz=tz, now=now)
    return answer_question(pending.question, read=read, now=pending.asked_at, tz=tz, narrow=False)


def repeat_answer(
    attributes: Mapping[str, Any], *, read: ReadDays, tz: ZoneInfo, now: datetime, back: int = 0
) -> Reply:
    """The page last said again ("repeat"), or the one before it (``back=1``: "go back")."""
    pending = pending_of(attributes, now=now)
    if pending is None:
        return Reply(Speech.plain(f"I haven't read you anything yet. {ASK_AGAIN}"), _ask_again())
    start = max(pending.said - back * PAGE_SIZE, 0)
    reply = answer_question(
        pending.question, read=read, now=pending.asked_at, tz=tz, offset=start, narrow=not start
    )
    if back and pending.said == 0:
        return _prefixed("That was the first of them.", reply)
    return reply


def kept_list(reply: Reply, attributes: Mapping[str, Any], *, now: datetime) -> Reply:
    """``reply`` (help, a phrase not understood) in the middle of a list: the list is kept, and
    the listener told how to go on with it."""
    pending = pending_of(attributes, now=now)
    if pending is None:
        return reply
    again = "Say more to hear the rest of the list, or ask something else."
    return Reply(
        reply.speech + Speech.plain(again),
        Speech.plain(again),
        reply.card,
        pending.as_attributes(),
    )


def chosen_offer(
    attributes: Mapping[str, Any],
    position: int | None,
    *,
    read: ReadDays,
    tz: ZoneInfo,
    now: datetime,
    verb: str = "hear about",
) -> Offer | Reply:
    """The event "the second one" means: the second of the events last read out (or, past
    that page, the n-th of the whole answer); or the Reply that asks which one."""
    pending = pending_of(attributes, now=now)
    if pending is None:
        text = "Ask me what's on first, then ask about one of the events I read."
        return Reply(Speech.plain(f"{text} {ASK_AGAIN}"), _ask_again())
    offers = read_offers(pending.question, read=read, now=pending.asked_at, tz=tz)
    page_end = min(pending.said + PAGE_SIZE, len(offers))
    if position is None or position < 1:
        text = f"Which one would you like to {verb}? Say, for example, the first one."
        return Reply(Speech.plain(text), Speech.plain(text), None, pending.as_attributes())
    index = pending.said + position - 1 if position <= page_end - pending.said else position - 1
    if not 0 <= index < len(offers):
        text = f"I read {len(offers)} of them. Which one would you like to {verb}?"
        return Reply(Speech.plain(text), Speech.plain(text), None, pending.as_attributes())
    return offers[index]


def tell_details(
    attributes: Mapping[str, Any],
    position: int | None,
    *,
    read: ReadDays,
    tz: ZoneInfo,
    now: datetime,
) -> Reply:
    """ "Tell me about the second one": its details, and a reminder offered ("yes" sets it).
    The list stays where it was."""
    from villages_sync.skill.reminding import offered_reminder  # not every cold start's

    chosen = chosen_offer(attributes, position, read=read, tz=tz, now=now)
    if isinstance(chosen, Reply):
        return chosen
    pending = pending_of(attributes, now=now)
    assert pending is not None  # chosen_offer found an offer in it
    told = say_details(chosen, today=pending.asked_at.astimezone(tz).date())
    go_on = "Say more for the rest of the list. Want a reminder?"
    kept = {**pending.as_attributes(), **offered_reminder(chosen)}
    return Reply(Speech.plain(f"{told} {go_on}"), Speech.plain(go_on), None, kept)


def look_up(
    query: str, *, read: ReadDays, tz: ZoneInfo, now: datetime, days_ahead: int | None = None
) -> Reply:
    """ "When is line dancing?", "is the Saturday concert still on?": by title, over the next
    LOOKUP_DAYS days, cancelled events included (and said to be cancelled)."""
    today = now.astimezone(tz).date()
    count = min(LOOKUP_DAYS, (days_ahead + 1) if days_ahead is not None else LOOKUP_DAYS)
    days = [today + timedelta(days=n) for n in range(max(count, 1))]
    try:
        items = read(days)
    except Exception as error:
        raise CalendarUnreadable(str(error)[:200]) from error
    found = find_by_title(items, query, now=now, tz=tz)
    return Reply(Speech.plain(say_lookup(found, query, today=today)), _ask_again())


def _prefixed(text: str, reply: Reply) -> Reply:
    return replace(reply, speech=Speech.plain(text) + reply.speech)


def _ask_again() -> Speech:
    return Speech.plain(ASK_AGAIN)
