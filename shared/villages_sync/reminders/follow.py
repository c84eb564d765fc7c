"""One change of the feed, followed to every reminder of its event: the RemindersFunction's
work for one queue record. The table and Skill Messaging are passed in (adapters).

One Query finds the event's reminders; an event nobody asked to be reminded of costs that
Query and nothing else (no secret read, no token fetched: both are lazy). Each reminder still
set, that has not already followed this change (``applied``: redelivery changes nothing) and
has not rung yet, gets one message; the skill's Messaging.MessageReceived handler updates the
reminder with the Reminders API and records the change. A 403 from Skill Messaging (the
listener disabled the skill or revoked its permission) is recorded and the reminder dropped;
any other failure, after the retries, fails the record (it returns to the queue, then its DLQ).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from villages_sync.reminders.change_notice import ChangeKind, EventChange
from villages_sync.reminders.delivery import Outcome
from villages_sync.reminders.messages import follow_message
from villages_sync.reminders.plan import event_start, followed
from villages_sync.reminders.records import ReminderRecord, ReminderStatus


class ReminderStore(Protocol):
    def for_event(self, event_id: str) -> list[ReminderRecord]: ...
    def mark_revoked(self, record: ReminderRecord) -> None: ...


class Messenger(Protocol):
    def send(self, user_id: str, data: Mapping[str, str]) -> Outcome: ...


@dataclass(slots=True)
class FollowReport:
    reminders: int = 0  # of the event, as the Query found them
    messaged: int = 0
    already_followed: int = 0  # this change was applied before (a redelivery)
    not_followed: int = 0  # revoked earlier, or rung already
    revoked: int = 0  # found revoked now (403)

    def as_dict(self) -> dict[str, int]:
        return {
            "reminders": self.reminders,
            "messaged": self.messaged,
            "already_followed": self.already_followed,
            "not_followed": self.not_followed,
            "revoked": self.revoked,
        }


def follow_change(
    change: EventChange,
    *,
    reminders: ReminderStore,
    messenger: Callable[[], Messenger],
    tz: ZoneInfo,
    now: datetime,
) -> FollowReport:
    report = FollowReport()
    records = reminders.for_event(change.event_id)
    report.reminders = len(records)
    for record in records:
        if change.change_id in record.applied:
            report.already_followed += 1
            continue
        plan = followed(change, lead=record.lead, rang_at=record.rings_at, tz=tz, now=now)
        if record.status is not ReminderStatus.SET or plan is None:
            report.not_followed += 1
            continue
        view = change.after if change.kind is ChangeKind.MOVED and change.after else change.before
        data = follow_message(
            change_id=change.change_id,
            event_id=change.event_id,
            alert_token=record.alert_token,
            plan=plan,
            event_start=event_start(view, tz),
        )
        if messenger().send(record.user_id, data) is Outcome.REVOKED:
            reminders.mark_revoked(record)
            report.revoked += 1
        else:
            report.messaged += 1
    return report
