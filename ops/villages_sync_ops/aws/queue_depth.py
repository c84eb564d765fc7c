"""How many messages each queue holds: visible, in flight, delayed."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

_ATTRIBUTES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


@dataclass(frozen=True)
class QueueDepth:
    name: str
    url: str
    visible: int
    in_flight: int
    delayed: int
    is_dlq: bool


def queue_depths(
    sqs: Any, queues: Mapping[str, str], *, dlq_names: Collection[str] = ()
) -> list[QueueDepth]:
    depths = []
    for name, url in queues.items():
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(_ATTRIBUTES))[
            "Attributes"
        ]
        visible, in_flight, delayed = (int(attributes.get(a, 0)) for a in _ATTRIBUTES)
        depths.append(QueueDepth(name, url, visible, in_flight, delayed, name in dlq_names))
    return depths
