"""`villages-sync calendar check` against the stand-in calendar, in each of its fault modes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from support.cli import run_cli
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import DEFAULT_TOKEN, Faults, RunningCalendar

EVENTS = generate_events(150, seed=22, today=date(2026, 12, 6))
FAST = {"BACKOFF_BASE_SECONDS": "0.01", "BACKOFF_MAX_SECONDS": "0.05", "TIMEOUT_SECONDS": "2"}

# fault, exit code, {point: verdict} the report must hold
CASES: list[tuple[str, dict[str, Any], int, dict[str, str]]] = [
    ("none", {}, 0, {"token script": "ok", "first page": "ok", "endRow": "ok"}),
    ("page_cap", {"page_cap": 40}, 0, {"page size": "note"}),
    ("end_row_inclusive", {"end_row_inclusive": True}, 0, {"endRow": "note"}),
    ("fail_first_n", {"fail_first_n": 2}, 0, {"first page": "ok", "timings": "note"}),
    (
        "rate_limit_first_n",
        {"rate_limit_first_n": 1, "retry_after_seconds": 0.01},
        0,
        {"timings": "note"},
    ),
    (
        "timeout_first_n",
        {"timeout_first_n": 1, "timeout_hang_seconds": 5},
        0,
        {"first page": "ok", "timings": "note"},
    ),
    ("rotate_token", {"rotate_token_after_requests": 1}, 0, {"first page": "ok"}),
    ("mutate", {"mutate_after_requests": 1}, 0, {"first page": "ok"}),
    ("latency", {"latency_seconds": 0.05}, 0, {"timings": "ok"}),
    ("count_offset", {"count_offset": -3}, 0, {"past the count": "note"}),
    ("clamp_past_end", {"clamp_past_end": True}, 0, {"past the count": "note"}),
    ("wrong_shape", {"wrong_shape": True}, 1, {"first page": "broken"}),
    ("truncated_json", {"truncated_json": True}, 1, {"first page": "broken"}),
    ("html_body", {"html_body": True}, 1, {"first page": "broken"}),
    ("empty", {"empty": True}, 1, {"events": "broken"}),
    ("down", {"down": True}, 1, {"token script": "broken", "first page": "broken"}),
    ("redirect_offsite", {"redirect_offsite": True}, 1, {"first page": "broken"}),
    ("reject_all_tokens", {"reject_all_tokens": True}, 1, {"first page": "broken"}),
    ("script_without_token", {"script_without_token": True}, 1, {"token script": "broken"}),
]


@pytest.mark.parametrize(
    ("fault", "settings", "code", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_calendar_check_judges_each_fault_mode(
    cli_env: dict[str, str],
    fault: str,
    settings: dict[str, Any],
    code: int,
    expected: dict[str, str],
) -> None:
    # Given a stand-in misbehaving one way
    with RunningCalendar(EVENTS, faults=Faults(**settings)) as base_url:
        # When the operator checks it
        result = run_cli(
            "calendar", "check", "--base-url", base_url, "--json", env={**cli_env, **FAST}
        )

    # Then the exit code and each named point say what the stand-in did, never a traceback
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    verdicts = {f["point"]: f["verdict"] for f in report["findings"]}
    assert {point: verdicts.get(point) for point in expected} == expected
    assert report["holds"] is (code == 0)
    assert report["broken"] == [p for p, v in verdicts.items() if v == "broken"]


def test_calendar_check_text_report_names_the_broken_point(cli_env: dict[str, str]) -> None:
    with RunningCalendar(EVENTS, faults=Faults(wrong_shape=True)) as base_url:
        result = run_cli("calendar", "check", "--base-url", base_url, env={**cli_env, **FAST})

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "BROKEN at 1 point: first page" in lines[0]
    assert "'data'/'total' instead of 'events'/'count'" in " ".join(result.stdout.split())


def test_calendar_check_token_spellings(cli_env: dict[str, str]) -> None:
    for style, written in [
        ("object", 'Authorization:"Basic …"'),
        ("object_lower", "authorization:`Basic …`"),
    ]:
        with RunningCalendar(EVENTS, token_style=style) as base_url:  # type: ignore[arg-type]
            result = run_cli(
                "calendar", "check", "--base-url", base_url, "--json", env={**cli_env, **FAST}
            )
        report = json.loads(result.stdout)
        token = next(f for f in report["findings"] if f["point"] == "token script")
        assert (result.returncode, token["verdict"], written in token["detail"]) == (0, "ok", True)
        assert DEFAULT_TOKEN not in result.stdout  # the token itself never printed


def test_calendar_check_defaults_to_the_producers_calendar_base_url(
    cli_env: dict[str, str],
) -> None:
    # Given CALENDAR_BASE_URL set as the producer reads it, and no --base-url
    with RunningCalendar(EVENTS) as base_url:
        result = run_cli(
            "calendar", "check", "--json", env={**cli_env, **FAST, "CALENDAR_BASE_URL": base_url}
        )

    # Then the check judged that calendar
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["site"] == base_url


def test_calendar_check_bad_setting_is_one_line_exit_2(cli_env: dict[str, str]) -> None:
    result = run_cli("calendar", "check", env={**cli_env, "PAGE_SIZE": "lots"})

    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "villages-sync calendar: PAGE_SIZE='lots' is not a whole number 1-1000"
    )
