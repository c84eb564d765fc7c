"""When a reminder rings and what it says; the Reminders API's body; what a change of its event
does to it. Pure: the moment ``now`` and the time zone are passed in.

A reminder rings ``lead`` before its event starts (an hour by default), at a time Alexa reads
in the calendar's zone (America/New_York): a SCHEDULED_ABSOLUTE trigger with the local time
and the zone's id, so a reminder set in winter for a date in summer still rings at the local
hour. An all-day event's reminder rings at the start of the hours it is said to be on
(ALL_DAY_HOURS), whatever the lead.

A moved event's reminder rings ``lead`` before the new start and says where and when it now
is; a cancelled or removed event's reminder keeps its time and says that the event was
cancelled. A reminder whose time has passed has rung: nothing follows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from villages_sync.reminders.change_notice import ChangeKind, EventChange, ListenerView
from villages_sync.skill.speech import say_date, say_time
from villages_sync.skill.timeframe import ALL_DAY_HOURS

DEFAULT_LEAD = timedelta(hours=1)
MIN_LEAD = timedelta(minutes=5)
MAX_LEAD = timedelta(days=2)
SOONEST = timedelta(minutes=1)  # a moved reminder never rings sooner than this after now
LOCALE = "en-US"
SCHEDULED_FORMAT = "%Y-%m-%dT%H:%M:%S"  # the API's local time, without an offset
MAX_REMINDER_TEXT = 250  # the spoken text of a reminder is kept short


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    rings_at: datetime  # aware, in the calendar's zone
    text: str  # what Alexa says when it rings


def event_start(view: ListenerView, tz: ZoneInfo) -> datetime:
    """When the event begins, for a reminder (an all-day event: the start of its hours)."""
    start = ALL_DAY_HOURS[0] if view.all_day or view.start_time is None else view.start_time
    return datetime.combine(view.event_date, start, tzinfo=tz)


def rings_at(view: ListenerView, *, lead: timedelta, tz: ZoneInfo) -> datetime:
    start = event_start(view, tz)
    return start if view.all_day else start - lead


def plan_reminder(view: ListenerView, *, lead: timedelta, tz: ZoneInfo) -> ReminderPlan:
    """A new reminder for the event ``view`` shows."""
    return ReminderPlan(rings_at(view, lead=lead, tz=tz), _cut(_starts_text(view)))


def too_late(plan: ReminderPlan, *, now: datetime) -> bool:
    """The reminder would ring now or in the past (the event is about to start or has)."""
    return plan.rings_at <= now + SOONEST


def confirmation(view: ListenerView, plan: ReminderPlan, *, lead: timedelta, today: date) -> str:
    """What the skill says it set: "I'll remind you at 6 PM on Saturday, an hour before the
    Rockin' Retirees at Brownwood." (the words are the ones the reminder was set with)."""
    when = f"{say_time(plan.rings_at)} {say_day(plan.rings_at.date(), today)}"
    what = f"{view.title}{_at(view.location)}"
    if view.all_day:
        return f"I'll remind you at {when}, the morning of {what}."
    return f"I'll remind you at {when}, {say_lead(lead)} before {what}."


def followed(
    change: EventChange,
    *,
    lead: timedelta,
    rang_at: datetime,
    tz: ZoneInfo,
    now: datetime,
) -> ReminderPlan | None:
    """The reminder after ``change``, or None when there is nothing to follow: it has rung
    (``rang_at``, its current time, is past)."""
    if rang_at <= now:
        return None
    if change.kind is ChangeKind.MOVED and change.after is not None:
        moved = plan_reminder(change.after, lead=lead, tz=tz)
        text = _cut(f"Moved: {_starts_text(change.after)}")
        return ReminderPlan(max(moved.rings_at, now + SOONEST), text)
    when = _when_text(change.before)
    return ReminderPlan(rang_at, _cut(f"{change.before.title}{when}, was cancelled."))


def reminder_body(plan: ReminderPlan, *, tz: ZoneInfo, requested_at: datetime) -> dict[str, Any]:
    """The Reminders API's create or update body: one spoken text, a push notification."""
    local_request = requested_at.astimezone(tz).replace(tzinfo=None)
    return {
        "requestTime": local_request.isoformat(timespec="milliseconds"),
        "trigger": {
            "type": "SCHEDULED_ABSOLUTE",
            "scheduledTime": plan.rings_at.astimezone(tz).strftime(SCHEDULED_FORMAT),
            "timeZoneId": tz.key,
        },
        "alertInfo": {"spokenInfo": {"content": [{"locale": LOCALE, "text": plan.text}]}},
        "pushNotification": {"status": "ENABLED"},
    }


def say_lead(lead: timedelta) -> str:
    """``an hour``, ``30 minutes``, ``2 hours``, ``an hour and 30 minutes``."""
    minutes = int(lead.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append("an hour" if hours == 1 else f"{hours} hours")
    if rest or not hours:
        parts.append(f"{rest} minute" if rest == 1 else f"{rest} minutes")
    return " and ".join(parts)


def say_day(day: date, today: date) -> str:
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    return f"on {day:%A}" if 0 < (day - today).days < 7 else f"on {say_date(day)}"


def _starts_text(view: ListenerView) -> str:
    return f"{view.title}{_at(view.location)}{_when_text(view)}."


def _when_text(view: ListenerView) -> str:
    day = say_date(view.event_date)
    if view.all_day or view.start_time is None:
        return f", all day on {day}"
    return f", {say_time(time(view.start_time.hour, view.start_time.minute))} on {day}"


def _at(location: str) -> str:
    return f" at {location}" if location else ""


def _cut(text: str) -> str:
    return text if len(text) <= MAX_REMINDER_TEXT else text[: MAX_REMINDER_TEXT - 1] + "…"
