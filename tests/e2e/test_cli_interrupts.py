"""`villages-sync sync` interrupted with real signals, and two syncs at once.

A slow stand-in calendar (30 s per events request) holds the producer mid-scrape for as long as
the test needs; two-event messages make the consumer stage long enough to land a signal in it.
Every wait polls the runs table with a deadline.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.cli import CLI, run_cli
from support.sqs import message_count
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar

# The command line's own behaviour (signals, pipes, terminals, settings), which its
# subprocesses show against one endpoint: once, on moto.
pytestmark = pytest.mark.dynamodb_backends(
    "moto", reason="the command line's behaviour, not DynamoDB's: its subprocesses use one endpoint"
)

SLOW_SECONDS = 30.0
# A 200-event sync takes seconds (tens under a loaded CI); the trap this replaces waited out the
# events queue's 360 s visibility timeout.
NORMAL_SYNC_SECONDS = 150


@pytest.fixture
def events_200():
    return generate_events(200, seed=11, today=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())


def _start_sync(endpoint: str, base_url: str, env: dict[str, str]) -> subprocess.Popen:
    target = ["--endpoint-url", endpoint, "--env", "test", "--calendar-base-url", base_url]
    return subprocess.Popen(
        [*CLI, "sync", *target],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: Callable[[], object], *, what: str, seconds: float = 60) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)  # polling the emulator, with a deadline
    raise AssertionError(f"timed out waiting for {what}")


def _newest_run(deployment):
    runs = deployment.runs.recent_runs(1)
    return runs[0] if runs else None


def _timed_sync(endpoint: str, base_url: str, env: dict[str, str]):
    """Another sync, run to its end: its result and how long it took."""
    began = time.monotonic()
    target = ["--endpoint-url", endpoint, "--env", "test", "--calendar-base-url", base_url]
    result = run_cli("sync", *target, "--quiet", env=env)
    return result, time.monotonic() - began


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_sync_ctrl_c_mid_scrape_marks_run_interrupted_and_next_sync_is_prompt(
    deployment, moto_endpoint, cli_env, events_200
):
    # Given a sync whose producer is stuck on a slow calendar
    with RunningCalendar(events_200, faults=Faults(latency_seconds=SLOW_SECONDS)) as calendar:
        process = _start_sync(moto_endpoint, calendar.base_url, cli_env)
        run = _wait_for(
            lambda: (r := _newest_run(deployment)) and str(r.status) == "scraping" and r,
            what="the run to start scraping",
        )

        # When the user presses Ctrl-C
        process.send_signal(signal.SIGINT)
        code, out, err = _finish(process)
        calendar.faults.latency_seconds = 0.0
        again, took = _timed_sync(moto_endpoint, calendar.base_url, cli_env)

    # Then exit 130, the run is failed as interrupted, and the output says nothing was deleted
    assert code == 130, err
    assert "Traceback" not in err
    assert "interrupted during the producer" in out and "nothing was deleted" in out
    record = deployment.runs.get(run.run_id)
    assert str(record.status) == "failed" and record.error.startswith("interrupted")
    assert record.sweep_outcome is None
    # And the next sync completes in normal time
    assert again.returncode == 0, again.stderr + again.stdout
    assert took < NORMAL_SYNC_SECONDS


def test_sync_sigterm_mid_consume_leaves_nothing_in_flight_and_next_sync_is_prompt(
    deployment, moto_endpoint, cli_env, events_200
):
    # Given a sync of two-event messages, part-way through consuming them
    env = {**cli_env, "MESSAGE_MAX_EVENTS": "2"}
    with RunningCalendar(events_200) as calendar:
        process = _start_sync(moto_endpoint, calendar.base_url, env)
        run = _wait_for(
            lambda: (r := _newest_run(deployment)) and r.done_sequences and r,
            what="the consumer to finish a message",
        )

        # When the sync is sent SIGTERM
        process.send_signal(signal.SIGTERM)
        code, out, err = _finish(process)
        record = deployment.runs.get(run.run_id)
        queue = deployment.resources.queue_urls["EventsQueue"]
        hidden = message_count(deployment.clients.sqs, queue, in_flight=True) - message_count(
            deployment.clients.sqs, queue, in_flight=False
        )
        again, took = _timed_sync(moto_endpoint, calendar.base_url, cli_env)

    # Then exit 143 (128 + SIGTERM, as the shell reports it), the run failed as interrupted
    # (never swept), no message left in flight
    assert code == 143, err
    assert "interrupted during the consumer" in out and "nothing was deleted" in out
    assert str(record.status) == "failed" and record.error.startswith("interrupted")
    assert 0 < len(record.done_sequences) < record.message_count
    assert hidden == 0
    # And the next sync consumes what was left, without waiting out a visibility timeout
    assert again.returncode == 0, again.stderr + again.stdout
    assert took < NORMAL_SYNC_SECONDS
    assert message_count(deployment.clients.sqs, queue, in_flight=True) == 0
    assert str(deployment.runs.get(run.run_id).status) == "failed"


def test_two_concurrent_syncs_second_refused_naming_the_first_pid(
    deployment, moto_endpoint, cli_env, events_200
):
    # Given one sync stuck scraping
    with RunningCalendar(events_200, faults=Faults(latency_seconds=SLOW_SECONDS)) as calendar:
        first = _start_sync(moto_endpoint, calendar.base_url, cli_env)
        try:
            _wait_for(
                lambda: (r := _newest_run(deployment)) and str(r.status) == "scraping",
                what="the first sync to start scraping",
            )

            # When a second sync starts for the same environment and state directory
            second = run_cli(
                "sync", "--endpoint-url", moto_endpoint, "--env", "test",
                "--calendar-base-url", calendar.base_url, env=cli_env, timeout=60,
            )  # fmt: skip
        finally:
            first.send_signal(signal.SIGINT)
            code, _, _ = _finish(first)

    # Then it is refused at once, naming the holder's pid; it started no run of its own
    assert second.returncode == 1
    assert f"pid {first.pid}" in second.stderr
    assert second.stdout == ""
    assert code == 130
    assert len(deployment.runs.recent_runs(10)) == 1
