"""Reminders in the conversation: "remind me about the second one", or "yes" to "Want a
reminder?" after an event's details. Pure except for ``read`` (as in ``conversation``).

The event a listener wants a reminder for (``ReminderWish``) travels as its id and day: in the
session (``OFFER``) and in the permission request's token, so that after Alexa asks for the
reminders permission (Connections.SendRequest AskFor) the Connections.Response finds the
event again with one day's read. What is said is what was set: the time it rings, the day, the
lead and the event (``villages_sync.reminders.plan.confirmation``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from villages_sync.skill.conversation import ASK_AGAIN, CalendarUnreadable, ReadDays, Reply
from villages_sync.skill.selection import Offer
from villages_sync.skill.speech import Speech
from villages_sync.visible_events import visible_events

if TYPE_CHECKING:  # read where a reminder is set: most answers never import them (cold start)
    from villages_sync.reminders.change_notice import ListenerView
    from villages_sync.reminders.plan import ReminderPlan

REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"
OFFER = "reminder_offer"  # the session attribute: the event whose details were just told
_TOKEN = re.compile(r"^remind\|([0-9]{1,20})\|([0-9]{4}-[0-9]{2}-[0-9]{2})$")

ASK_PERMISSION_CARD = (
    "To set reminders for you, Villages Events needs your permission. Open the Alexa app, "
    "go to this skill's settings and allow reminders, then ask me again."
)
PERMISSION_REFUSED = (
    "Without your permission I can't set reminders. I've sent a card to the Alexa app that "
    "shows how to allow them. " + ASK_AGAIN
)
UNAVAILABLE = "Sorry, I couldn't set the reminder just now. Please try again in a little while."
NOT_SET_UP = "Sorry, I can't set reminders yet. " + ASK_AGAIN


@dataclass(frozen=True, slots=True)
class ReminderWish:
    event_id: str
    event_date: date

    def as_token(self) -> str:
        return f"remind|{self.event_id}|{self.event_date.isoformat()}"

    @classmethod
    def from_token(cls, token: object) -> ReminderWish | None:
        match = _TOKEN.match(token) if isinstance(token, str) else None
        if match is None:
            return None
        try:
            return cls(match.group(1), date.fromisoformat(match.group(2)))
        except ValueError:
            return None

    @classmethod
    def of_offer(cls, offer: Offer) -> ReminderWish | None:
        try:
            return cls(offer.event_id, date.fromisoformat(str(offer.item.get("event_date"))))
        except ValueError:
            return None


def offered_reminder(offer: Offer) -> dict[str, Any]:
    """The session attribute that makes the next "yes" set a reminder for ``offer``."""
    wish = ReminderWish.of_offer(offer)
    return {OFFER: wish.as_token()} if wish is not None else {}


def offered_wish(attributes: Mapping[str, Any] | None) -> ReminderWish | None:
    """The event "yes" means, when the last turn offered a reminder."""
    return ReminderWish.from_token((attributes or {}).get(OFFER))


@dataclass(frozen=True, slots=True)
class ReadyReminder:
    """A reminder that can be set: the event as read now, and when it would ring."""

    wish: ReminderWish
    view: ListenerView
    plan: ReminderPlan


def ready_reminder(
    wish: ReminderWish, *, read: ReadDays, tz: ZoneInfo, now: datetime, lead: timedelta
) -> ReadyReminder | Reply:
    """The event read again (one day: it may have changed since it was listed), or the Reply
    that says why no reminder can be set (gone, cancelled, too soon)."""
    from villages_sync.reminders.change_notice import ListenerView, UnreadableChange
    from villages_sync.reminders.plan import plan_reminder, too_late

    try:
        items = read([wish.event_date])
    except Exception as error:
        raise CalendarUnreadable(str(error)[:200]) from error
    found = [
        item
        for item in visible_events(items, now=now.timestamp())
        if str(item.get("event_id")) == wish.event_id
    ]
    if not found:
        text = "That event isn't on the calendar any more, so there's nothing to remind you of."
        return Reply(Speech.plain(f"{text} {ASK_AGAIN}"), Speech.plain(ASK_AGAIN))
    try:
        view = ListenerView.read(found[0], name="event")
    except UnreadableChange:
        return Reply(
            Speech.plain(f"Sorry, I can't set a reminder for that one. {ASK_AGAIN}"),
            Speech.plain(ASK_AGAIN),
        )
    plan = plan_reminder(view, lead=lead, tz=tz)
    if too_late(plan, now=now):
        text = f"{view.title} starts too soon for a reminder."
        return Reply(Speech.plain(f"{text} {ASK_AGAIN}"), Speech.plain(ASK_AGAIN))
    return ReadyReminder(wish, view, plan)


def reminder_set(ready: ReadyReminder, *, lead: timedelta, now: datetime, tz: ZoneInfo) -> Reply:
    """What the skill says once the Reminders API has set it."""
    from villages_sync.reminders.plan import confirmation

    said = confirmation(ready.view, ready.plan, lead=lead, today=now.astimezone(tz).date())
    return Reply(Speech.plain(f"{said} {ASK_AGAIN}"), Speech.plain(ASK_AGAIN))
