"""SQS helpers the tiers share: send bodies in batches, receive everything, count messages.

Imported as ``support.sqs`` (tests/ is on sys.path through its rootdir conftest).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_IN_FLIGHT = "ApproximateNumberOfMessagesNotVisible"
_VISIBLE = "ApproximateNumberOfMessages"


def send_bodies(sqs: Any, url: str, bodies: Sequence[str]) -> None:
    """Send ``bodies`` in order, ten per SendMessageBatch; fail if SQS refuses any entry."""
    for start in range(0, len(bodies), 10):
        result = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": body}
                for i, body in enumerate(bodies[start : start + 10])
            ],
        )
        assert not result.get("Failed"), result["Failed"]


def receive_all(
    sqs: Any,
    url: str,
    *,
    visibility_timeout: int = 60,
    delete: bool = False,
    message_attributes: bool = False,
) -> list[dict[str, Any]]:
    """Receive until the queue answers empty; the messages, in receive order.

    Without ``delete`` they stay in flight for ``visibility_timeout`` seconds (so each is
    received once); with it they are deleted batch by batch.
    """
    options: dict[str, Any] = {"MessageAttributeNames": ["All"]} if message_attributes else {}
    received: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility_timeout,
            **options,
        ).get("Messages", [])
        if not messages:
            return received
        received.extend(messages)
        if delete:
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )


def message_count(sqs: Any, url: str, *, in_flight: bool = True) -> int:
    """Messages on the queue (approximate, exact on moto): visible ones, plus in flight."""
    names = [_VISIBLE, _IN_FLIGHT] if in_flight else [_VISIBLE]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def receive_bodies(sqs: Any, url: str, **options: Any) -> list[str]:
    """The bodies of ``receive_all(sqs, url, **options)``, in receive order."""
    return [message["Body"] for message in receive_all(sqs, url, **options)]
