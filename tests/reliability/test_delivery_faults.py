"""Queue-delivery faults: duplicates, reordering, redelivery, replays, crashes mid-batch.

Each test runs the real handlers over moto and asserts the end state of the events table, the
queues and the run records; then records the fault it survived in the fault report.
"""

from __future__ import annotations

import json
import random

import pytest
from reliability_harness import CallCounter, expected_items, hooked, today
from villages_sync_ops.aws.dlq import replay_dlq
from villages_sync_ops.standin.dataset import generate_events, mutate_events
from villages_sync_ops.standin.server import RunningCalendar

SIZE = 150


@pytest.fixture
def day_one():
    return generate_events(SIZE, seed=41, today=today())


def _run_of(body: str) -> str:
    return json.loads(body)["run_id"]


def test_consumer_every_message_delivered_twice_stores_each_event_once(
    harness, day_one, fault_report
):
    # Given a run whose every message sits twice on the events queue
    with RunningCalendar(day_one) as calendar:
        pipeline, invocation = harness.produce(calendar.base_url)
    bodies = harness.take_messages()
    harness.put_messages(bodies + bodies)

    # When the consumer drains the queue (and the sweep runs)
    pipeline.drain_queues()

    # Then every event is stored once, counted once, and the run completed and swept once
    run = harness.deployment.runs.get(invocation.payload["run_id"])
    figures = harness.assert_exact(expected_items(day_one), run)
    assert str(run.status) == "completed" and str(run.sweep_outcome) == "swept"
    assert run.upserts.get("added") == len(expected_items(day_one))
    assert run.done_sequences == set(range(len(bodies)))
    assert harness.queue_count("EventsQueue") == harness.queue_count("EventsDLQ") == 0
    fault_report.record(
        "every message delivered twice",
        "each event stored once; run counted once; completed and swept once",
        f"{len(bodies) * 2} deliveries of {len(bodies)} messages -> {figures['events']} items, "
        f"added={run.upserts.get('added')}, sweep {run.sweep_outcome}",
        **figures,
    )


def test_consumer_messages_out_of_order_completes_run_with_every_event(
    harness, day_one, fault_report
):
    # Given a run whose messages wait on the queue in reverse and shuffled order
    with RunningCalendar(day_one) as calendar:
        pipeline, invocation = harness.produce(calendar.base_url, MESSAGE_MAX_EVENTS="25")
    bodies = harness.take_messages()
    shuffled = list(reversed(bodies))
    random.Random(7).shuffle(shuffled)
    harness.put_messages(shuffled)

    # When the consumer drains them
    pipeline.drain_queues()

    # Then the run completed only after its last message, with every event stored
    run = harness.deployment.runs.get(invocation.payload["run_id"])
    figures = harness.assert_exact(expected_items(day_one), run)
    assert run.message_count == len(bodies) > 1
    assert str(run.status) == "completed" and str(run.sweep_outcome) == "swept"
    fault_report.record(
        "messages delivered out of order",
        "run completes only when every sequence is done; every event stored",
        f"{len(bodies)} messages shuffled -> completed, {figures['events']} items exact",
        **figures,
    )


def test_consumer_batch_redelivered_after_visibility_timeout_is_idempotent(
    harness, day_one, fault_report
):
    # Given a run whose first batch was processed, but whose deletes were lost, so SQS
    # delivers it again when its visibility timeout ends (here: at once)
    with RunningCalendar(day_one) as calendar:
        pipeline, invocation = harness.produce(calendar.base_url, MESSAGE_MAX_EVENTS="50")
    url = harness.queue_url("EventsQueue")
    batch = harness.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=5, AttributeNames=["All"], WaitTimeSeconds=0
    )["Messages"]
    mapping = pipeline.event_source_mapping(harness.deployment.resources.event_source_mappings[0])
    first = pipeline.invoke_function(
        "ConsumerFunction", {"Records": [mapping.lambda_record(m) for m in batch]}
    )
    assert first.succeeded and not first.payload["batchItemFailures"]
    harness.sqs.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(batch)
        ],
    )

    # When the queue is drained, the batch a second time included
    pipeline.drain_queues()

    # Then nothing is stored twice or counted twice, and the run completed and swept once
    expected = expected_items(day_one)
    run = harness.deployment.runs.get(invocation.payload["run_id"])
    figures = harness.assert_exact(expected, run)
    assert run.upserts.get("added") == len(expected)
    assert str(run.sweep_outcome) == "swept"
    fault_report.record(
        "a batch redelivered after its visibility timeout",
        "rewrites the same values; counts and completion unaffected",
        f"batch of {len(batch)} messages processed twice -> added={run.upserts.get('added')} "
        f"of {len(expected)}, sweep {run.sweep_outcome}",
        **figures,
    )


def test_consumer_old_run_replayed_from_dlq_after_newer_run_neither_reverts_nor_resurrects(
    harness, day_one, fault_report
):
    # Given run 1's messages kept aside (as if dead-lettered), and a newer run 2 that changed
    # 40 events, removed 30 and completed with its sweep
    day_two = mutate_events(day_one, seed=42, added=10, removed=30, changed=40)
    with RunningCalendar(day_one) as calendar:
        pipeline, _ = harness.produce(calendar.base_url)
        old_bodies = harness.take_messages()
        harness.put_messages(old_bodies)
        pipeline.drain_queues()
        before = harness.stored_hashes()
        calendar.set_events(day_two)
        second = harness.sync(calendar.base_url)
    assert second.succeeded and str(second.run.sweep_outcome) == "swept"
    expected = expected_items(day_two)
    removed = set(expected_items(day_one)) - set(expected)
    assert removed
    harness.assert_exact(expected, second.run, before)

    # When run 1's messages reach the DLQ and are replayed onto the events queue
    harness.put_messages(old_bodies, "EventsDLQ")
    replayed = replay_dlq(
        harness.sqs,
        dlq_url=harness.queue_url("EventsDLQ"),
        source_url=harness.queue_url("EventsQueue"),
    )
    pipeline.drain_queues()

    # Then no removed event came back and no changed event went back to its old content
    figures = harness.assert_exact(expected, harness.deployment.runs.get(second.run_id), before)
    assert replayed.moved == len(old_bodies)
    assert harness.queue_count("EventsQueue") == harness.queue_count("EventsDLQ") == 0
    assert harness.deployment.runs.latest_completed_run_id() == second.run_id
    fault_report.record(
        "an old run's messages replayed from the DLQ after a newer run completed",
        "dropped: nothing reverted, nothing resurrected",
        f"{replayed.moved} messages replayed -> {len(removed)} removed events stay gone, "
        f"table equals run 2 exactly",
        **figures,
    )


def test_consumer_failing_mid_batch_retries_and_loses_nothing(harness, day_one, fault_report):
    # Given a consumer whose DynamoDB writes die (a crash, not retryable) for 25 calls once
    # 120 events were written
    counter = CallCounter()

    def crash(request, **_):
        if 120 < counter.next() <= 145:
            counter.injected += 1
            raise RuntimeError("injected crash in the middle of a batch")

    with RunningCalendar(day_one) as calendar:
        pipeline, invocation = harness.produce(calendar.base_url)
        # When the queue is drained with the crash in place
        with hooked(harness.dynamodb, "before-send.dynamodb.PutItem", crash):
            pipeline.drain_queues()

    # Then the failed messages were retried and the run is complete, exact and swept
    expected = expected_items(day_one)
    run = harness.deployment.runs.get(invocation.payload["run_id"])
    figures = harness.assert_exact(expected, run)
    assert counter.injected == 25
    assert str(run.status) == "completed" and str(run.sweep_outcome) == "swept"
    assert sum(run.upserts.values()) == len(expected)
    assert harness.queue_count("EventsDLQ") == 0
    fault_report.record(
        "the consumer failing mid-batch after some events were written",
        "failed messages retried; every event stored once; run completes",
        f"{counter.injected} writes crashed -> retried, {figures['events']} items exact, "
        f"counts {dict(run.upserts)}",
        **figures,
    )


# The crashed attempt dies before it records a metric, and Powertools' log_metrics warns when
# it flushes nothing: that is Lambda's real behaviour for this fault, not a test problem.
@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
def test_sweep_failing_midway_runs_again_and_deletes_exactly_the_stale(
    harness, day_one, fault_report
):
    # Given a synced table and a next-day calendar with 60 events removed
    day_two = mutate_events(day_one, seed=43, added=0, removed=60, changed=0)
    counter = CallCounter()

    def crash(request, **_):
        if counter.next() == 20:
            counter.injected += 1
            raise RuntimeError("injected crash in the middle of the sweep")

    with RunningCalendar(day_one) as calendar:
        harness.sync(calendar.base_url)
        before = harness.stored_hashes()
        calendar.set_events(day_two)
        # When the next run's sweep dies after 19 deletes, and its request is delivered again
        # (a deletion is a TransactWriteItems: the tombstone and its count on the run)
        with hooked(harness.dynamodb, "before-send.dynamodb.TransactWriteItems", crash):
            report = harness.sync(calendar.base_url)

    # Then exactly the removed events are gone, and the run records all of them
    expected = expected_items(day_two)
    removed = set(expected_items(day_one)) - set(expected)
    figures = harness.assert_exact(expected, report.run, before)
    assert counter.injected == 1
    assert str(report.run.sweep_outcome) == "swept"
    assert report.run.deleted_count == len(removed)
    assert harness.queue_count("SweepQueue") == harness.queue_count("SweepDLQ") == 0
    fault_report.record(
        "the sweep failing mid-way and running again",
        "second attempt deletes the rest; run record counts every delete",
        f"crash after 19 of {len(removed)} deletes -> {report.run.deleted_count} recorded, "
        "table exact",
        **figures,
        wrongly_deleted=len(set(expected) - set(harness.stored_hashes())),
    )


def test_consumer_stray_sequence_never_completes_a_run_early(harness, day_one, fault_report):
    # Given a synced table, and the next run's messages on the queue except the last one,
    # plus a stray message of that run with a sequence it never sent (a corrupt or forged
    # message that decodes fine)
    day_two = mutate_events(day_one, seed=44, added=0, removed=5, changed=0)
    with RunningCalendar(day_one) as calendar:
        harness.sync(calendar.base_url)
        before = harness.stored_hashes()
        calendar.set_events(day_two)
        pipeline, invocation = harness.produce(calendar.base_url, MESSAGE_MAX_EVENTS="100")
    bodies = sorted(harness.take_messages(), key=lambda b: json.loads(b)["seq"])
    last, earlier = bodies[-1], bodies[:-1]
    stray = json.dumps({**json.loads(earlier[0]), "seq": 999}, separators=(",", ":"))
    expected = expected_items(day_two)

    # When everything but the last message is consumed
    harness.put_messages([*earlier, stray])
    pipeline.drain_queues()
    early = harness.deployment.runs.get(invocation.payload["run_id"])
    during = harness.stored_hashes()

    # Then the run is not complete and its sweep has not deleted the last message's events
    assert str(early.status) == "enqueued" and early.sweep_outcome is None
    assert set(expected) <= set(during)

    # And when the last message arrives, the run completes and sweeps exactly
    harness.put_messages([last])
    pipeline.drain_queues()
    done = harness.deployment.runs.get(invocation.payload["run_id"])
    figures = harness.assert_exact(expected, done, before)
    assert str(done.sweep_outcome) == "swept"
    fault_report.record(
        "a stray message with a sequence the run never sent",
        "does not complete the run early; nothing deleted before the last message",
        f"run {early.status} with {len(early.done_sequences)} sequences done of "
        f"{early.message_count}; completed and swept only after the last",
        **figures,
        wrongly_deleted=len(set(expected) - set(during)),
    )
