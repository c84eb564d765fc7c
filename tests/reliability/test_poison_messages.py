"""Poison messages of every kind: each fails alone, reaches the DLQ, and replays without loss."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime

import pytest
from reliability_harness import expected_items, today
from villages_sync.messages import decode_message, encode_message
from villages_sync.models import EventMessage
from villages_sync.run_ids import new_run_id
from villages_sync_ops.aws.dlq import replay_dlq
from villages_sync_ops.standin.dataset import generate_events
from villages_sync_ops.standin.server import RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason=(
        "poison messages live in SQS (moto for both backends); the consumer's writes are "
        "tested on both in the pipeline and delivery-fault tests"
    )
)


def _envelope(run_id: str, events_field: object, /, **overrides: object) -> str:
    body = {"v": 1, "run_id": run_id, "seq": 0, "encoding": "zlib+base64", "events": events_field}
    body.update(overrides)
    return json.dumps(body)


def _packed(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw, 9)).decode()


def poison_bodies(make_item) -> dict[str, str]:
    """One body per kind of poison, all with an otherwise plausible envelope."""
    run_id = new_run_id(datetime(2020, 1, 1, tzinfo=UTC))
    good = make_item("4242")
    return {
        "not JSON": "this is not json {",
        "JSON but not an object": "[1, 2, 3]",
        "deeply nested JSON": "[" * 100_000 + "]" * 100_000,
        "wrong version": encode_message(EventMessage(run_id, 0, [good])).replace('"v":1', '"v":99'),
        "version as a boolean": _envelope(run_id, [good], v=True, encoding="json"),
        "run_id of the wrong type": _envelope(run_id, [good], run_id=5, encoding="json"),
        "sequence negative": _envelope(run_id, [good], seq=-1, encoding="json"),
        "count that lies": _envelope(run_id, [good], n=7, encoding="json"),
        "unknown encoding": _envelope(run_id, "abc", encoding="rot13"),
        "bad base64": _envelope(run_id, "!!!not base64!!!"),
        "bad zlib": _envelope(run_id, base64.b64encode(b"definitely not zlib").decode()),
        "truncated zlib": _envelope(run_id, _packed(json.dumps([good]).encode())[:-12]),
        "zlib of something not JSON": _envelope(run_id, _packed(b"\xff\xfe not json")),
        "zip bomb (64 MiB of spaces)": _envelope(run_id, _packed(b"[" + b" " * (64 << 20) + b"]")),
    }


# Events that break one rule each: inside a good message they fail alone (issue 9).
BAD_EVENTS = {
    "a title of the wrong type": {"title": 12},
    "an oversized title": {"title": "x" * 5000},
    "an oversized description": {"description": "y" * 50_000},
    "an unknown field": {"owner": "mallory"},
    "a bad date": {"event_date": "2026-02-30"},
}


def test_consumer_bad_event_fails_alone_rest_of_its_message_applied(harness, fault_report):
    # Given a good run whose five messages each carry one event broken in a different way
    events = generate_events(100, seed=72, today=today())
    with RunningCalendar(events) as calendar:
        pipeline, invocation = harness.produce(calendar.base_url, MESSAGE_MAX_EVENTS="20")
        bodies = harness.take_messages()
        broken_ids = []
        for index, (body, change) in enumerate(zip(bodies, BAD_EVENTS.values(), strict=True)):
            message = decode_message(body)
            broken_ids.append(message.events[0]["event_id"])
            message.events[0] = {**message.events[0], **change}
            bodies[index] = encode_message(message)
        harness.put_messages(bodies)

        # When the queue is drained
        pipeline.drain_queues()

    # Then each broken event alone is left out and counted; every other event is stored, no
    # message dead-letters, and the run completes
    expected = {k: v for k, v in expected_items(events).items() if k not in broken_ids}
    assert harness.stored_hashes() == expected
    run = harness.deployment.runs.get(invocation.payload["run_id"])
    assert str(run.status) == "completed"
    assert run.upserts["invalid"] == len(BAD_EVENTS)
    assert harness.queue_count("EventsDLQ") == 0
    fault_report.count_input("events breaking a rule inside a good message", len(BAD_EVENTS))
    fault_report.record(
        f"one bad event in each of {len(BAD_EVENTS)} good messages ({', '.join(BAD_EVENTS)})",
        "each bad event fails alone; the rest of its message is applied; nothing dead-letters",
        f"{run.upserts['invalid']} invalid counted, {len(expected)} stored, DLQ empty, "
        f"run {run.status}",
        events=len(expected),
    )


def test_consumer_poison_messages_each_fail_alone_reach_dlq_and_replay_without_loss(
    harness, make_item, fault_report
):
    # Given a good run's messages and one poison message of every kind on the events queue
    events = generate_events(100, seed=71, today=today())
    poison = poison_bodies(make_item)
    with RunningCalendar(events) as calendar:
        pipeline, invocation = harness.produce(calendar.base_url, MESSAGE_MAX_EVENTS="20")
        good = harness.take_messages()
        mixed = [body for pair in zip(good, list(poison.values()), strict=False) for body in pair]
        mixed += good[len(poison) :] + list(poison.values())[len(good) :]
        harness.put_messages(mixed)

        # When the queue is drained
        pipeline.drain_queues()

    # Then the good run completed exactly, and every poison message (only those) sits in the DLQ
    expected = expected_items(events)
    stored = harness.stored_hashes()
    assert stored == expected
    run = harness.deployment.runs.get(invocation.payload["run_id"])
    assert str(run.status) == "completed" and str(run.sweep_outcome) == "swept"
    assert harness.queue_count("EventsQueue") == 0
    dead = harness.take_messages("EventsDLQ")
    assert sorted(dead) == sorted(poison.values())

    # And when replay-dlq moves them back, none is lost, and they dead-letter again
    harness.put_messages(dead, "EventsDLQ")
    urls = {
        "dlq_url": harness.queue_url("EventsDLQ"),
        "source_url": harness.queue_url("EventsQueue"),
    }
    dry = replay_dlq(harness.sqs, dry_run=True, **urls)
    moved = replay_dlq(harness.sqs, **urls)
    assert (dry.moved, moved.moved, moved.failed, moved.remaining_in_dlq) == (
        len(poison),
        len(poison),
        0,
        0,
    )
    assert sorted(harness.take_messages("EventsQueue")) == sorted(poison.values())
    harness.put_messages(list(poison.values()))
    pipeline.drain_queues()
    assert harness.queue_count("EventsDLQ") == len(poison)
    assert harness.stored_hashes() == expected

    fault_report.count_input("poison message kinds", len(poison))
    fault_report.record(
        f"poison messages ({len(poison)} kinds: {', '.join(list(poison)[:4])}, ...)",
        "each fails alone and reaches the DLQ; replay-dlq moves all back; good run unaffected",
        f"{len(dead)} of {len(poison)} in DLQ, {len(good)} good messages done, run swept; "
        f"replay moved {moved.moved} ({moved.method}), {moved.remaining_in_dlq} left",
        events=len(expected),
    )


@pytest.mark.parametrize("max_messages", [None, 3])
def test_replay_dlq_moves_every_message_back_without_loss(
    harness, make_item, max_messages, fault_report
):
    # Given dead letters waiting in the DLQ
    bodies = list(poison_bodies(make_item).values())[:8]
    harness.put_messages(bodies, "EventsDLQ")
    urls = {
        "dlq_url": harness.queue_url("EventsDLQ"),
        "source_url": harness.queue_url("EventsQueue"),
    }

    # When replay-dlq runs (all at once, or a few at a time until empty)
    moved = 0
    while harness.queue_count("EventsDLQ"):
        report = replay_dlq(harness.sqs, max_messages=max_messages, **urls)
        assert report.failed == 0 and report.moved > 0
        moved += report.moved

    # Then every message is on the source queue exactly once, and the DLQ is empty
    assert moved == len(bodies)
    assert sorted(harness.take_messages("EventsQueue")) == sorted(bodies)
    fault_report.record(
        f"replay-dlq ({'all at once' if max_messages is None else f'{max_messages} at a time'})",
        "every dead letter back on its queue once; DLQ empty",
        f"{moved} of {len(bodies)} moved, 0 failed, DLQ empty",
    )
