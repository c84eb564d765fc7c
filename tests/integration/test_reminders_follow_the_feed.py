"""Issue 23 end to end, both halves together: a resident sets a reminder through the skill on
an event a real sync stored; the calendar then moves the event, and later cancels it. Each
next sync runs the real handlers: the consumer's write lands on the events table's stream, the
local stream mapping runs ChangesFunction, which publishes on ChangesBus; the template's rule
puts the Moved / Cancelled change on the reminders queue, drained in the sync's second round;
RemindersFunction messages the stand-in Alexa, which delivers Messaging.MessageReceived to the
skill, and the skill updates the reminder. Nothing here is put on the bus by hand.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from support.reminders import REMINDERS, USER, alexa_side
from support.skill import TZ, at, raw_event, speech_of
from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions
from villages_sync_ops.skill.envelopes import connections_response
from villages_sync_ops.standin.server import RunningCalendar

BW = "Brownwood Paddock Square"
FAST_RETRIES = {"BACKOFF_BASE_SECONDS": "0.01", "TIMEOUT_SECONDS": "5"}

pytestmark = pytest.mark.change_feed


def _calendar(day: date, *, show_at: datetime, cancelled: bool = False) -> list[dict]:
    return [
        raw_event(81, "Early Show", BW, at(day, 17)),
        raw_event(82, "Rockin' Retirees", BW, show_at, cancelled=cancelled),
    ]


def _sync(side, base_url: str) -> None:
    options = SyncOptions(
        calendar_base_url=base_url,
        function_log=io.StringIO(),
        extra_env=FAST_RETRIES,
        function_env={
            REMINDERS: {
                "ALEXA_API_ENDPOINT": side.alexa.base_url,
                "LWA_TOKEN_URL": f"{side.alexa.base_url}/auth/o2/token",
            }
        },
    )
    report = LocalPipeline(side.deployment, options).run_sync()
    assert report.succeeded, report.error
    side.alexa.settle()  # Alexa delivers the accepted messages to the skill


def _set_reminder(side, day: date) -> None:
    """What's on that day; "remind me about the second one"; reminders allowed."""
    now = datetime.now(TZ)
    listed = side.ask("WhatsOnIntent", now=now, granted=False, date=day.isoformat())
    assert "Rockin' Retirees" in speech_of(listed)
    asked = side.ask(
        "RemindIntent", now=now, granted=False, attributes=listed["sessionAttributes"], position="2"
    )
    directive = asked["response"]["directives"][0]
    side.alexa.grant(USER)
    answered = side.send(
        connections_response(
            now=now,
            token=directive["token"],
            status="ACCEPTED",
            attributes=asked.get("sessionAttributes"),
            alexa=side.session(granted=True),
        )
    )
    assert "I'll remind you at 6 PM" in speech_of(answered)


def test_reminder_follows_its_event_moved_then_cancelled_by_the_calendar(deployment):
    day = datetime.now(TZ).date() + timedelta(days=10)
    with (
        alexa_side(deployment) as side,
        RunningCalendar(_calendar(day, show_at=at(day, 19))) as calendar,
    ):
        # Given a synced calendar and a resident's reminder an hour before the 7 PM show
        _sync(side, calendar.base_url)
        _set_reminder(side, day)
        (reminder,) = side.alexa.reminders(USER)
        assert (reminder.version, reminder.scheduled_time) == (1, f"{day.isoformat()}T18:00:00")

        # When the calendar moves the show to the next day at 8 PM, and a run syncs it
        next_day = day + timedelta(days=1)
        calendar.set_events(_calendar(day, show_at=at(next_day, 20)))
        _sync(side, calendar.base_url)

        # Then the reminder rings an hour before the new start and says where and when
        (reminder,) = side.alexa.reminders(USER)
        assert (reminder.version, reminder.scheduled_time) == (2, f"{next_day}T19:00:00")
        assert reminder.text.startswith("Moved: Rockin' Retirees at Brownwood Paddock Square")
        messages = len(side.alexa.requests_to("messages"))
        assert messages == 1  # the unchanged Early Show costs one Query, no message

        # When a run finds the calendar unchanged: nothing is published, nothing changes
        _sync(side, calendar.base_url)
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 2
        assert len(side.alexa.requests_to("messages")) == messages

        # When the calendar cancels the show, and a run syncs it
        calendar.set_events(_calendar(day, show_at=at(next_day, 20), cancelled=True))
        _sync(side, calendar.base_url)

    # Then the reminder keeps its time and says the show was cancelled; nothing is left over
    (reminder,) = side.alexa.reminders(USER)
    assert (reminder.version, reminder.scheduled_time) == (3, f"{next_day}T19:00:00")
    assert reminder.text.endswith("was cancelled.")
    for queue in ("RemindersQueue", "RemindersDLQ", "ChangesFailureQueue"):
        assert side.queue_depth(queue) == 0, queue
