"""Load with faults on: thousands of events through producer, queue, consumer and sweep.

`make test` runs 3,000 events; `make soak` runs 50,000 (marker ``soak``). Both: every valid
event stored exactly once, the sweep exact, and each handler's peak memory reported.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections import defaultdict
from datetime import datetime
from typing import Any

import pytest
from reliability_harness import (
    TZ,
    CallCounter,
    Harness,
    current_test_id,
    error_response,
    expected_items,
    failing_send_entries,
    hooked,
)
from reliability_harness import today as local_today
from villages_sync_ops.local.lambda_runtime import Invocation
from villages_sync_ops.local.pipeline import LocalPipeline, scheduled_event
from villages_sync_ops.standin.dataset import generate_events, mutate_events
from villages_sync_ops.standin.server import Faults, RunningCalendar

MIB = 1024 * 1024


class MeasuredPipeline(LocalPipeline):
    """The local pipeline, measuring each handler invocation's peak traced memory and RSS."""

    memory: dict[str, dict[str, float]]

    def invoke_function(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        figures = self.memory[logical_id]
        # tracemalloc doubles the run time: trace every producer and sweep invocation, and one
        # consumer invocation in ten (they are alike: up to 10 messages of 100 events each)
        trace = logical_id != "ConsumerFunction" or figures["invocations"] % 10 == 0
        if trace:
            tracemalloc.start()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            return super().invoke_function(logical_id, event)
        finally:
            if trace:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                figures["traced_invocations"] += 1
                figures["peak_traced_mib"] = max(figures["peak_traced_mib"], peak / MIB)
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            figures["invocations"] += 1
            figures["rss_growth_mib"] = max(
                figures["rss_growth_mib"], (rss_after - rss_before) / 1024
            )


def _measured(harness: Harness, base_url: str, memory: dict, **env: str) -> MeasuredPipeline:
    pipeline = harness.pipeline(base_url, **env)
    measured = MeasuredPipeline(pipeline.deployment, pipeline.options)
    measured.memory = memory
    measured.options.drain_deadline_seconds = 4 * 3600
    return measured


def run_soak(harness: Harness, size: int, fault_report, *, throttles: int) -> dict[str, Any]:
    # Given a calendar of `size` events that fails, rate-limits and rotates its token, and
    # AWS that throttles, drops SendMessageBatch entries, crashes some writes and delivers
    # a tenth of the messages twice
    started = time.monotonic()
    day_one = generate_events(size, seed=91, today=local_today())
    churn = max(10, size // 100)
    day_two = mutate_events(day_one, seed=92, added=churn, removed=churn, changed=2 * churn)
    expected_one, expected_two = expected_items(day_one), expected_items(day_two)
    memory: dict[str, dict[str, float]] = defaultdict(
        lambda: {
            "invocations": 0,
            "traced_invocations": 0,
            "peak_traced_mib": 0.0,
            "rss_growth_mib": 0.0,
        }
    )
    faults = Faults(
        fail_first_n=3,
        status_for_failures=502,
        rate_limit_first_n=2,
        retry_after_seconds=0.05,
        rotate_token_after_requests=5,
    )
    env = {"MAX_ATTEMPTS": "6"}
    throttle_limit = throttles
    throttles, crashes, dropped = CallCounter(), CallCounter(), CallCounter()
    failed_once: set[bytes] = set()

    def throttle(request, **_):
        body = bytes(request.body or b"")
        with throttles.lock:
            if throttles.injected >= throttle_limit or body in failed_once:
                return None
            failed_once.add(body)
            throttles.injected += 1
        return error_response(request, 400, "ProvisionedThroughputExceededException", "soak")

    def crash(request, **_):
        if size // 3 < crashes.next() <= size // 3 + 15:
            crashes.injected += 1
            raise RuntimeError("injected crash in the middle of a batch")

    def two_of_every_seventh_call(call: int, entries: list[dict]) -> int:
        return 2 if call % 7 == 2 and len(entries) > 2 else 0

    with RunningCalendar(day_one, faults=faults) as calendar:
        # When run 1 is produced, its messages partly duplicated, and drained
        pipeline = _measured(harness, calendar.base_url, memory, **env)
        with failing_send_entries(harness.sqs, dropped, two_of_every_seventh_call):
            produced = pipeline.invoke_function(
                "ProducerFunction", scheduled_event(harness.deployment.region)
            )
        assert produced.succeeded, produced.error
        bodies = harness.take_messages()
        duplicates = bodies[::10]
        harness.put_messages(bodies + duplicates)
        with (
            hooked(harness.dynamodb, "before-send.dynamodb.PutItem", throttle),
            hooked(harness.dynamodb, "before-send.dynamodb.PutItem", crash),
        ):
            pipeline.drain_queues()
        run_one = harness.deployment.runs.get(produced.payload["run_id"])
        stored_one = harness.stored_hashes()
        first_seconds = time.monotonic() - started

        # And run 2 syncs the changed calendar, its sweep deleting what was removed
        calendar.set_events(day_two)
        calendar.faults.fail_first_n = 0
        calendar.faults.rate_limit_first_n = 0
        second = _measured(harness, calendar.base_url, memory, **env).run_sync()
    stored_two = harness.stored_hashes()

    # Then each run stored every valid event exactly once, and the sweep was exact
    assert str(run_one.status) == "completed", run_one
    assert stored_one == expected_one
    assert second.succeeded, second.producer_error
    assert stored_two == expected_two
    removed = set(expected_one) - set(expected_two)
    assert str(second.run.sweep_outcome) == "swept"
    assert second.run.deleted_count == len(removed) > 0
    assert harness.queue_count("EventsQueue") == harness.queue_count("EventsDLQ") == 0
    assert throttles.injected == throttle_limit and crashes.injected > 0 and dropped.injected > 0

    lost = len(set(expected_one) - set(stored_one)) + len(set(expected_two) - set(stored_two))
    wrongly_deleted = len((set(expected_one) & set(expected_two)) - set(stored_two))
    # Events a run wrote as ADDED more than once: its `added` count beyond the distinct new
    # events it stored (run 1 filled an empty table; run 2 found run 1's). A lower bound, as
    # in Harness.assert_exact: a crashed write is counted by its retry as unchanged.
    duplicated = max(0, run_one.upserts.get("added", 0) - len(stored_one)) + max(
        0, second.run.upserts.get("added", 0) - len(set(stored_two) - set(stored_one))
    )
    assert duplicated == 0, (run_one.upserts, second.run.upserts)
    elapsed = time.monotonic() - started
    figures = {
        "test": current_test_id(),
        "generated_at": datetime.now(TZ).isoformat(timespec="seconds"),
        "calendar events": size,
        "valid events stored (run 1)": len(stored_one),
        "valid events stored (run 2)": len(stored_two),
        "deleted by the sweep (run 2)": second.run.deleted_count,
        "messages (run 1), duplicated": f"{len(bodies)}, {len(duplicates)}",
        "faults injected": (
            f"calendar 502 x3, 429 x2, token rotation; SendMessageBatch entries failed "
            f"{dropped.injected}; PutItem throttled {throttles.injected}; writes crashed "
            f"{crashes.injected}; {len(duplicates)} messages delivered twice"
        ),
        "events lost / wrongly deleted / duplicated": f"{lost} / {wrongly_deleted} / {duplicated}",
        "run 1 seconds": round(first_seconds, 1),
        "total seconds": round(elapsed, 1),
        "events per second (run 1)": round(len(stored_one) / first_seconds, 1),
        "peak_memory_mib": {
            name: {k: round(v, 1) if isinstance(v, float) else int(v) for k, v in m.items()}
            for name, m in memory.items()
        },
    }
    fault_report.record_soak(figures)
    fault_report.record(
        f"load: {size} events with faults on (two runs)",
        "every valid event stored exactly once; sweep exact",
        f"{len(stored_one)} + {len(stored_two)} stored exactly, {second.run.deleted_count} "
        f"deleted = removed, in {elapsed:.0f} s",
        events=len(stored_one) + len(stored_two),
        lost=lost,
        wrongly_deleted=wrongly_deleted,
        duplicated=duplicated,
    )
    return figures


@pytest.mark.dynamodb_once(
    reason="the longest test of `make test`; the fault tier runs on both backends"
)
def test_pipeline_3000_events_with_faults_stores_each_once_and_sweeps_exactly(
    harness, fault_report
):
    # No throttles here: botocore's adaptive mode then rate-limits the client for the rest of
    # the run, doubling this test's time; the throttling tests and the 50,000 soak cover them.
    run_soak(harness, 3_000, fault_report, throttles=0)


@pytest.mark.soak
@pytest.mark.parametrize("size", [50_000])
def test_soak_50000_events_with_faults_stores_each_once_and_sweeps_exactly(
    harness, fault_report, size
):
    figures = run_soak(harness, size, fault_report, throttles=8)
    print(figures)
