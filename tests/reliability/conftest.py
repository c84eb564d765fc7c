"""Reliability fixtures: a harness over the local pipeline, fault injectors, and the fault report.

Every fault test calls ``fault_report.record(fault, expected, observed, ...)`` after its
assertions; the rows (with each test's pass/fail outcome) are written to
``build/reliability.json`` at the end of the session, and ``tools/reliability_report.py`` turns
that file into ``docs/reliability.md``. Nothing in the report is typed by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from reliability_harness import TZ, Harness, current_test_id
from villages_sync.aws.clients import _cached_clients
from villages_sync_ops.local.emulator import moto_process

ROOT = Path(__file__).resolve().parents[2]
REPORT_PATH = ROOT / "build" / "reliability.json"
PARTS_PATH = ROOT / "build" / "reliability-parts"  # one file per pytest-xdist worker
REPORT_TOOL = ROOT / "tools" / "reliability_report.py"


# --- the fault report ------------------------------------------------------------------------


@dataclass
class FaultReport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    inputs: Counter[str] = field(default_factory=Counter)
    soak: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self,
        fault: str,
        expected: str,
        observed: str,
        *,
        events: int = 0,
        lost: int = 0,
        wrongly_deleted: int = 0,
        duplicated: int | None = None,
    ) -> None:
        """One fault survived (call it after the test's assertions).

        ``duplicated``: events a run wrote as ADDED more than once (``Harness.assert_exact``);
        None where the test has no single run to measure it on (reported as not measured).
        """
        with self._lock:
            self.rows.append(
                {
                    "test": current_test_id(),
                    "fault": fault,
                    "expected": expected,
                    "observed": observed,
                    "events": events,
                    "lost": lost,
                    "wrongly_deleted": wrongly_deleted,
                    "duplicated": duplicated,
                }
            )

    def count_input(self, kind: str, n: int = 1) -> None:
        """A generated bad input tried (hypothesis examples, poison bodies)."""
        with self._lock:
            self.inputs[kind] += n

    def record_soak(self, figures: dict[str, Any]) -> None:
        with self._lock:
            self.soak.append(figures)


_REPORT = FaultReport()
_OUTCOMES: dict[str, str] = {}


@pytest.fixture(scope="session")
def fault_report() -> FaultReport:
    return _REPORT


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # The call's outcome, unless set-up or tear-down failed.
    if report.when == "call" or report.outcome == "failed":
        _OUTCOMES[report.nodeid] = report.outcome


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Merge this session's figures into build/reliability.json.

    A session replaces the rows of the tests it ran and keeps the others, so `make test`
    (no soak) and `make soak` (soak only) together build one report. Under pytest-xdist each
    worker is a session of its own: see ``_merge_worker``.
    """
    if session.config.pluginmanager.getplugin("dsession") is not None:
        return  # the pytest-xdist controller: it sees every report, its workers the figures
    if not _REPORT.rows and not _REPORT.inputs and not _REPORT.soak and not _OUTCOMES:
        return
    for row in _REPORT.rows:
        row["outcome"] = _OUTCOMES.get(row["test"], "unknown")
    current = {
        "generated_at": datetime.now(TZ).isoformat(timespec="seconds"),
        "rows": _REPORT.rows,
        "inputs": dict(_REPORT.inputs),
        "soak": _REPORT.soak,
        "failed_tests": sorted(k for k, v in _OUTCOMES.items() if v == "failed"),
        "ran": sorted(_OUTCOMES),
    }
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    with (REPORT_PATH.parent / "reliability.json.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # workers finish at about the same time
        workerinput = getattr(session.config, "workerinput", None)
        if workerinput is None:
            _write_report(_report_tool().merge(_read(REPORT_PATH), current, ran=current["ran"]))
        else:
            _merge_worker(current, workerinput["testrunuid"], workerinput["workerid"])


def _merge_worker(current: dict[str, Any], run_uid: str, worker: str) -> None:
    """One xdist worker's part. The report is rebuilt from the report as it was before this
    test run and every part written so far, so whichever worker ends last leaves all of them
    in it (merging part by part would drop one worker's rows of a test function whose other
    parameters ran on another worker)."""
    parts = PARTS_PATH / run_uid
    if not parts.exists():
        shutil.rmtree(PARTS_PATH, ignore_errors=True)  # parts of earlier runs
        parts.mkdir(parents=True)
        (parts / "before.json").write_text(json.dumps(_read(REPORT_PATH)))
    (parts / f"part-{worker}.json").write_text(json.dumps(current))
    before = _read(parts / "before.json")
    session = _combine([_read(path) for path in sorted(parts.glob("part-*.json"))])
    _write_report(_report_tool().merge(before, session, ran=session["ran"]))


def _combine(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Several workers' figures as one session's."""
    inputs: Counter[str] = Counter()
    for session in sessions:
        inputs.update(session["inputs"])
    return {
        "generated_at": max(session["generated_at"] for session in sessions),
        "rows": [row for session in sessions for row in session["rows"]],
        "inputs": dict(inputs),
        "soak": [figures for session in sessions for figures in session["soak"]],
        "failed_tests": sorted({t for session in sessions for t in session["failed_tests"]}),
        "ran": sorted({t for session in sessions for t in session["ran"]}),
    }


def _read(path: Path) -> dict[str, Any]:
    with contextlib.suppress(OSError, ValueError):
        return json.loads(path.read_text())
    return {}


def _write_report(document: dict[str, Any]) -> None:
    REPORT_PATH.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def _report_tool() -> ModuleType:
    """tools/reliability_report.py (tools/ is not a package), for its one merge rule."""
    spec = importlib.util.spec_from_file_location("reliability_report", REPORT_TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def harness(deployment) -> Iterator[Harness]:
    yield Harness(deployment)
    # Throttling tests teach the adaptive retry mode to slow down: start every test afresh.
    _cached_clients.cache_clear()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Overrides the shared in-process server: moto in its own process, on the second core.

    The reliability tests drive thousands of requests; an in-thread server competes with the
    handlers for the GIL (and would be counted in the handlers' traced memory in the soak).
    """
    with moto_process() as moto:
        yield moto.endpoint_url
