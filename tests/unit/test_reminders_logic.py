"""The reminders' pure logic, as tables: the change feed's Detail read (CONTRACT.md), when a
reminder rings and what it says, what a change does to it, what each Alexa status means, the
message to the skill, the table's records, and one change followed over fakes of the table and
Skill Messaging."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from villages_sync.alexa.apis import ClientCredentials, call
from villages_sync.alexa.http import HttpAnswer
from villages_sync.reminders.change_notice import (
    ChangeKind,
    ListenerView,
    UnreadableChange,
    read_change,
)
from villages_sync.reminders.delivery import Outcome, backoff_seconds, outcome_of
from villages_sync.reminders.follow import follow_change
from villages_sync.reminders.messages import follow_message, read_follow_message
from villages_sync.reminders.plan import (
    ReminderPlan,
    confirmation,
    followed,
    plan_reminder,
    reminder_body,
    say_lead,
    too_late,
)
from villages_sync.reminders.records import MAX_APPLIED, ReminderRecord, ReminderStatus

TZ = ZoneInfo("America/New_York")
CHANGE_ID = "ab" * 32
HOUR = timedelta(hours=1)
RR = "Rockin' Retirees at Brownwood Paddock Square"
RR_SS = "Rockin' Retirees at Spanish Springs Town Square"


def _view(**changed) -> dict:
    view = {
        "title": "Rockin' Retirees",
        "event_date": "2026-12-12",
        "start_time": "19:00",
        "end_time": "21:00",
        "all_day": False,
        "location": "Brownwood Paddock Square",
        "category": "entertainment",
        "cancelled": False,
        "start_iso": "2026-12-12T19:00:00-05:00",
    }
    view.update(changed)
    return view


def _event(kind: str, before: dict | None, after: dict | None, **detail) -> dict:
    return {
        "source": "villages-sync.events",
        "detail-type": kind,
        "detail": {
            "change_id": CHANGE_ID,
            "event_id": "72",
            "before": before,
            "after": after,
            **detail,
        },
    }


# ------------------------------------------------------------------------------- the reader


@pytest.mark.parametrize(
    ("kind", "after", "expected_kind", "after_date"),
    [
        ("Event Moved", _view(event_date="2026-12-13"), ChangeKind.MOVED, date(2026, 12, 13)),
        ("Event Cancelled", _view(cancelled=True), ChangeKind.CANCELLED, date(2026, 12, 12)),
        ("Event Removed", None, ChangeKind.REMOVED, None),
    ],
)
def test_read_change_contract_shapes_are_read(kind, after, expected_kind, after_date):
    change = read_change(_event(kind, _view(), after, run_id=None, changed=["event_date"]))

    assert (change.kind, change.change_id, change.event_id) == (expected_kind, CHANGE_ID, "72")
    assert change.before.start_time == time(19, 0)
    assert (change.after.event_date if change.after else None) == after_date


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({**_event("Event Moved", _view(), _view()), "source": "elsewhere"}, "source"),
        (_event("Event Added", None, _view()), "detail-type"),
        (_event("Event Updated", _view(), _view()), "detail-type"),
        (_event("Event Moved", _view(), _view(), change_id="not-hex"), "change_id"),
        (_event("Event Moved", _view(), _view(), event_id="12; DROP"), "event_id"),
        (_event("Event Moved", None, _view()), "before"),
        (_event("Event Moved", _view(), None), "after"),
        (_event("Event Moved", _view(start_time="7 PM"), _view()), "before"),
        (_event("Event Moved", _view(title=""), _view()), "before.title"),
        (
            {"source": "villages-sync.events", "detail-type": "Event Moved", "detail": "{}"},
            "detail",
        ),
    ],
)
def test_read_change_refuses_what_it_cannot_follow(event, problem):
    with pytest.raises(UnreadableChange, match=problem):
        read_change(event)


# ------------------------------------------------------------------------------- the plan


def _listener(**changed) -> ListenerView:
    return ListenerView.read(_view(**changed), name="event")


@pytest.mark.parametrize(
    ("view", "lead", "rings"),
    [
        (_listener(), HOUR, datetime(2026, 12, 12, 18, 0, tzinfo=TZ)),
        (_listener(), timedelta(minutes=30), datetime(2026, 12, 12, 18, 30, tzinfo=TZ)),
        (
            _listener(start_time="00:30", event_date="2026-12-13"),
            HOUR,
            datetime(2026, 12, 12, 23, 30, tzinfo=TZ),
        ),
        (
            _listener(all_day=True),
            HOUR,
            datetime(2026, 12, 12, 8, 0, tzinfo=TZ),
        ),  # start of its hours
        # the day clocks go back (1 Nov 2026): still an hour of wall clock before 7 PM
        (_listener(event_date="2026-11-01"), HOUR, datetime(2026, 11, 1, 18, 0, tzinfo=TZ)),
    ],
)
def test_plan_reminder_rings_lead_before_the_start(view, lead, rings):
    assert plan_reminder(view, lead=lead, tz=TZ).rings_at == rings


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (
            date(2026, 12, 12),
            f"I'll remind you at 6 PM today, an hour before {RR}.",
        ),
        (
            date(2026, 12, 11),
            f"I'll remind you at 6 PM tomorrow, an hour before {RR}.",
        ),
        (
            date(2026, 12, 8),
            f"I'll remind you at 6 PM on Saturday, an hour before {RR}.",
        ),
        (
            date(2026, 12, 1),
            f"I'll remind you at 6 PM on Saturday, December 12th, an hour before {RR}.",
        ),
    ],
)
def test_confirmation_says_exactly_what_was_set(today, expected):
    view = _listener()
    plan = plan_reminder(view, lead=HOUR, tz=TZ)

    assert confirmation(view, plan, lead=HOUR, today=today) == expected


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (60, "an hour"),
        (30, "30 minutes"),
        (1, "1 minute"),
        (120, "2 hours"),
        (90, "an hour and 30 minutes"),
    ],
)
def test_say_lead(minutes, said):
    assert say_lead(timedelta(minutes=minutes)) == said


def test_reminder_body_is_the_apis_absolute_trigger_in_local_time():
    plan = ReminderPlan(datetime(2026, 7, 4, 18, 0, tzinfo=TZ), "Fireworks.")

    body = reminder_body(
        plan, tz=TZ, requested_at=datetime(2026, 1, 10, 15, 0, tzinfo=ZoneInfo("UTC"))
    )

    assert body == {
        "requestTime": "2026-01-10T10:00:00.000",
        "trigger": {
            "type": "SCHEDULED_ABSOLUTE",
            "scheduledTime": "2026-07-04T18:00:00",
            "timeZoneId": "America/New_York",
        },
        "alertInfo": {"spokenInfo": {"content": [{"locale": "en-US", "text": "Fireworks."}]}},
        "pushNotification": {"status": "ENABLED"},
    }


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=TZ)
RANG_AT = datetime(2026, 12, 12, 18, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("kind", "after", "now", "rings", "text"),
    [
        (
            "Event Moved",
            _view(event_date="2026-12-13", start_time="20:00"),
            NOW,
            datetime(2026, 12, 13, 19, 0, tzinfo=TZ),
            f"Moved: {RR}, 8 PM on Sunday, December 13th.",
        ),
        (
            "Event Moved",
            _view(location="Spanish Springs Town Square"),
            NOW,
            RANG_AT,
            f"Moved: {RR_SS}, 7 PM on Saturday, December 12th.",
        ),
        (
            "Event Cancelled",
            _view(cancelled=True),
            NOW,
            RANG_AT,
            "Rockin' Retirees, 7 PM on Saturday, December 12th, was cancelled.",
        ),
        (
            "Event Removed",
            None,
            NOW,
            RANG_AT,
            "Rockin' Retirees, 7 PM on Saturday, December 12th, was cancelled.",
        ),
        # moved earlier, to within the lead of now: rings a minute from now, never in the past
        (
            "Event Moved",
            _view(event_date="2026-12-01", start_time="12:30"),
            NOW,
            NOW + timedelta(minutes=1),
            f"Moved: {RR}, 12:30 PM on Tuesday, December 1st.",
        ),
    ],
)
def test_followed_moves_or_cancels_the_reminder(kind, after, now, rings, text):
    change = read_change(_event(kind, _view(), after))

    plan = followed(change, lead=HOUR, rang_at=RANG_AT, tz=TZ, now=now)

    assert plan == ReminderPlan(rings, text)


def test_followed_a_reminder_that_has_rung_is_left_alone():
    change = read_change(_event("Event Cancelled", _view(), _view(cancelled=True)))

    assert followed(change, lead=HOUR, rang_at=RANG_AT, tz=TZ, now=RANG_AT) is None


def test_too_late_within_a_minute():
    plan = ReminderPlan(NOW + timedelta(seconds=30), "x")
    assert too_late(plan, now=NOW) and not too_late(ReminderPlan(NOW + HOUR, "x"), now=NOW)


# ------------------------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DONE),
        (201, Outcome.DONE),
        (202, Outcome.DONE),
        (401, Outcome.REFRESH_TOKEN),
        (403, Outcome.REVOKED),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (400, Outcome.FAILED),
        (404, Outcome.FAILED),
    ],
)
def test_outcome_of_each_documented_status(status, outcome):
    assert outcome_of(status) is outcome


@pytest.mark.parametrize(
    ("attempt", "retry_after", "delay"),
    [
        (1, None, 0.25),
        (2, None, 0.5),
        (3, None, 1.0),
        (1, 3.0, 3.0),
        (2, 0.1, 0.5),
        (9, None, 8.0),
        (1, 60, 8.0),
    ],
)
def test_backoff_doubles_honours_retry_after_and_is_capped(attempt, retry_after, delay):
    assert backoff_seconds(attempt, retry_after) == delay


@pytest.mark.parametrize(
    ("statuses", "outcome", "calls", "refreshes", "sleeps"),
    [
        ([202], Outcome.DONE, 1, 0, []),
        ([429, 500, 202], Outcome.DONE, 3, 0, [0.25, 0.5]),
        ([503, 503, 503, 503], Outcome.RETRY, 4, 0, [0.25, 0.5, 1.0]),
        ([401, 202], Outcome.DONE, 2, 1, []),
        ([401, 401], Outcome.REFRESH_TOKEN, 2, 1, []),  # refreshed once, never twice
        ([403], Outcome.REVOKED, 1, 0, []),
        ([400], Outcome.FAILED, 1, 0, []),
    ],
)
def test_call_retries_refreshes_and_stops_as_documented(
    statuses, outcome, calls, refreshes, sleeps
):
    answers, slept, refreshed = iter(statuses), [], []

    result, answer = call(
        lambda: HttpAnswer(next(answers), None),
        sleep=slept.append,
        refresh=lambda: refreshed.append(1),
    )

    assert result is outcome
    assert answer.status == statuses[calls - 1]
    assert (len(refreshed), slept) == (refreshes, sleeps)


def test_client_credentials_never_show_the_secret():
    credentials = ClientCredentials.from_json({"client_id": "amzn1.x", "client_secret": "s3cr3t"})
    assert "s3cr3t" not in repr(credentials) and "s3cr3t" not in str(credentials)
    with pytest.raises(ValueError):
        ClientCredentials.from_json({"client_id": "amzn1.x"})


# ------------------------------------------------------------------------------- messages


def test_follow_message_round_trips_as_strings():
    plan = ReminderPlan(datetime(2026, 12, 13, 19, 0, tzinfo=TZ), "Moved: somewhere.")
    data = follow_message(
        change_id=CHANGE_ID,
        event_id="72",
        alert_token="alert.1",
        plan=plan,
        event_start=datetime(2026, 12, 13, 20, 0, tzinfo=TZ),
    )

    assert all(isinstance(value, str) for value in data.values())
    read = read_follow_message(json.loads(json.dumps(data)))
    assert (read.change_id, read.event_id, read.alert_token, read.plan) == (
        CHANGE_ID,
        "72",
        "alert.1",
        plan,
    )


@pytest.mark.parametrize(
    "changed",
    [
        {"kind": "other"},
        {"change_id": "x"},
        {"event_id": "abc"},
        {"rings_at": "2026-12-13T19:00:00"},  # no offset: which 7 PM?
        {"text": "x" * 1000},
        {"alert_token": ""},
    ],
)
def test_read_follow_message_refuses_anything_else(changed):
    data = follow_message(
        change_id=CHANGE_ID,
        event_id="72",
        alert_token="alert.1",
        plan=ReminderPlan(datetime(2026, 12, 13, 19, 0, tzinfo=TZ), "t"),
        event_start=datetime(2026, 12, 13, 20, 0, tzinfo=TZ),
    )
    with pytest.raises(ValueError):
        read_follow_message({**data, **changed})


# ------------------------------------------------------------------------------- records


def _record(**changed) -> ReminderRecord:
    fields = dict(
        event_id="72",
        alert_token="alert.1",
        user_id="amzn1.ask.account.X",
        lead_minutes=60,
        rings_at=RANG_AT,
        event_start=RANG_AT + HOUR,
        title="Rockin' Retirees",
    )
    fields.update(changed)
    return ReminderRecord(**fields)


def test_record_round_trips_and_expires_a_day_after_the_event():
    record = _record(applied=("c1",))

    assert ReminderRecord.from_item(record.as_item(), TZ) == record
    assert record.ttl == int(datetime(2026, 12, 13, 19, 0, tzinfo=TZ).timestamp())


def test_record_keeps_the_latest_applied_changes_only():
    record = _record(applied=tuple(f"c{n}" for n in range(MAX_APPLIED)))

    after = record.applied_change("new", RANG_AT, RANG_AT + HOUR)

    assert len(after.applied) == MAX_APPLIED and after.applied[-1] == "new"


# ------------------------------------------------------------------------------- following


class FakeStore:
    def __init__(self, records):
        self.records, self.queries, self.revoked = records, 0, []

    def for_event(self, event_id):
        self.queries += 1
        return [r for r in self.records if r.event_id == event_id]

    def mark_revoked(self, record):
        self.revoked.append(record.alert_token)


class FakeMessenger:
    def __init__(self, outcome=Outcome.DONE):
        self.outcome, self.sent = outcome, []

    def send(self, user_id, data):
        self.sent.append((user_id, data))
        return self.outcome


def _follow(records, messenger, *, now=NOW, kind="Event Moved"):
    change = read_change(
        _event(
            kind,
            _view(),
            _view(start_time="20:00") if kind == "Event Moved" else _view(cancelled=True),
        )
    )
    store, built = FakeStore(records), []

    def factory():
        built.append(1)
        return messenger

    report = follow_change(change, reminders=store, messenger=factory, tz=TZ, now=now)
    return report, store, built


def test_follow_change_without_reminders_is_one_query_and_nothing_else():
    report, store, built = _follow([_record(event_id="99")], FakeMessenger())

    assert (store.queries, built, report.reminders) == (1, [], 0)


@pytest.mark.parametrize(
    ("record", "messaged", "already", "not_followed"),
    [
        (_record(), 1, 0, 0),
        (_record(applied=(CHANGE_ID,)), 0, 1, 0),  # a redelivered change
        (_record(status=ReminderStatus.REVOKED), 0, 0, 1),
        (_record(rings_at=NOW - HOUR), 0, 0, 1),  # it has rung
    ],
)
def test_follow_change_messages_each_reminder_still_to_follow(
    record, messaged, already, not_followed
):
    messenger = FakeMessenger()

    report, _, _ = _follow([record], messenger)

    assert (report.messaged, report.already_followed, report.not_followed) == (
        messaged,
        already,
        not_followed,
    )
    assert len(messenger.sent) == messaged
    if messaged:
        user, data = messenger.sent[0]
        assert user == "amzn1.ask.account.X"
        assert read_follow_message(data).plan.rings_at == datetime(2026, 12, 12, 19, 0, tzinfo=TZ)


def test_follow_change_records_a_revoked_permission_and_drops_it():
    report, store, _ = _follow([_record()], FakeMessenger(Outcome.REVOKED))

    assert (report.revoked, report.messaged, store.revoked) == (1, 0, ["alert.1"])
