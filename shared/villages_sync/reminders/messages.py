"""The message the RemindersFunction sends a skill through Skill Messaging, and the skill's
reader of it (a Messaging.MessageReceived request's ``message``). Pure.

Skill Messaging's ``data`` is key/value pairs of strings. The skill reads it as untrusted
input (it comes from Alexa, signed by our own function, but a reader that trusts its input is
a bug waiting): every field checked, lengths bounded, times parsed as aware datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from villages_sync.reminders.plan import MAX_REMINDER_TEXT, ReminderPlan

KIND = "villages-sync.reminder-follow"
_CHANGE_ID = re.compile(r"^[0-9a-f]{64}$")
_EVENT_ID = re.compile(r"^[0-9]{1,20}$")
MAX_TOKEN_CHARS = 400


@dataclass(frozen=True, slots=True)
class FollowMessage:
    change_id: str
    event_id: str
    alert_token: str
    plan: ReminderPlan
    event_start: datetime  # the event's start after the change (the record's TTL follows it)


def follow_message(
    *, change_id: str, event_id: str, alert_token: str, plan: ReminderPlan, event_start: datetime
) -> dict[str, str]:
    return {
        "kind": KIND,
        "change_id": change_id,
        "event_id": event_id,
        "alert_token": alert_token,
        "rings_at": plan.rings_at.isoformat(),
        "event_start": event_start.isoformat(),
        "text": plan.text,
    }


def read_follow_message(message: Any) -> FollowMessage:
    """Raises ValueError for anything but a message ``follow_message`` could have written."""
    if not isinstance(message, Mapping) or message.get("kind") != KIND:
        raise ValueError("not a reminder-follow message")
    change_id, event_id = _text(message, "change_id", 64), _text(message, "event_id", 20)
    if not _CHANGE_ID.match(change_id) or not _EVENT_ID.match(event_id):
        raise ValueError("change_id or event_id")
    text = _text(message, "text", MAX_REMINDER_TEXT)
    return FollowMessage(
        change_id=change_id,
        event_id=event_id,
        alert_token=_text(message, "alert_token", MAX_TOKEN_CHARS),
        plan=ReminderPlan(_aware(message, "rings_at"), text),
        event_start=_aware(message, "event_start"),
    )


def _text(message: Mapping[str, Any], key: str, limit: int) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(key)
    return value


def _aware(message: Mapping[str, Any], key: str) -> datetime:
    moment = datetime.fromisoformat(_text(message, key, 40))
    if moment.tzinfo is None:
        raise ValueError(key)
    return moment
