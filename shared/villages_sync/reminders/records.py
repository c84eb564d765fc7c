"""Who has a reminder for which event: one item of the reminders table per reminder. Pure.

Keyed by the event (``event_id``, the partition: a change costs one Query) and the reminder's
alert token (``reminder_key``: Alexa's id of the reminder, unique per user). ``applied`` holds
the ids of the changes already followed, so a redelivered change changes nothing. The item
expires (``ttl``) a day after the event, as the reminder no longer matters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

KEPT_AFTER_EVENT = timedelta(days=1)
MAX_APPLIED = 50  # change ids kept per reminder (an event changes a few times at most)


class ReminderStatus(StrEnum):
    SET = "set"  # followed when its event changes
    REVOKED = "revoked"  # the listener took the skill's permission away: never followed again


@dataclass(frozen=True, slots=True)
class ReminderRecord:
    event_id: str
    alert_token: str
    user_id: str
    lead_minutes: int
    rings_at: datetime  # aware, in the calendar's zone
    event_start: datetime  # aware: the TTL is counted from it
    title: str
    status: ReminderStatus = ReminderStatus.SET
    applied: tuple[str, ...] = field(default_factory=tuple)

    @property
    def lead(self) -> timedelta:
        return timedelta(minutes=self.lead_minutes)

    @property
    def ttl(self) -> int:
        return int((self.event_start + KEPT_AFTER_EVENT).timestamp())

    def applied_change(
        self, change_id: str, rings_at: datetime, event_start: datetime
    ) -> ReminderRecord:
        applied = (*self.applied, change_id)[-MAX_APPLIED:]
        return replace(self, applied=applied, rings_at=rings_at, event_start=event_start)

    def as_item(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "reminder_key": self.alert_token,
            "user_id": self.user_id,
            "lead_minutes": self.lead_minutes,
            "rings_at": self.rings_at.isoformat(),
            "event_start": self.event_start.isoformat(),
            "title": self.title,
            "status": str(self.status),
            "applied": list(self.applied),
            "ttl": self.ttl,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any], tz: ZoneInfo) -> ReminderRecord:
        """Raises ValueError (or KeyError) for an item that is not a reminder."""
        applied = item.get("applied") or []
        if not isinstance(applied, list):
            raise ValueError("applied")
        return cls(
            event_id=str(item["event_id"]),
            alert_token=str(item["reminder_key"]),
            user_id=str(item["user_id"]),
            lead_minutes=int(item["lead_minutes"]),
            rings_at=_aware(str(item["rings_at"]), tz),
            event_start=_aware(str(item["event_start"]), tz),
            title=str(item.get("title", "")),
            status=ReminderStatus(str(item.get("status", ReminderStatus.SET))),
            applied=tuple(str(change_id) for change_id in applied),
        )


def _aware(text: str, tz: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(tz)
