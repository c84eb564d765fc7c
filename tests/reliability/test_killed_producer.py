"""Guards against a bug found in review: a producer killed mid-scrape (Lambda's hard timeout at
600 s: no exception reaches Python, so ``produce_run``'s ``except BaseException`` never runs)
leaves its run SCRAPING for ever: no later run, consumer or sweep ever ends it. Simulated with
SIGKILL of a forked producer.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import time

import pytest
from support.feeds import FAST, filler, sync
from villages_sync.aws.clients import _cached_clients
from villages_sync_ops.local.pipeline import PRODUCER, LocalPipeline, SyncOptions, scheduled_event
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason="the deletion rules on a hand-made feed, not of the emulator"
)


def _produce(deployment, base_url):
    # A forked child: open its own AWS connections, never the parent's pooled sockets (the
    # parent keeps querying the runs table through them while this child writes).
    _cached_clients.cache_clear()
    options = SyncOptions(calendar_base_url=base_url, function_log=io.StringIO(), extra_env=FAST)
    LocalPipeline(deployment, options).invoke_function(PRODUCER, scheduled_event("us-east-1"))


def test_killed_producer_run_is_ended_by_a_later_run(deployment):
    with RunningCalendar(filler(30)) as calendar:
        calendar.faults.latency_seconds = 3.0  # the scrape is slow: the kill lands mid-scrape
        child = multiprocessing.get_context("fork").Process(
            target=_produce, args=(deployment, calendar.base_url)
        )
        child.start()
        deadline = time.monotonic() + 30
        while not deployment.runs.recent_runs(1) and time.monotonic() < deadline:
            time.sleep(0.2)
        os.kill(child.pid, signal.SIGKILL)  # Lambda's timeout: no exception, no cleanup
        child.join()
        started = deployment.runs.recent_runs(1)
        assert started, "the forked producer recorded no run within 30 s"
        killed = started[0]
        assert str(killed.status) == "scraping"

        calendar.faults.latency_seconds = 0.0
        later = [sync(deployment, calendar.base_url) for _ in range(2)]

    assert all(str(r.run.sweep_outcome) == "swept" for r in later)
    status = str(deployment.runs.get(killed.run_id).status)
    assert status == "failed", f"run {killed.run_id} is still {status} after two later runs"
