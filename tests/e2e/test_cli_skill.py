"""`villages-sync skill` as an operator runs it: ask, replay a recorded request, list venues."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from support.cli import run_cli
from support.skill import TZ, at, raw_event
from villages_sync.skill.envelopes import whats_on_request
from villages_sync.standin.server import RunningCalendar

SS = "Spanish Springs Town Square"


@pytest.fixture
def synced(moto_endpoint, cli_env):
    """A table synced by the command from a calendar with four events five days ahead."""
    day = datetime.now(TZ).date() + timedelta(days=5)
    events = [
        raw_event(1, "Neon Jukebox", SS, at(day, 17), at(day, 21)),
        raw_event(2, "Gator Bay & Friends", SS, at(day, 19, 30), at(day, 22)),
        raw_event(3, "Morning Tai Chi", SS, at(day, 8), at(day, 9), category="health-and-wellness"),
        raw_event(4, "Fenney Line Dance", "Fenney Recreation Center", at(day, 18)),
    ]
    with RunningCalendar(events) as calendar:
        result = run_cli(
            "sync",
            "--endpoint-url",
            moto_endpoint,
            "--calendar-base-url",
            calendar.base_url,
            "--quiet",
            env=cli_env,
        )
    assert result.returncode == 0, result.stderr
    return day


def test_cli_skill_ask_prints_speech_and_card(moto_endpoint, cli_env, synced):
    # When an operator asks the skill about that evening at Spanish Springs, the day before
    result = run_cli(
        "skill",
        "ask",
        "--endpoint-url",
        moto_endpoint,
        "--date",
        synced.isoformat(),
        "--venue",
        "spanish springs",
        "--part-of-day",
        "evening",
        "--now",
        f"{synced - timedelta(days=1)}T12:00",
        env=cli_env,
    )

    # Then the plain speech and the card are printed
    assert result.returncode == 0, result.stderr
    said = (
        "Alexa: There are 2 events at Spanish Springs tomorrow evening: At 5 PM, Neon Jukebox. "
        "At 7:30 PM, Gator Bay & Friends."
    )
    assert said in result.stdout
    assert "Card: 2 events at Spanish Springs tomorrow evening" in result.stdout
    assert "7:30 PM-10 PM: Gator Bay & Friends (Spanish Springs Town Square)" in result.stdout


def test_cli_skill_request_runs_a_recorded_envelope(moto_endpoint, cli_env, synced, tmp_path):
    # Given a recorded request: what's on at Spanish Springs that day, asked that morning at 7
    recorded = tmp_path / "request.json"
    recorded.write_text(
        json.dumps(whats_on_request(now=at(synced, 7), venue="Spanish Springs")), "utf-8"
    )

    # When it is replayed
    result = run_cli(
        "skill", "request", str(recorded), "--endpoint-url", moto_endpoint, "--json", env=cli_env
    )

    # Then the handler's response envelope is printed
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["response"]["outputSpeech"]["ssml"].startswith(
        "<speak>There are 3 events at Spanish Springs today: At 8 AM, Morning Tai Chi."
    )
    assert "Gator Bay &amp; Friends" in response["response"]["outputSpeech"]["ssml"]


def test_cli_skill_request_refuses_what_is_not_an_envelope(moto_endpoint, cli_env, tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}', "utf-8")

    result = run_cli("skill", "request", str(junk), "--endpoint-url", moto_endpoint, env=cli_env)

    assert result.returncode == 1
    assert "not an Alexa request envelope" in result.stderr


def test_cli_skill_venues_lists_venues_the_model_lacks(moto_endpoint, cli_env, synced):
    # When an operator checks the venues of the next ten days
    result = run_cli(
        "skill", "venues", "--endpoint-url", moto_endpoint, "--days", "10", "--check", env=cli_env
    )

    # Then Fenney (not in the model) is listed, Spanish Springs (in it) is not, and --check fails
    assert result.returncode == 1
    assert "1 not in the interaction model" in result.stdout
    assert "Fenney Recreation Center  (1)" in result.stdout
    assert "Spanish Springs" not in result.stdout.split("not in the interaction model")[1]
