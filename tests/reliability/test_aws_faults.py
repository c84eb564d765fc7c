"""AWS-side faults: throttling, failed SendMessageBatch entries, dying producers, overlaps."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from reliability_harness import (
    CallCounter,
    error_response,
    expected_items,
    failing_send_entries,
    hooked,
    today,
)
from villages_sync.models import RunStatus, SweepOutcome
from villages_sync_ops.standin.dataset import generate_events, mutate_events
from villages_sync_ops.standin.server import RunningCalendar

SIZE = 150


@pytest.fixture
def day_one():
    return generate_events(SIZE, seed=51, today=today())


@pytest.mark.parametrize(
    ("kind", "status"),
    [("throttling", 400), ("transient", 500)],
    ids=["throttled", "server-error"],
)
def test_pipeline_dynamodb_throttled_and_failing_retries_and_loses_nothing(
    harness, day_one, fault_report, kind, status
):
    # Given DynamoDB answering 2 PutItem, 2 UpdateItem and 2 Query calls with a throttle (or
    # a 500), each call once: its retry succeeds, within botocore's 8 attempts
    counter = CallCounter()
    failed_once: set[bytes] = set()
    per_operation: dict[str, int] = {}
    codes = {
        "PutItem": "ProvisionedThroughputExceededException",
        "UpdateItem": "ThrottlingException",
        "Query": "ThrottlingException",
    }

    def throttle(request, **_):
        counter.next()
        operation = request.headers.get("X-Amz-Target", b"")
        operation = operation.decode() if isinstance(operation, bytes) else operation
        operation = operation.rpartition(".")[2]
        body = bytes(request.body or b"")
        with counter.lock:
            if operation not in codes or per_operation.get(operation, 0) >= 2:
                return None
            if body in failed_once:
                return None
            failed_once.add(body)
            per_operation[operation] = per_operation.get(operation, 0) + 1
            counter.injected += 1
        code = codes[operation] if kind == "throttling" else "InternalServerError"
        return error_response(request, status, code, "injected by the reliability tests")

    operation = "PutItem/UpdateItem/Query"
    code = "ThrottlingException" if status == 400 else "InternalServerError"

    day_one = day_one[:120]
    day_two = mutate_events(day_one, seed=52, added=5, removed=20, changed=10)
    with RunningCalendar(day_one) as calendar:
        harness.sync(calendar.base_url)
        before = harness.stored_hashes()
        calendar.set_events(day_two)
        # When the next run syncs through it
        with hooked(harness.dynamodb, "before-send.dynamodb", throttle):
            report = harness.sync(calendar.base_url)

    # Then botocore's retries absorbed every error: the run completed, swept, and is exact
    assert per_operation == {"PutItem": 2, "UpdateItem": 2, "Query": 2}
    assert report.succeeded, report.producer_error
    assert str(report.run.sweep_outcome) == "swept"
    figures = harness.assert_exact(expected_items(day_two), report.run, before)
    assert harness.queue_count("EventsDLQ") == harness.queue_count("SweepDLQ") == 0
    fault_report.record(
        f"DynamoDB {operation} answers {status} {code} ({counter.injected} calls)",
        "retried by the client; run completes and sweeps; nothing lost",
        f"{counter.injected} errors injected in {counter.calls} calls -> completed, swept "
        f"({report.run.deleted_count} deleted), table exact",
        **figures,
    )


@pytest.mark.dynamodb_once(
    reason="a fault of SQS (moto for both backends); the writes that follow are those of "
    "every pipeline test, on both backends"
)
def test_producer_sendmessagebatch_entries_reported_failed_are_resent(
    harness, day_one, fault_report
):
    # Given SQS that drops 3 entries of each of the first 4 SendMessageBatch calls and says so
    counter = CallCounter()

    def three_of_the_first_four_calls(call: int, entries: list[dict]) -> int:
        return min(3, len(entries) - 1) if call <= 4 else 0

    # When a run enqueues its events in small messages (several batches)
    with (
        RunningCalendar(day_one) as calendar,
        failing_send_entries(harness.sqs, counter, three_of_the_first_four_calls),
    ):
        report = harness.sync(calendar.base_url, MESSAGE_MAX_EVENTS="10")

    # Then every failed entry was sent again: the run completed with every event
    assert counter.injected >= 6
    assert report.succeeded, report.producer_error
    assert report.producer["send_calls"] > report.producer["messages"] / 10
    figures = harness.assert_exact(expected_items(day_one), report.run)
    assert report.run.done_sequences == set(range(report.run.message_count))
    fault_report.record(
        "SQS SendMessageBatch reports entries as failed",
        "failed entries re-sent; every message arrives; run completes",
        f"{counter.injected} entries failed in {counter.calls} calls -> "
        f"{report.producer['messages']} messages all done, table exact",
        **figures,
    )


def test_producer_dying_after_part_of_a_run_never_completes_and_next_run_supersedes(
    harness, day_one, fault_report
):
    # Given a synced table, and a producer process that dies (every AWS call fails, even
    # the one recording its failure) after its first SendMessageBatch
    day_two = mutate_events(day_one, seed=53, added=10, removed=25, changed=20)
    counter = CallCounter()
    state = {"dead": False}

    def die_after_two(params, **_):
        if counter.next() > 1:
            state["dead"] = True
        if state["dead"]:
            raise RuntimeError("injected: the producer's process died")

    def dead(**_):
        if state["dead"]:
            raise RuntimeError("injected: the producer's process died")

    with RunningCalendar(day_one) as calendar:
        harness.sync(calendar.base_url)
        before = harness.stored_hashes()
        calendar.set_events(day_two)
        # When the dying run is followed by a drain of what it sent, then by a good run
        with (
            hooked(harness.sqs, "provide-client-params.sqs.SendMessageBatch", die_after_two),
            hooked(harness.dynamodb, "before-send.dynamodb", dead),
        ):
            pipeline, invocation = harness.produce(calendar.base_url, MESSAGE_MAX_EVENTS="10")
        state["dead"] = False
        dying_run = harness.deployment.runs.recent_runs(limit=1)[0]
        pipeline.drain_queues()
        partial = harness.stored_hashes()
        dying_after_drain = harness.deployment.runs.get(dying_run.run_id)
        report = harness.sync(calendar.base_url)

    # Then the dying run never completed and was never swept (nothing deleted on its
    # behalf); the next run completed, swept, and the table equals the calendar exactly
    assert not invocation.succeeded
    assert dying_after_drain.status is RunStatus.SCRAPING
    assert dying_after_drain.sweep_outcome is None
    assert set(before) <= set(partial)
    assert report.succeeded and str(report.run.sweep_outcome) == "swept"
    figures = harness.assert_exact(expected_items(day_two), report.run, partial)
    assert harness.deployment.runs.get(dying_run.run_id).sweep_outcome is None
    fault_report.record(
        "the producer dies after enqueuing part of a run",
        "that run never completes nor sweeps; the next run supersedes it",
        f"dying run stuck at {dying_after_drain.status} with "
        f"{len(dying_after_drain.done_sequences)} messages consumed, 0 deleted; "
        f"next run swept {report.run.deleted_count}, table exact",
        **figures,
        wrongly_deleted=len(set(before) - set(partial)),
    )


def test_producer_failing_after_part_of_a_run_is_recorded_failed_and_never_swept(
    harness, day_one, fault_report
):
    # Given a synced table, and SQS refusing every SendMessageBatch after the first
    counter = CallCounter()

    def refuse_after_one(request, **_):
        if counter.next() > 1:
            counter.injected += 1
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "injected"}}, "SendMessageBatch"
            )

    day_two = mutate_events(day_one, seed=54, added=0, removed=40, changed=0)
    with RunningCalendar(day_one) as calendar:
        harness.sync(calendar.base_url)
        before = harness.stored_hashes()
        calendar.set_events(day_two)
        # When a run fails half-way through enqueuing
        with hooked(harness.sqs, "before-send.sqs.SendMessageBatch", refuse_after_one):
            report = harness.sync(calendar.base_url, MESSAGE_MAX_EVENTS="10")
        pipeline = harness.pipeline(calendar.base_url)
        pipeline.drain_queues()

    # Then the run is recorded failed, its sweep never ran, and nothing was deleted
    assert not report.succeeded and str(report.run.status) == "failed"
    assert "injected" in report.run.error
    assert report.run.sweep_outcome is None
    assert set(harness.stored_hashes()) == set(before)
    fault_report.record(
        "SendMessageBatch fails for good after part of a run",
        "run recorded failed; never swept; nothing deleted",
        f"status {report.run.status}, sweep {report.run.sweep_outcome}, "
        f"{len(before)} items all kept",
        events=len(before),
    )


def test_producer_recovery_failing_still_records_and_syncs_todays_run(
    harness, day_one, fault_report
):
    # Given a synced table, and DynamoDB refusing every Query the producer's recovery of
    # earlier runs makes (the recent runs it reads, 20 of them)
    counter = CallCounter()

    def refuse_recovery_reads(request, **_):
        counter.next()
        body = bytes(request.body or b"")
        if b'"Limit": 20' in body or b'"Limit":20' in body:
            counter.injected += 1
            return error_response(request, 400, "AccessDeniedException", "injected: recovery")
        return None

    day_two = mutate_events(day_one, seed=55, added=5, removed=20, changed=10)
    with RunningCalendar(day_one) as calendar:
        harness.sync(calendar.base_url)
        before = harness.stored_hashes()
        calendar.set_events(day_two)
        # When the next run syncs while its recovery step fails
        with hooked(harness.dynamodb, "before-send.dynamodb.Query", refuse_recovery_reads):
            report = harness.sync(calendar.base_url)

    # Then the recovery did fail, and was said to; today's run was still recorded, completed
    # and swept, and the table holds exactly today's calendar
    assert counter.injected >= 1
    assert "recovery of earlier runs failed" in harness.log.getvalue()
    assert report.succeeded, report.producer_error
    assert report.run.status is RunStatus.COMPLETED
    assert report.run.sweep_outcome is SweepOutcome.SWEPT
    figures = harness.assert_exact(expected_items(day_two), report.run, before)
    fault_report.record(
        "The producer's recovery of earlier runs fails (DynamoDB Query refused)",
        "failure logged and counted (RecoveryFailed); today's run recorded, completed, swept",
        f"{counter.injected} recovery reads refused -> status {report.run.status}, sweep "
        f"{report.run.sweep_outcome}, table exact",
        **figures,
    )


@pytest.mark.parametrize("order", ["older-first", "newer-first", "interleaved"])
def test_sweep_overlapping_runs_older_run_deletes_nothing_the_newer_run_saw(
    harness, day_one, fault_report, order
):
    # Given a synced table, then run A (older) and run B (newer) both enqueued over
    # different calendars before either is consumed
    day_one = day_one[:150]
    day_a = mutate_events(day_one, seed=55, added=5, removed=20, changed=10)
    day_b = mutate_events(day_a, seed=56, added=5, removed=20, changed=10)
    with RunningCalendar(day_one) as calendar:
        harness.sync(calendar.base_url)
        calendar.set_events(day_a)
        pipeline, run_a = harness.produce(calendar.base_url, MESSAGE_MAX_EVENTS="25")
        calendar.set_events(day_b)
        _, run_b = harness.produce(calendar.base_url, MESSAGE_MAX_EVENTS="25")
    a_id, b_id = run_a.payload["run_id"], run_b.payload["run_id"]
    assert a_id < b_id
    bodies = harness.take_messages()
    of_a = [b for b in bodies if json.loads(b)["run_id"] == a_id]
    of_b = [b for b in bodies if json.loads(b)["run_id"] == b_id]
    seen_by_b = set(expected_items(day_b))

    # When they are consumed (and swept) in the given order
    if order == "older-first":
        steps = [of_a, of_b]
    elif order == "newer-first":
        steps = [of_b, of_a]
    else:
        half = len(of_b) // 2
        steps = [of_b[:half], of_a, of_b[half:]]
    wrongly_deleted: set[str] = set()
    for step in steps:
        before = harness.stored()
        harness.put_messages(step)
        pipeline.drain_queues()
        after = harness.stored()
        # nothing B wrote, and nothing B saw, may disappear at any step
        gone = set(before) - set(after)
        wrongly_deleted |= gone & seen_by_b
        assert {k for k, v in before.items() if v["run_id"] == b_id} <= set(after)

    # Then the table equals B's calendar exactly, and A never deleted what B saw
    assert wrongly_deleted == set()
    # no single run to hold the adds against: each may re-add what the other's sweep removed
    figures = harness.assert_exact(expected_items(day_b))
    record_a = harness.deployment.runs.get(a_id)
    record_b = harness.deployment.runs.get(b_id)
    assert str(record_b.sweep_outcome) == "swept"
    fault_report.record(
        f"two runs overlap ({order})",
        "the older run's sweep deletes nothing the newer run saw; table = newer calendar",
        f"A {record_a.status}/{record_a.sweep_outcome or 'no sweep'} "
        f"({record_a.deleted_count} deleted), B swept ({record_b.deleted_count}); table exact",
        **figures,
        wrongly_deleted=len(wrongly_deleted),
    )
