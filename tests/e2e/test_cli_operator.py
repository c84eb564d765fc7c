"""The operator's command line as a user meets it: bad settings, failures without tracebacks,
read-only commands that create nothing, the monitoring commands, and 80 columns."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
from support.cli import CLI, run_cli
from support.sqs import message_count
from support.terminal import run_in_terminal
from villages_sync.messages import encode_message
from villages_sync.models import EventMessage
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events, mutate_events
from villages_sync_ops.standin.server import RunningCalendar

# The command line's own behaviour (signals, pipes, terminals, settings), which its
# subprocesses show against one endpoint: once, on moto.
pytestmark = pytest.mark.dynamodb_backends(
    "moto", reason="the command line's behaviour, not DynamoDB's: its subprocesses use one endpoint"
)

TODAY = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def _tables(endpoint: str) -> list[str]:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    return dynamodb.list_tables()["TableNames"]


# -- settings and arguments: exit 2 naming what is wrong, before anything is created ------------
@pytest.mark.parametrize(
    ("shell", "arguments", "named"),
    [
        ({"DAYS_AHEAD": "-3"}, [], "DAYS_AHEAD"),
        ({"MAX_CONCURRENCY": "abc"}, [], "MAX_CONCURRENCY"),
        ({}, ["--days-ahead", "-3"], "DaysAhead"),
        ({}, ["--days-ahead", "abc"], "--days-ahead"),
        ({}, ["--parameter-overrides", "LogLevel=LOUD"], "LogLevel"),
        ({}, ["--parameter-overrides", "NoSuchParameter=1"], "NoSuchParameter"),
        ({}, ["--env-vars", "{file}"], "PAGE_SIZE"),
    ],
)
def test_sync_bad_setting_exits_2_naming_it_and_creates_nothing(
    moto_endpoint, cli_env, tmp_path, shell, arguments, named
):
    # Given a bad setting (a shell variable, a flag, a parameter or an env-vars file)
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"ProducerFunction": {"PAGE_SIZE": "0"}}))
    arguments = [str(env_vars) if a == "{file}" else a for a in arguments]

    # When the user syncs
    result = run_cli(
        "sync", "--endpoint-url", moto_endpoint, "--env", "bad", *arguments,
        env={**cli_env, **shell},
    )  # fmt: skip

    # Then exit 2, the message names the setting, no summary is printed, nothing was created
    assert result.returncode == 2, result.stderr + result.stdout
    assert named in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert _tables(moto_endpoint) == []


def test_sync_env_vars_and_shell_settings_are_applied_and_reported(
    moto_endpoint, cli_env, tmp_path
):
    # Given a shell setting and an env-vars file (SAM's format) for a 200-event calendar
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"ProducerFunction": {"MESSAGE_MAX_EVENTS": "50"}}))
    with RunningCalendar(generate_events(200, seed=3, today=TODAY)) as calendar:
        # When the user syncs with both, and a parameter override
        result = run_cli(
            "sync", "--endpoint-url", moto_endpoint, "--env", "test",
            "--calendar-base-url", calendar.base_url, "--env-vars", str(env_vars),
            "--parameter-overrides", "DaysAhead=30", "--json",
            env={**cli_env, "MAX_CONCURRENCY": "2"},
        )  # fmt: skip

    # Then the run used them (a 30-day window) and reported each one it applied
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    first, last = (datetime.fromisoformat(d).date() for d in summary["run"]["window"])
    assert (last - first).days == 30
    producer = summary["settings"]["ProducerFunction"]
    assert producer["MESSAGE_MAX_EVENTS"] == "50" and producer["MAX_CONCURRENCY"] == "2"
    assert "MAX_CONCURRENCY" not in summary["settings"]["ConsumerFunction"]


# -- failures print one line, never a traceback -------------------------------------------------
def test_bad_state_directory_is_one_line_error(moto_endpoint, cli_env, tmp_path):
    # Given VILLAGES_SYNC_HOME naming a file, and one under a file (cannot be created)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for home in (a_file, a_file / "below"):
        # When a command needs the state directory
        result = run_cli("sync", "--env", "test", env={**cli_env, "VILLAGES_SYNC_HOME": str(home)})

        # Then one line names it and what to do
        assert result.returncode == 1, result.stderr
        assert "VILLAGES_SYNC_HOME" in result.stderr and "Traceback" not in result.stderr


def test_status_into_a_closed_pipe_exits_quietly(deployment, moto_endpoint, cli_env):
    # Given a reader that has gone away before the command writes (`status | head -0`)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*CLI, "status", "--endpoint-url", moto_endpoint, "--env", "test"],
            env=cli_env, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write_end)

    # Then no traceback, the SIGPIPE convention's exit code
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert result.returncode == 141


def test_calendar_serve_on_busy_port_says_so(cli_env):
    # Given a port already taken
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # When the stand-in calendar is asked to serve there
        result = run_cli("calendar", "serve", "--port", str(port), env=cli_env, timeout=60)

    # Then one line: the port and what to do
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_runs_zero_is_a_usage_error(cli_env):
    result = run_cli("status", "--runs", "0", env=cli_env, timeout=60)
    assert result.returncode == 2
    assert "--runs" in result.stderr and "Traceback" not in result.stderr


def test_stack_without_region_says_how_to_give_one(cli_env, tmp_path):
    # Given no region anywhere in the environment or AWS config
    env = {k: v for k, v in cli_env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")

    # When a command targets a stack / Then the error says how to give a region
    result = run_cli("status", "--stack", "villages-sync-prod", env=env, timeout=60)
    assert result.returncode == 1
    assert "--region" in result.stderr and "Traceback" not in result.stderr


def test_debug_flag_shows_the_traceback(cli_env, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    env = {**cli_env, "VILLAGES_SYNC_HOME": str(a_file)}
    result = run_cli("--debug", "sync", env=env, timeout=60)
    assert result.returncode == 1
    assert "Traceback" in result.stderr


# -- read-only commands create nothing -----------------------------------------------------------
def test_read_only_commands_on_a_stopped_emulator_start_nothing(cli_env):
    # Given no emulator running (a fresh state directory)
    home = Path(cli_env["VILLAGES_SYNC_HOME"])

    # When the user reads
    results = [
        run_cli(*command, env=cli_env, timeout=60)
        for command in (
            ("status",),
            ("events",),
            ("runs",),
            ("runs", "show", "20260101T000000.000000Z-abcdef"),
            ("logs",),
        )
    ]

    # Then each says there is nothing to read (exit 1), and no emulator was started
    for result in results:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert "no local emulator is running" in results[0].stderr
    assert not (home / "emulator.json").exists()
    assert run_cli("emulator", "status", env=cli_env, timeout=60).returncode == 1


def test_status_of_a_mistyped_environment_creates_nothing(deployment, moto_endpoint, cli_env):
    # Given the "test" environment deployed / When the user mistypes it
    before = _tables(moto_endpoint)
    result = run_cli(
        "status", "--endpoint-url", moto_endpoint, "--env", "tset", env=cli_env, timeout=60
    )

    # Then exit 1 naming what is missing and what exists; no table or queue was created
    assert result.returncode == 1
    assert "'tset'" in result.stderr and "test" in result.stderr
    assert _tables(moto_endpoint) == before
    queues = boto3.client("sqs", endpoint_url=moto_endpoint).list_queues().get("QueueUrls", [])
    assert not [q for q in queues if "tset" in q]


# -- monitoring and investigating ----------------------------------------------------------------
@pytest.fixture
def two_runs(moto_endpoint, cli_env):
    """Two synced runs of a 200-event calendar that changed in between; their run ids."""
    day_one = generate_events(200, seed=8, today=TODAY)
    day_two = mutate_events(day_one, seed=9, added=10, removed=8, changed=20)
    run_ids = []
    with RunningCalendar(day_one) as calendar:
        for data in (day_one, day_two):
            calendar.set_events(data)
            result = run_cli(
                "sync", "--endpoint-url", moto_endpoint, "--env", "test",
                "--calendar-base-url", calendar.base_url, "--json", env=cli_env,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            run_ids.append(json.loads(result.stdout)["run_id"])
    return run_ids


def test_runs_show_diff_logs_and_80_columns(moto_endpoint, cli_env, two_runs):
    first, second = two_runs
    target = ("--endpoint-url", moto_endpoint, "--env", "test")
    env = {**cli_env, "COLUMNS": "80"}

    # When the operator lists runs, shows one, diffs the two, reads one run's logs
    listed = run_cli("runs", *target, env=env)
    shown = run_cli("runs", "show", second, *target, "--json", env=env)
    shown_text = run_cli("runs", "show", second, *target, env=env)
    diff = run_cli("runs", "diff", first, second, *target, "--json", env=env)
    logs = run_cli("logs", "--run", second, "--function", "producer", env=env)
    status = run_cli("status", *target, env=env)
    events = run_cli("events", *target, "--date", "today", env=env)

    # Then each answers from what is stored
    for result in (listed, shown, shown_text, diff, logs, status, events):
        assert result.returncode == 0, result.stderr
    assert first in listed.stdout and second in listed.stdout
    record = json.loads(shown.stdout)
    assert record["run_id"] == second and record["status"] == "completed"
    assert record["sweep_outcome"] == "swept"
    counts = json.loads(diff.stdout)["counts"]
    assert counts["added"] == 10 and counts["removed"] == 8
    assert counts["rescheduled"] + counts["retitled"] > 0
    assert "run enqueued" in logs.stdout
    assert all("producer" in line for line in logs.stdout.splitlines())
    # And in an 80-column terminal no line of status, events, runs (list and show) is wider
    # (piped, nothing is folded or cut: tests/e2e/test_cli_piped.py)
    for command in (("runs",), ("runs", "show", second), ("status",), ("events",)):
        code, shown = run_in_terminal(*command, *target, env=cli_env, columns=80)
        assert code == 0, shown
        too_wide = [line for line in shown.splitlines() if len(line) > 80]
        assert too_wide == [], too_wide


def test_demo_fits_80_columns(cli_env):
    code, shown = run_in_terminal("demo", "--events", "200", env=cli_env, columns=80)
    assert code == 0, shown[-2000:]
    assert "Run " in shown and len(shown.splitlines()) > 10
    assert [line for line in shown.splitlines() if len(line) > 80] == []


def test_replay_dlq_show_prints_decoded_bodies_and_moves_nothing(
    deployment, moto_endpoint, cli_env
):
    # Given a valid events message and a junk body in the events DLQ
    sqs, dlq = deployment.clients.sqs, deployment.resources.queue_urls["EventsDLQ"]
    message = EventMessage(
        run_id="20261124T161802.123456Z-1a2b3c",
        sequence=4,
        events=generate_events_items(),
    )
    sqs.send_message(QueueUrl=dlq, MessageBody=encode_message(message))
    sqs.send_message(QueueUrl=dlq, MessageBody="not json at all " * 40)

    # When the operator looks at them
    result = run_cli(
        "replay-dlq", "--endpoint-url", moto_endpoint, "--env", "test", "--queue", "events",
        "--show", env=cli_env, timeout=120,
    )  # fmt: skip

    # Then both are described (decoded, truncated), and both are still in the DLQ, visible
    assert result.returncode == 0, result.stderr
    assert "run 20261124T161802.123456Z-1a2b3c message 4" in result.stdout
    assert "not a valid events message" in result.stdout
    assert all(len(line) <= 250 for line in result.stdout.splitlines())
    assert message_count(sqs, dlq, in_flight=False) == 2


def generate_events_items() -> list[dict]:
    from villages_sync.normalise import normalise_events, window_for

    zone = ZoneInfo(DEFAULT_TIMEZONE)
    now = datetime.now(zone)
    raw = generate_events(5, seed=4, today=TODAY)
    return normalise_events(
        raw, tz=zone, window=window_for(now, zone, 90), last_updated=int(now.timestamp())
    ).items


def test_status_watch_redraws_under_a_terminal_until_ctrl_c(deployment, moto_endpoint, cli_env):
    # Given a pseudo-terminal
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*CLI, "status", "--watch", "--interval", "0.3", "--endpoint-url", moto_endpoint,
         "--env", "test"],
        env={**cli_env, "COLUMNS": "80", "TERM": "xterm"},
        stdin=follower, stdout=follower, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    try:
        # When it runs for a few redraws
        deadline = time.monotonic() + 60
        while seen.count(b"(Ctrl-C stops)") < 3 and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if ready:
                seen += os.read(leader, 65536)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)

    # Then it drew the queues at least three times, in place, and Ctrl-C ended it cleanly
    assert seen.count(b"(Ctrl-C stops)") >= 3
    assert b"EventsQueue" in seen and b"Traceback" not in seen
    assert b"\x1b[" in seen  # cursor movement: redrawn in place, not appended
    assert code == 0
