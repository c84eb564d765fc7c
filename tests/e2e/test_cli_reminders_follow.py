"""A reminder set with `skill ask` follows its event when a later `sync` finds it moved: the
command sequence a stranger runs, each step its own process, sharing only the state directory
(the stand-in Alexa's reminders) and the local emulator (the tables and queues)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import boto3
from support.cli import run_cli
from support.skill import TZ, at, raw_event
from villages_sync_ops.standin.server import RunningCalendar

BW = "Brownwood Paddock Square"


def _calendar(day: date, *, show_at: datetime) -> list[dict]:
    return [
        raw_event(81, "Early Show", BW, at(day, 17)),
        raw_event(82, "Rockin' Retirees", BW, show_at),
    ]


def _queue_depth(endpoint: str, name: str) -> int:
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[n]) for n in names)


def test_cli_sync_moves_the_reminder_skill_ask_set(moto_endpoint, cli_env):
    day = datetime.now(TZ).date() + timedelta(days=10)
    next_day = day + timedelta(days=1)
    target = ["--endpoint-url", moto_endpoint]
    with RunningCalendar(_calendar(day, show_at=at(day, 19))) as calendar:
        sync = ["sync", *target, "--calendar-base-url", calendar.base_url, "--quiet"]
        # Given a synced calendar, and a reminder set an hour before the second show that day
        first = run_cli(*sync, env=cli_env)
        assert first.returncode == 0, first.stderr
        asked = run_cli("skill", "ask", *target, "--date", day.isoformat(), env=cli_env)
        assert asked.returncode == 0, asked.stderr
        reminded = run_cli("skill", "ask", "remind me about the second one", *target, env=cli_env)
        assert reminded.returncode == 0, reminded.stderr
        assert "I'll remind you at 6 PM" in reminded.stdout

        # When the calendar moves that show to the next day at 8 PM, and a sync runs
        calendar.set_events(_calendar(day, show_at=at(next_day, 20)))
        second = run_cli(*sync, env=cli_env)

    # Then the sync succeeds, the reminder rings an hour before the new start and says so,
    # and nothing is left on the reminders' queue or its DLQ
    assert second.returncode == 0, second.stdout + second.stderr
    assert "reminder message" not in second.stderr  # every message reached the skill
    listed = run_cli("reminders", "--json", env=cli_env)
    assert listed.returncode == 0, listed.stderr
    (reminder,) = json.loads(listed.stdout)
    assert reminder["trigger"]["scheduledTime"] == f"{next_day.isoformat()}T19:00:00"
    assert reminder["version"] == "2"
    spoken = reminder["alertInfo"]["spokenInfo"]["content"][0]["text"]
    assert spoken.startswith("Moved: Rockin' Retirees at Brownwood Paddock Square")
    for queue in ("villages-reminders-local", "villages-reminders-local-dlq"):
        assert _queue_depth(moto_endpoint, queue) == 0, queue
