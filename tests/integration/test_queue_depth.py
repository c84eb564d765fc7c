"""queue_depths against a moto server: visible, in flight and delayed counts per queue."""

from __future__ import annotations

from villages_sync_ops.aws.queue_depth import QueueDepth, queue_depths


def test_queue_depths_mixed_states_counted_per_queue(sqs) -> None:
    # Given a queue with visible, in-flight and delayed messages, and an empty DLQ
    events = sqs.create_queue(QueueName="events")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]
    for n in range(5):
        sqs.send_message(QueueUrl=events, MessageBody=f"m{n}")
    sqs.send_message(QueueUrl=events, MessageBody="later", DelaySeconds=600)
    received = sqs.receive_message(QueueUrl=events, MaxNumberOfMessages=2, VisibilityTimeout=600)
    assert len(received["Messages"]) == 2
    # When the depths are read
    depths = queue_depths(sqs, {"events": events, "events-dlq": dlq}, dlq_names={"events-dlq"})
    # Then each queue's counts are right, in the order given, and the DLQ is marked
    assert depths == [
        QueueDepth("events", events, visible=3, in_flight=2, delayed=1, is_dlq=False),
        QueueDepth("events-dlq", dlq, visible=0, in_flight=0, delayed=0, is_dlq=True),
    ]


def test_queue_depths_no_queues_empty_list(sqs) -> None:
    # Given no queues
    # When the depths are read
    # Then there are none
    assert queue_depths(sqs, {}) == []
