"""Run references (a full id, a unique prefix, ``latest``; never a path) and calendar text
printed as text, never as rich markup (issue 24 items 5 and 9; issue 20's run-id shortcuts)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.cli import run_cli
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_backends(
    "moto", reason="the command line's behaviour, not DynamoDB's: its subprocesses use one endpoint"
)

TODAY = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()
HOSTILE_TITLES = ["Bingo [/b] night", "[link=https://evil.example]Free[/link] pie", "[bold red]x"]


def _sync(moto_endpoint, cli_env, events):
    with RunningCalendar(events) as calendar:
        result = run_cli(
            "sync", "--endpoint-url", moto_endpoint, "--env", "test",
            "--calendar-base-url", calendar.base_url, "--quiet", "--json", env=cli_env,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)["run_id"]


@pytest.fixture
def two_runs(deployment, moto_endpoint, cli_env):
    """Two completed syncs; the calendar's first events carry titles that look like markup."""
    events = generate_events(40, seed=5, today=TODAY)
    for event, title in zip(events, HOSTILE_TITLES, strict=False):
        event["title"] = title
        event["allDay"] = False
        event["start"] = {"date": f"{TODAY.isoformat()}T16:00:00.000Z", "type": "datetime"}
        event["end"] = {"date": f"{TODAY.isoformat()}T17:00:00.000Z", "type": "datetime"}
    return [_sync(moto_endpoint, cli_env, events), _sync(moto_endpoint, cli_env, events)]


def _target(moto_endpoint):
    return ["--endpoint-url", moto_endpoint, "--env", "test"]


def test_events_titles_that_look_like_markup_print_as_text(two_runs, moto_endpoint, cli_env):
    # Given events titled like rich markup; When the operator lists today's events (piped)
    result = run_cli(
        "events", "--date", TODAY.isoformat(), *_target(moto_endpoint),
        env={**cli_env, "COLUMNS": "200"},
    )  # fmt: skip

    # Then the command succeeds and each title is printed as written, brackets and all
    assert result.returncode == 0, result.stderr
    for title in HOSTILE_TITLES:
        assert title in result.stdout


def test_runs_show_takes_latest_a_unique_prefix_or_the_full_id(two_runs, moto_endpoint, cli_env):
    # Given two runs (synced once for the three forms: each pair of syncs is a test's time)
    newest = two_runs[1]
    for reference in ("latest", newest[:-3], newest):
        # When the operator shows the second by each form of reference
        result = run_cli("runs", "show", reference, "--json", *_target(moto_endpoint), env=cli_env)

        # Then it is the newest run, and no display-only field is mixed into the record
        assert result.returncode == 0, (reference, result.stderr)
        shown = json.loads(result.stdout)
        assert shown["run_id"] == newest, reference
        assert "display_status" not in shown
        assert set(shown["stage_seconds"]) == {"producer", "consumers", "total"}


def test_runs_diff_an_ambiguous_prefix_is_a_usage_error_listing_candidates(
    two_runs, moto_endpoint, cli_env
):
    # Given a prefix both runs share (their date)
    prefix = two_runs[0][:8]

    # When it is used
    result = run_cli("runs", "show", prefix, *_target(moto_endpoint), env=cli_env)

    # Then exit 2 naming both runs
    assert result.returncode == 2, result.stderr
    assert two_runs[0] in result.stderr and two_runs[1] in result.stderr


@pytest.mark.parametrize("reference", ["../../../etc/passwd", "a/b", "nonsense", "..jsonl"])
def test_logs_run_takes_run_ids_only(cli_env, tmp_path, reference):
    # Given a planted JSON-lines file outside the state directory
    planted = tmp_path / "planted.jsonl"
    planted.write_text('{"message": "planted secret", "level": "INFO"}\n')

    # When `logs --run` is given something that is not a run reference
    result = run_cli("logs", "--run", reference, env=cli_env)

    # Then it is a usage error and nothing is read
    assert result.returncode == 2, result.stdout + result.stderr
    assert "planted" not in result.stdout
    assert "is not a run id" in result.stderr


def test_logs_run_latest_and_prefix_find_the_local_log(two_runs, cli_env):
    for reference in ("latest", two_runs[1][:-2]):
        result = run_cli("logs", "--run", reference, "--json", env=cli_env)
        assert result.returncode == 0, result.stderr
        assert two_runs[1] in result.stdout
        assert two_runs[0] not in result.stdout


def test_runs_diff_shows_all_day_events_as_all_day(deployment, moto_endpoint, cli_env):
    # Given a run of the calendar's timed events, then one that also lists its all-day events
    # (whose stored start_time is a placeholder, 00:00)
    events = generate_events(60, seed=5, today=TODAY)
    all_day = {str(e["id"]) for e in events if e["allDay"]}
    assert all_day
    first = _sync(moto_endpoint, cli_env, [e for e in events if not e["allDay"]])
    second = _sync(moto_endpoint, cli_env, events)

    # When the operator diffs the two, as a table (piped, wide) and as JSON
    env = {**cli_env, "COLUMNS": "200"}
    text = run_cli("runs", "diff", first, second, *_target(moto_endpoint), env=env)
    as_json = run_cli("runs", "diff", first, second, *_target(moto_endpoint), "--json", env=env)

    # Then each added event is an all-day one, shown as "all day", never as midnight
    assert text.returncode == 0 and as_json.returncode == 0, text.stderr + as_json.stderr
    added = [line for line in text.stdout.splitlines() if line.lstrip("│ ").startswith("added")]
    assert len(added) == len(all_day)
    assert all("all day" in line and "00:00" not in line for line in added), added
    diff = json.loads(as_json.stdout)
    assert {e["event_id"] for e in diff["added"]} == all_day
    assert all(e["all_day"] is True for e in diff["added"])
