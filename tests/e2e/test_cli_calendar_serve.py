"""`villages-sync calendar serve`: the stand-in an operator rehearses the runbook against.

Served by a real subprocess on a free loopback port, read by the project's own calendar client.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support.calendar import fast_settings
from support.cli import CLI, run_cli
from villages_sync.calendar_api.client import CalendarError, scrape_calendar
from villages_sync.settings import DEFAULT_TIMEZONE
from villages_sync_ops.local.ports import free_port

NEW_YORK = ZoneInfo(DEFAULT_TIMEZONE)


def _serve(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [*CLI, "calendar", "serve", "--port", str(port), "--events", "1500", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base_url + "/", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # it answers (a 404 or a fault's 503 is an answer)
        except OSError:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)  # polling with a deadline for the server to listen
    else:
        raise AssertionError("the stand-in did not start")
    return process, base_url


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    return process.returncode


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_calendar_serve_dates_events_from_florida_today_not_the_machine_date(cli_env, zone):
    # Given a machine whose clock is set to a zone far from Florida (at any hour one of the
    # two is on another date than New York)
    process, base_url = _serve({**cli_env, "TZ": zone})
    try:
        # When its events are read
        result = asyncio.run(scrape_calendar(fast_settings(base_url)))
    finally:
        _stop(process)

    # Then the first day with events is today in Florida
    days = {
        datetime.fromisoformat(e["start"]["date"].replace("Z", "+00:00"))
        .astimezone(NEW_YORK)
        .date()
        for e in result.events
        if e["start"].get("type") != "date"
    }
    assert min(days) == datetime.now(NEW_YORK).date()


def test_calendar_serve_fault_down_makes_the_scrape_fail(cli_env):
    # Given a stand-in served with --fault down
    process, base_url = _serve(cli_env, "--fault", "down")
    try:
        # When it is read; Then it answers 503 and the client gives up, saying so
        with pytest.raises(CalendarError) as raised:
            asyncio.run(scrape_calendar(fast_settings(base_url)))
    finally:
        code = _stop(process)
    assert "503" in str(raised.value)
    assert code == 0


def test_calendar_serve_faults_with_values_apply(cli_env):
    # Given a count offset and a page cap, each NAME=VALUE
    process, base_url = _serve(cli_env, "--fault", "page-cap=50", "--fault", "count_offset=-3")
    try:
        result = asyncio.run(scrape_calendar(fast_settings(base_url)))
    except CalendarError as error:
        result = error
    finally:
        _stop(process)
    # Then the scrape sees them (the reported count disagrees with the rows served)
    assert isinstance(result, CalendarError) or result.reported_count != len(result.events)


@pytest.mark.parametrize(
    ("fault", "said"),
    [("nosuch", "no fault 'nosuch'"), ("page-cap", "takes a value"), ("down=maybe", "true or")],
)
def test_calendar_serve_bad_fault_is_a_usage_error(cli_env, fault, said):
    result = run_cli("calendar", "serve", "--fault", fault, env=cli_env, timeout=60)
    assert result.returncode == 2
    assert said in result.stderr


def test_calendar_help_lists_the_faults(cli_env):
    result = run_cli("calendar", "--help", env=cli_env, timeout=60)
    assert result.returncode == 0
    for name in ("down", "rate-limit-first-n", "html-body", "rotate-token-after-requests"):
        assert name in result.stdout
