"""Reminders that follow their event, end to end through the real handlers: a resident asks
the skill what's on, asks for a reminder (Alexa asks for the permission; granted or refused),
the stand-in Alexa holds the reminder; then a change shaped as CONTRACT.md says is put on
ChangesBus, the template's rule puts it on the reminders queue (moto delivers PutEvents to SQS
targets), the RemindersFunction's SQS mapping runs it, and the stand-in delivers its Skill
Messaging message to the skill, which updates the reminder. Outcomes are read from the
stand-in (what Alexa holds), the reminders table and the queues.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from support.reminders import (
    USER,
    alexa_side,
    change_entry,
    listener_view,
    moved_to,
    store_events,
)
from support.skill import TZ, at, raw_event, speech_of
from villages_sync_ops.skill.envelopes import connections_response

BW = "Brownwood Paddock Square"


def _day() -> date:
    return datetime.now(TZ).date() + timedelta(days=10)


def _concerts(deployment):
    day = _day()
    raws = [
        raw_event(71, "Early Show", BW, at(day, 17)),
        raw_event(72, "Rockin' Retirees", BW, at(day, 19)),
    ]
    return day, store_events(deployment, raws, datetime.now(TZ).date())


def _bus(deployment) -> str:
    return deployment.resources.event_buses["ChangesBus"]


def _ask_for_reminder(side, day: date, *, answer: str):
    """What's on, "remind me about the second one", and the permission asked and answered."""
    now = datetime.now(TZ)
    listed = side.ask("WhatsOnIntent", now=now, granted=False, date=day.isoformat())
    assert "Rockin' Retirees" in speech_of(listed)
    asked = side.ask(
        "RemindIntent",
        now=now,
        granted=False,
        attributes=listed["sessionAttributes"],
        position="2",
    )
    directive = asked["response"]["directives"][0]
    assert directive["type"] == "Connections.SendRequest"
    assert directive["name"] == "AskFor"
    assert directive["payload"]["permissionScopes"][0]["permissionScope"] == (
        "alexa::alerts:reminders:skill:readwrite"
    )
    if answer == "ACCEPTED":
        side.alexa.grant(USER)
    envelope = connections_response(
        now=now,
        token=directive["token"],
        status=answer,
        attributes=asked.get("sessionAttributes"),
        alexa=side.session(granted=answer == "ACCEPTED"),
    )
    return side.send(envelope)


def test_reminder_permission_granted_set_then_follows_move_and_cancel_exactly_once(deployment):
    # Given a resident who asked for a reminder and allowed reminders
    day, items = _concerts(deployment)
    with alexa_side(deployment) as side:
        answered = _ask_for_reminder(side, day, answer="ACCEPTED")

        said = speech_of(answered)
        assert "I'll remind you at 6 PM" in said
        assert "an hour before Rockin' Retirees at Brownwood Paddock Square" in said
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.scheduled_time == f"{day.isoformat()}T18:00:00"
        assert reminder.body["trigger"]["timeZoneId"] == "America/New_York"
        (record,) = side.reminder_items()
        assert (record["event_id"], record["reminder_key"]) == ("72", reminder.alert_token)

        # When the concert moves to the next day at 8 PM
        later = at(day + timedelta(days=1), 20)
        moved = change_entry(
            "Event Moved", items[1], after=moved_to(items[1], later), bus=_bus(deployment)
        )
        side.put_change(moved)
        side.follow_changes()

        # Then the reminder rings an hour before the new start, and says so
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 2
        assert reminder.scheduled_time == f"{(day + timedelta(days=1)).isoformat()}T19:00:00"
        assert reminder.text.startswith("Moved: Rockin' Retirees at Brownwood Paddock Square, 8 PM")

        # When the same change is delivered again: nothing changes
        messages_before = len(side.alexa.requests_to("messages"))
        side.put_change(moved)
        side.follow_changes()
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 2
        assert len(side.alexa.requests_to("messages")) == messages_before

        # When it is then cancelled: same time, says it was cancelled
        moved_view = moved_to(items[1], later)
        cancelled = change_entry(
            "Event Cancelled",
            {**items[1], **moved_view},
            after={**moved_view, "cancelled": True},
            bus=_bus(deployment),
        )
        side.put_change(cancelled)
        side.follow_changes()
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 3
        assert reminder.scheduled_time == f"{(day + timedelta(days=1)).isoformat()}T19:00:00"
        assert reminder.text.endswith("was cancelled.")
        assert side.queue_depth("RemindersQueue") == side.queue_depth("RemindersDLQ") == 0


def test_reminder_permission_refused_sends_the_consent_card_and_sets_nothing(deployment):
    # Given a resident who refuses the permission Alexa asks for
    day, _ = _concerts(deployment)
    with alexa_side(deployment) as side:
        answered = _ask_for_reminder(side, day, answer="DENIED")

        # Then the skill says so and sends the permissions card; nothing is set or recorded
        assert "Without your permission I can't set reminders" in speech_of(answered)
        card = answered["response"]["card"]
        assert card["type"] == "AskForPermissionsConsent"
        assert card["permissions"] == ["alexa::alerts:reminders:skill:readwrite"]
        assert side.alexa.reminders() == []
        assert side.reminder_items() == []


def test_reminder_yes_to_want_a_reminder_sets_it_for_the_event_just_told(deployment):
    # Given a resident who already allowed reminders and heard the first event's details
    day, _ = _concerts(deployment)
    now = datetime.now(TZ)
    with alexa_side(deployment) as side:
        side.alexa.grant(USER)
        listed = side.ask("WhatsOnIntent", now=now, granted=True, date=day.isoformat())
        told = side.ask(
            "DetailsIntent",
            now=now,
            granted=True,
            attributes=listed["sessionAttributes"],
            position="1",
        )
        assert "Want a reminder?" in speech_of(told)

        # When they say yes
        answered = side.ask(
            "AMAZON.YesIntent", now=now, granted=True, attributes=told["sessionAttributes"]
        )

        # Then the reminder is set for that event, an hour before it
        assert "I'll remind you at 4 PM" in speech_of(answered)
        assert "an hour before Early Show" in speech_of(answered)
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.scheduled_time == f"{day.isoformat()}T16:00:00"


def test_reminders_change_of_an_event_without_reminders_calls_no_alexa_api(deployment):
    # Given a reminder for one event only
    day, items = _concerts(deployment)
    with alexa_side(deployment) as side:
        _ask_for_reminder(side, day, answer="ACCEPTED")
        before = list(side.alexa.requests)

        # When the other event is cancelled
        cancelled = change_entry(
            "Event Cancelled",
            items[0],
            after=listener_view(items[0], cancelled=True),
            bus=_bus(deployment),
        )
        side.put_change(cancelled)
        report = side.follow_changes()

        # Then the change is consumed without a token, a message or an update
        assert report.records_deleted == 1
        assert side.alexa.requests == before
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 1


@pytest.mark.parametrize(
    ("route", "statuses", "token_requests"),
    [
        ("messages", [429, 500], 1),  # throttled, then down: retried with back-off
        ("messages", [401], 2),  # token expired: a new one, once
        ("token", [503], 1),  # LWA itself unavailable for a moment
        ("reminders.update", [429, 503], 1),  # the skill's update retried likewise
    ],
)
def test_reminders_transient_faults_are_retried_and_the_reminder_updated_once(
    deployment, route, statuses, token_requests
):
    day, items = _concerts(deployment)
    with alexa_side(deployment) as side:
        _ask_for_reminder(side, day, answer="ACCEPTED")
        for status in statuses:
            side.alexa.fail_next(route, status, retry_after=0 if status == 429 else None)

        moved = change_entry(
            "Event Moved", items[1], after=moved_to(items[1], at(day, 21)), bus=_bus(deployment)
        )
        side.put_change(moved)
        side.follow_changes()

        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 2
        assert reminder.scheduled_time == f"{day.isoformat()}T20:00:00"
        assert (
            len([r for r in side.alexa.requests_to("token") if r.status == 200]) == token_requests
        )
        assert side.queue_depth("RemindersQueue") == side.queue_depth("RemindersDLQ") == 0


def test_reminders_skill_token_rejected_alexa_delivers_again_with_a_fresh_one(deployment):
    day, items = _concerts(deployment)
    with alexa_side(deployment) as side:
        _ask_for_reminder(side, day, answer="ACCEPTED")
        side.alexa.fail_next("reminders.update", 401)

        side.put_change(
            change_entry(
                "Event Moved", items[1], after=moved_to(items[1], at(day, 21)), bus=_bus(deployment)
            )
        )
        side.follow_changes()

        (delivery,) = side.alexa.deliveries
        assert (delivery.attempts, delivery.delivered) == (2, True)
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 2


@pytest.mark.parametrize("where", ["messaging", "reminders"])
def test_reminders_revoked_permission_is_recorded_and_dropped(deployment, where):
    day, items = _concerts(deployment)
    with alexa_side(deployment) as side:
        _ask_for_reminder(side, day, answer="ACCEPTED")
        if where == "messaging":
            side.alexa.disable_skill(USER)  # Skill Messaging answers 403
        else:
            side.alexa.revoke(USER)  # the Reminders API answers 403

        side.put_change(
            change_entry(
                "Event Moved", items[1], after=moved_to(items[1], at(day, 21)), bus=_bus(deployment)
            )
        )
        side.follow_changes()

        (record,) = side.reminder_items()
        assert record["status"] == "revoked"
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 1
        assert side.queue_depth("RemindersQueue") == side.queue_depth("RemindersDLQ") == 0


def test_reminders_alexa_down_sends_the_change_to_the_dlq(deployment):
    day, items = _concerts(deployment)
    with alexa_side(deployment) as side:
        _ask_for_reminder(side, day, answer="ACCEPTED")
        side.alexa.fail_next("messages", 503, times=100)

        side.put_change(
            change_entry(
                "Event Moved", items[1], after=moved_to(items[1], at(day, 21)), bus=_bus(deployment)
            )
        )
        side.follow_changes()

        assert side.queue_depth("RemindersQueue") == 0
        assert side.queue_depth("RemindersDLQ") == 1
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 1


def test_reminders_removed_event_keeps_its_time_and_says_it_was_cancelled(deployment):
    # Given a reminder for the 7 PM concert
    day, items = _concerts(deployment)
    with alexa_side(deployment) as side:
        _ask_for_reminder(side, day, answer="ACCEPTED")

        # When the sweep removes the event (the feed's Event Removed: no after)
        side.put_change(change_entry("Event Removed", items[1], after=None, bus=_bus(deployment)))
        side.follow_changes()

        # Then the reminder rings when it would have, and says the concert was cancelled
        (reminder,) = side.alexa.reminders(USER)
        assert reminder.version == 2
        assert reminder.scheduled_time == f"{day.isoformat()}T18:00:00"
        assert reminder.text.startswith("Rockin' Retirees, 7 PM on")
        assert reminder.text.endswith("was cancelled.")


def test_reminders_wrong_lwa_client_fails_to_the_dlq_without_a_message(deployment):
    # Given the SSM parameter holding a secret LWA does not accept
    day, items = _concerts(deployment)
    with alexa_side(deployment, client_secret="not-the-secret") as side:
        _ask_for_reminder(side, day, answer="ACCEPTED")

        # When a change of that event comes
        side.put_change(
            change_entry(
                "Event Moved", items[1], after=moved_to(items[1], at(day, 21)), bus=_bus(deployment)
            )
        )
        side.follow_changes()

        # Then LWA refused the client each time, nothing was sent, the change is in the DLQ
        assert {r.status for r in side.alexa.requests_to("token")} == {401}
        assert side.alexa.requests_to("messages") == []
        assert side.queue_depth("RemindersDLQ") == 1
