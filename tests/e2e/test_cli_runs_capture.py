"""Each run's raw pages kept: a sync writes them to the stack's bucket (the emulator's S3),
`runs capture` fetches them, `calendar serve --replay` serves them, and a sync of the replay
stores exactly what the captured run stored. A capture that fails never fails the sync."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import pytest
from support.cli import run_cli
from test_cli_calendar_replay import FAST, stored_events, sync
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.replay import RunningReplay
from villages_sync_ops.standin.server import DEFAULT_TOKEN, Faults, RunningCalendar

BUCKET = "villages-sync-local-rawcapturebucket"  # the template's bucket, named locally


@pytest.fixture
def calendar_events() -> list[dict]:
    return generate_events(260, seed=4, today=datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())


def capture_of(endpoint: str, env: str, out: Path, cli_env: dict[str, str], ref: str = "latest"):
    return run_cli(
        "runs", "capture", ref, "--endpoint-url", endpoint, "--env", env, "--out", str(out),
        env=cli_env,
    )  # fmt: skip


def raw_capture_failed_metric(cli_env: dict[str, str], run_id: str) -> list:
    """The producer's RawCaptureFailed values (EMF lines) in the run's local function log."""
    (log,) = Path(cli_env["VILLAGES_SYNC_HOME"]).rglob(f"{run_id}.jsonl")
    values: list = []
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if "RawCaptureFailed" in record and "_aws" in record:
            values.append(record["RawCaptureFailed"])
    return values


def run_record(endpoint: str, env: str, run_id: str) -> dict:
    table = boto3.resource("dynamodb", endpoint_url=endpoint).Table(f"villages-sync-runs-{env}")
    return table.get_item(Key={"run_id": run_id})["Item"]


def test_sync_keeps_raw_pages_and_their_replay_stores_what_the_run_stored(
    moto_endpoint: str, cli_env: dict[str, str], calendar_events: list[dict], tmp_path: Path
) -> None:
    capture = tmp_path / "run.jsonl.gz"
    # Given a sync of a stand-in whose first events request fails once (a retry to keep)
    with RunningCalendar(calendar_events, faults=Faults(fail_first_n=1)) as calendar:
        original = sync(moto_endpoint, calendar, "cap", cli_env)

    # When its raw pages are fetched, served back, and synced into another environment
    fetched = capture_of(moto_endpoint, "cap", capture, cli_env)
    assert fetched.returncode == 0, fetched.stderr + fetched.stdout
    with RunningReplay(capture) as replay_url:
        replayed = sync(moto_endpoint, replay_url, "capreplay", cli_env)

    # Then the run record says where they are, in one object of the stack's bucket
    run_id = original["run"]["run_id"]
    record = run_record(moto_endpoint, "cap", run_id)
    assert record["raw_capture"] == f"s3://{BUCKET}/raw-pages/{run_id}.jsonl.gz"
    assert record["raw_capture_error"] == ""
    assert raw_capture_failed_metric(cli_env, run_id) == [[0.0]]  # EMF: a list of values
    assert fetched.returncode == 0, fetched.stderr
    assert f"calendar serve --replay {capture}" in fetched.stdout
    # and the file is gzip JSON lines: a header, then one object a page with its request
    lines = [json.loads(line) for line in gzip.decompress(capture.read_bytes()).splitlines()]
    assert lines[0]["format"] == "villages-sync-raw-pages" and lines[0]["run_id"] == run_id
    pages = lines[1:]
    assert {"method", "url", "status", "body"} <= set(pages[0])
    assert [p["status"] for p in pages].count(500) == 1  # the retried failure is kept too
    events_pages = [p for p in pages if p["status"] == 200 and "startRow=" in p["url"]]
    assert len(events_pages) >= 3
    text = capture.read_bytes()
    assert DEFAULT_TOKEN.encode() not in gzip.decompress(text)
    assert b"REDACTED_TOKEN" in gzip.decompress(text)
    # and the replayed sync stored exactly what the captured run stored
    stored = stored_events(moto_endpoint, "cap")
    assert len(stored) > 100
    assert stored_events(moto_endpoint, "capreplay") == stored
    assert replayed["run"]["status"] == original["run"]["status"] == "completed"


def test_sync_whose_bucket_is_missing_still_syncs_and_the_record_says_why(
    moto_endpoint: str, cli_env: dict[str, str], calendar_events: list[dict], tmp_path: Path
) -> None:
    # Given a producer pointed at a bucket that does not exist (a shell variable naming the
    # setting overrides the template's, as SAM's local runs do)
    missing = "villages-sync-no-such-bucket"
    with RunningCalendar(calendar_events) as calendar:
        # When a sync runs
        result = run_cli(
            "sync", "--endpoint-url", moto_endpoint, "--env", "nobucket", "--calendar-base-url",
            calendar, "--json", "--quiet",
            env={**cli_env, **FAST, "RAW_CAPTURE_BUCKET": missing},
        )  # fmt: skip

    # Then the sync completed and stored the events, its record says the capture failed and
    # why, and `runs capture` says so in one line, writing nothing
    assert result.returncode == 0, result.stderr
    run_id = json.loads(result.stdout)["run"]["run_id"]
    record = run_record(moto_endpoint, "nobucket", run_id)
    assert record["status"] == "completed"
    assert len(stored_events(moto_endpoint, "nobucket")) > 100
    assert record["raw_capture"] == ""
    assert f"bucket {missing} does not exist" in record["raw_capture_error"]
    assert raw_capture_failed_metric(cli_env, run_id) == [[1.0]]
    out = tmp_path / "x.jsonl.gz"
    fetched = capture_of(moto_endpoint, "nobucket", out, cli_env, ref=run_id)
    assert fetched.returncode == 1
    assert f"its capture failed: bucket {missing} does not exist" in fetched.stderr
    assert len(fetched.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_sync_with_capture_disabled_keeps_nothing_and_capture_says_so(
    moto_endpoint: str, cli_env: dict[str, str], calendar_events: list[dict], tmp_path: Path
) -> None:
    # Given RawCapture Disabled for the local deployment
    with RunningCalendar(calendar_events) as calendar:
        result = run_cli(
            "sync", "--endpoint-url", moto_endpoint, "--env", "nocap", "--calendar-base-url",
            calendar, "--json", "--quiet", "--parameter-overrides", "RawCapture=Disabled",
            env={**cli_env, **FAST},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr

    # When its capture is asked for
    out = tmp_path / "x.jsonl.gz"
    fetched = capture_of(moto_endpoint, "nocap", out, cli_env)

    # Then the record holds no location and the command says why there is none
    run_id = json.loads(result.stdout)["run"]["run_id"]
    assert "raw_capture" not in run_record(moto_endpoint, "nocap", run_id)
    assert fetched.returncode == 1
    assert f"run {run_id} has no capture (RawCapture was Disabled" in fetched.stderr
    assert not out.exists()


def test_runs_capture_out_in_a_missing_directory_is_a_usage_error(
    moto_endpoint: str, cli_env: dict[str, str], calendar_events: list[dict], tmp_path: Path
) -> None:
    with RunningCalendar(calendar_events) as calendar:
        sync(moto_endpoint, calendar, "capusage", cli_env)

    fetched = capture_of(moto_endpoint, "capusage", tmp_path / "no" / "f.gz", cli_env)

    assert fetched.returncode == 2
    assert "no directory" in fetched.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a cassette"),  # an empty file is neither
        (gzip.compress(b"not json\n"), "line 1 is not JSON"),
        (gzip.compress(b'{"hello": 1}\n'), "not a raw-pages capture"),
        (
            gzip.compress(b'{"format": "villages-sync-raw-pages", "version": 9}\n'),
            "capture version 9",
        ),
        (
            gzip.compress(
                b'{"format": "villages-sync-raw-pages", "version": 1}\n'
                b'{"method": "GET", "url": "http://x/a", "status": 200, "body": "x"}\n' * 50
            )[:60],
            "truncated",
        ),
        (
            gzip.compress(b'{"format": "villages-sync-raw-pages", "version": 1}\n{"url": 1}\n'),
            "line 2 is not a page",
        ),
    ],
    ids=["empty", "not json", "not a capture", "version", "truncated", "incomplete"],
)
def test_serve_replay_bad_capture_one_line_exit_2(
    cli_env: dict[str, str], tmp_path: Path, content: bytes, message: str
) -> None:
    capture = tmp_path / "bad.jsonl.gz"
    capture.write_bytes(content)

    result = run_cli("calendar", "serve", "--replay", str(capture), "--port", "0", env=cli_env)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
