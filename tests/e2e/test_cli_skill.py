"""`villages-sync skill` as an operator runs it: ask, replay a recorded request, list venues."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import boto3
import pytest
from support.cli import run_cli
from support.skill import TZ, at, raw_event
from villages_sync_ops.skill.envelopes import whats_on_request
from villages_sync_ops.standin.server import RunningCalendar

SS = "Spanish Springs Town Square"
PACKAGE = Path(__file__).resolve().parents[2] / "skill-package"


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


# -- read-only: the skill's commands create nothing ----------------------------------------------
def _tables(endpoint: str) -> set[str]:
    return set(boto3.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"])


def test_cli_skill_read_only_commands_start_no_emulator(cli_env):
    # Given no emulator running (a fresh state directory)
    home = Path(cli_env["VILLAGES_SYNC_HOME"])

    # When the operator asks the skill, lists its venues or checks them against the table
    results = [
        run_cli("skill", *command, env=cli_env, timeout=60)
        for command in (
            ("ask", "--date", "tomorrow"),
            ("venues",),
            ("venues", "--check"),
            ("check", "--env", "local"),
        )
    ]

    # Then each is one line saying there is nothing to read, exit 1, and no emulator started
    for result in results:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "no local emulator is running" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (home / "emulator.json").exists()


def test_cli_skill_mistyped_environment_is_an_error_and_creates_nothing(
    moto_endpoint, cli_env, synced
):
    # Given the "local" environment synced / When the operator mistypes it
    before = _tables(moto_endpoint)
    target = ("--endpoint-url", moto_endpoint, "--env", "lcoal")
    results = [
        run_cli("skill", *command, *target, env=cli_env, timeout=60)
        for command in (("ask", "--date", "tomorrow"), ("venues",), ("venues", "--check"))
    ]

    # Then each exits 1 with one line naming the environment; no table was created for it
    for result in results:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "'lcoal'" in result.stderr and "local" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "no events" not in result.stdout
    assert _tables(moto_endpoint) == before


# -- skill check: the certification pre-flight ---------------------------------------------------
def test_cli_skill_check_passes_the_shipped_package(cli_env):
    result = run_cli("skill", "check", env=cli_env, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "skill check: no problems" in result.stdout


def test_cli_skill_check_names_each_problem_of_a_broken_package(cli_env, tmp_path):
    # Given a copy of the package with a launch phrase in its invocation name, an example
    # phrase no sample says, a sample in two intents and the large icon the wrong size
    package = tmp_path / "skill-package"
    shutil.copytree(PACKAGE, package)
    model_path = package / "interactionModels/custom/en-US.json"
    model = json.loads(model_path.read_text())
    language = model["interactionModel"]["languageModel"]
    language["invocationName"] = "ask villages"
    help_intent = next(i for i in language["intents"] if i["name"] == "AMAZON.HelpIntent")
    help_intent["samples"].append("more")
    model_path.write_text(json.dumps(model))
    manifest_path = package / "skill.json"
    manifest = json.loads(manifest_path.read_text())
    locale = manifest["manifest"]["publishingInformation"]["locales"]["en-US"]
    locale["examplePhrases"] = [
        "Alexa, open ask villages",
        "Alexa, ask ask villages to juggle flaming torches for me",
    ]
    manifest_path.write_text(json.dumps(manifest))
    large = package / locale["largeIconUri"].removeprefix("file://")
    large.write_bytes((package / locale["smallIconUri"].removeprefix("file://")).read_bytes())

    # When the pre-flight runs on it
    result = run_cli("skill", "check", "--package", str(package), env=cli_env, timeout=60)

    # Then it exits 1 naming each problem, one a line
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    expected = [
        "invocation name: 'ask villages' contains the launch phrase 'ask'",
        "sample: 'more' is a sample of AMAZON.HelpIntent, AMAZON.NextIntent",
        "'to juggle flaming torches for me' is no sample utterance",
        "is 108x108; it must be 512x512",
    ]
    for fragment in expected:
        assert any(fragment in line for line in lines), (fragment, result.stdout)
    assert "4 problem(s)" in result.stdout


def test_cli_skill_check_without_a_package_is_a_usage_error(cli_env, tmp_path):
    result = run_cli("skill", "check", "--package", str(tmp_path), env=cli_env, timeout=60)

    assert result.returncode == 2
    assert "no skill.json" in result.stderr


def test_cli_skill_check_with_a_table_names_venues_the_catalogue_lacks(
    moto_endpoint, cli_env, synced
):
    # When the pre-flight is given the synced table
    result = run_cli(
        "skill", "check", "--endpoint-url", moto_endpoint, "--days", "10", env=cli_env, timeout=60
    )

    # Then the package passes but Fenney, which the calendar lists and the model lacks, fails it
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == (
        "venue catalogue: 'Fenney Recreation Center' (1 event) is in the table but not in "
        "villages_sync/skill/catalog.py"
    )
    assert "1 problem(s)" in result.stdout


def test_cli_skill_ask_remind_me_in_a_conversation_then_reminders_lists_it(
    moto_endpoint, cli_env, synced
):
    # Given an answer listing that day's events at Spanish Springs
    asked = run_cli(
        "skill", "ask", "--endpoint-url", moto_endpoint, "--date", synced.isoformat(),
        "--venue", "spanish springs", env=cli_env,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr

    # When the resident follows up with "remind me about the second one" (and allows it)
    reminded = run_cli(
        "skill", "ask", "remind me about the second one", "--endpoint-url", moto_endpoint,
        env=cli_env,
    )  # fmt: skip

    # Then Alexa asked for the permission, and says exactly what it set
    assert reminded.returncode == 0, reminded.stderr
    assert "asks you to allow Villages Events to set reminders" in reminded.stdout
    assert "I'll remind you at 4 PM" in reminded.stdout  # Neon Jukebox, 5 PM, an hour before
    assert "an hour before Neon Jukebox at Spanish Springs Town Square" in reminded.stdout
    listed = run_cli("reminders", "--json", env=cli_env)
    assert listed.returncode == 0, listed.stderr
    (reminder,) = json.loads(listed.stdout)
    assert reminder["trigger"]["scheduledTime"] == f"{synced.isoformat()}T16:00:00"
    plain = run_cli("reminders", env=cli_env)
    assert f"{synced.isoformat()}T16:00:00  Neon Jukebox at Spanish Springs" in plain.stdout


def test_cli_skill_ask_follow_up_without_a_question_first_is_a_usage_error(moto_endpoint, cli_env):
    result = run_cli(
        "skill", "ask", "remind me about the second one", "--endpoint-url", moto_endpoint,
        env=cli_env,
    )  # fmt: skip

    assert result.returncode != 0
    assert "ask a question first" in result.stderr
