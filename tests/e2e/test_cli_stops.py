"""The command line stopped the ways cron, systemd, CI and pipes stop it.

A background job of a script ignores SIGINT, so SIGTERM must stop a sync by itself; a reader
that goes away (``| head``) is an interruption like any other. Each is sent for real: a signal
to a background job of ``bash``, a pipe whose reading end is closed. Every wait polls with a
deadline.
"""

from __future__ import annotations

import os
import select
import shlex
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.cli import CLI, run_cli
from support.sqs import message_count
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_backends(
    "moto", reason="the command line's behaviour, not DynamoDB's: its subprocesses use one endpoint"
)

TODAY = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()


def _wait_for(condition: Callable[[], object], *, what: str, seconds: float = 90) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)  # polling with a deadline
    raise AssertionError(f"timed out waiting for {what}")


def _newest_run(deployment):
    runs = deployment.runs.recent_runs(1)
    return runs[0] if runs else None


def _in_flight(deployment) -> int:
    queue = deployment.resources.queue_urls["EventsQueue"]
    sqs = deployment.clients.sqs
    return message_count(sqs, queue, in_flight=True) - message_count(sqs, queue, in_flight=False)


def _first_line(stream, *, seconds: float = 60) -> str:
    """The next line of a child's output, or fail after ``seconds`` (not hang)."""
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, f"no line within {seconds} s"
    return stream.readline()


def _closed_pipe() -> int:
    """The writing end of a pipe whose reader has already gone."""
    reader, writer = os.pipe()
    os.close(reader)
    return writer


def _run_into_closed_pipe(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    writer = _closed_pipe()
    try:
        return subprocess.run(
            [*CLI, *args], env=env, stdout=writer, stderr=subprocess.PIPE, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(writer)


# -- blocker 1: SIGTERM to a background job ---------------------------------------------------
def test_sync_background_job_sigterm_exits_143_and_marks_run_interrupted(
    deployment, moto_endpoint, cli_env, tmp_path
):
    # Given `villages-sync sync … &` started by a script (bash ignores SIGINT in its background
    # jobs), part-way through consuming two-event messages
    env = {**cli_env, "MESSAGE_MAX_EVENTS": "2"}
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    # 400 events, 200 messages: under a loaded CI the whole sync once ended (exit 0) before the
    # test's poll saw the consumer's first message done
    with RunningCalendar(generate_events(400, seed=11, today=TODAY)) as calendar:
        command = shlex.join(
            [*CLI, "sync", "--endpoint-url", moto_endpoint, "--env", "test",
             "--calendar-base-url", calendar.base_url]
        )  # fmt: skip
        script = f'{command} >{out} 2>{err} & echo "$!"; wait "$!"'
        shell = subprocess.Popen(["bash", "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        pid = int(_first_line(shell.stdout))
        run = _wait_for(
            lambda: (r := _newest_run(deployment)) and r.done_sequences and r,
            what="the consumer to finish a message",
        )

        # When cron (or systemd, or CI) sends it SIGTERM
        os.kill(pid, signal.SIGTERM)
        shell.communicate(timeout=60)

    # Then it stops at once with 128 + SIGTERM, the run is failed as interrupted, nothing is
    # left in flight, and the summary is the one Ctrl-C prints
    assert shell.returncode == 143, err.read_text()
    record = deployment.runs.get(run.run_id)
    assert str(record.status) == "failed" and record.error.startswith("interrupted")
    assert "SIGTERM" in record.error
    assert 0 < len(record.done_sequences) < record.message_count
    assert _in_flight(deployment) == 0
    printed = out.read_text()
    assert "interrupted during the consumer (SIGTERM)" in printed
    assert "nothing was deleted" in printed and "next        villages-sync sync" in printed
    assert "Traceback" not in err.read_text()


# -- blocker 2: a reader that goes away --------------------------------------------------------
def test_sync_into_a_pipe_closed_by_head_exits_141_marks_run_and_leaves_messages_visible(
    deployment, moto_endpoint, cli_env
):
    # Given `villages-sync sync 2>&1 | head -2`
    with RunningCalendar(generate_events(200, seed=11, today=TODAY)) as calendar:
        process = subprocess.Popen(
            [*CLI, "sync", "--endpoint-url", moto_endpoint, "--env", "test",
             "--calendar-base-url", calendar.base_url],
            env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        first_two = [_first_line(process.stdout), _first_line(process.stdout)]

        # When head has its two lines and exits
        process.stdout.close()
        code = process.wait(timeout=120)

    # Then exit 141, the run is failed as interrupted (never swept), and its messages wait,
    # visible, on the queue for the next sync
    assert all(first_two), first_two
    assert code == 141
    record = _newest_run(deployment)
    assert str(record.status) == "failed", record
    assert record.error.startswith("interrupted: output closed")
    queue = deployment.resources.queue_urls["EventsQueue"]
    assert message_count(deployment.clients.sqs, queue, in_flight=False) > 0
    assert _in_flight(deployment) == 0


@pytest.fixture
def synced(deployment, moto_endpoint, cli_env):
    """One completed local sync of 60 events: something for the reading commands to print."""
    with RunningCalendar(generate_events(60, seed=3, today=TODAY)) as calendar:
        result = run_cli(
            "sync", "--endpoint-url", moto_endpoint, "--env", "test",
            "--calendar-base-url", calendar.base_url, "--quiet", env=cli_env,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    return _newest_run(deployment)


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "--watch", "--interval", "0.2"],
        ["runs"],
        ["runs", "show", "{run}"],
        ["logs", "--run", "{run}"],
        ["logs", "--run", "{run}", "--follow"],
        ["events", "--date", "today"],
    ],
    ids=" ".join,
)
def test_reading_command_into_a_closed_pipe_exits_141_quietly(
    synced, moto_endpoint, cli_env, command
):
    # Given a reader that has gone before the command writes
    args = [a.replace("{run}", synced.run_id) for a in command]
    if args[0] != "logs":
        args += ["--endpoint-url", moto_endpoint, "--env", "test"]

    # When the command runs
    result = _run_into_closed_pipe(args, cli_env)

    # Then it stops with 128 + SIGPIPE and says nothing on stderr (no traceback)
    assert result.returncode == 141, result.stderr
    assert result.stderr == ""


def test_logs_follow_stops_when_its_reader_goes_while_nothing_is_written(synced, cli_env):
    # Given `logs --follow` of a finished run, piped into a reader, everything printed
    process = subprocess.Popen(
        [*CLI, "logs", "--run", synced.run_id, "--follow"],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert _first_line(process.stdout)

    # When the reader goes away (`| head -1`) while the command waits for new lines
    process.stdout.close()
    code = process.wait(timeout=30)

    # Then it notices without writing and stops with 128 + SIGPIPE
    assert code == 141
    assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize(
    "command",
    [["status", "--watch", "--interval", "0.2"], ["logs", "--run", "{run}", "--follow"]],
    ids=" ".join,
)
def test_watching_command_sigterm_exits_143(synced, moto_endpoint, cli_env, command):
    # Given a watching command started in the background of a script, showing its first lines
    args = [a.replace("{run}", synced.run_id) for a in command]
    if args[0] != "logs":
        args += ["--endpoint-url", moto_endpoint, "--env", "test"]
    process = subprocess.Popen(
        ["bash", "-c", f'{shlex.join([*CLI, *args])} & echo "$!"; wait "$!"'],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    pid = int(_first_line(process.stdout))
    assert _first_line(process.stdout)

    # When it is sent SIGTERM
    os.kill(pid, signal.SIGTERM)
    _, err = process.communicate(timeout=30)

    # Then it stops with 128 + SIGTERM, without a traceback
    assert process.returncode == 143, err
    assert "Traceback" not in err


def test_runs_piped_prints_whole_lines(synced, moto_endpoint, cli_env, tmp_path: Path):
    # The pipe case that is not an interruption: a reader that reads everything gets all of it
    result = run_cli("runs", "--endpoint-url", moto_endpoint, "--env", "test", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert synced.run_id in result.stdout
