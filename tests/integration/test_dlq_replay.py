"""replay_dlq against a moto server: dead letters go back to their queue, losing nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.sqs import message_count, receive_all
from villages_sync_ops.aws.dlq import MOVE_TASK, RECEIVE_SEND_DELETE, replay_dlq


@pytest.fixture
def queues(sqs) -> dict[str, str]:
    return {
        "source": sqs.create_queue(QueueName="events")["QueueUrl"],
        "dlq": sqs.create_queue(QueueName="events-dlq")["QueueUrl"],
    }


def fill(sqs, url: str, count: int) -> list[str]:
    bodies = [f'{{"n": {n}}}' for n in range(count)]
    for n, body in enumerate(bodies):
        sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={
                "run_id": {"DataType": "String", "StringValue": f"run-{n}"},
                "seq": {"DataType": "Number", "StringValue": str(n)},
            },
        )
    return bodies


def test_replay_dlq_moto_without_move_task_falls_back_and_preserves_messages(sqs, queues) -> None:
    # Given 23 dead letters with message attributes (moto has no StartMessageMoveTask)
    bodies = fill(sqs, queues["dlq"], 23)
    progress: list[int] = []
    # When they are replayed
    report = replay_dlq(
        sqs, dlq_url=queues["dlq"], source_url=queues["source"], on_progress=progress.append
    )
    # Then all moved by receive-send-delete, with bodies and attributes intact, DLQ empty
    assert report.method == RECEIVE_SEND_DELETE
    assert (report.moved, report.failed, report.dry_run, report.remaining_in_dlq) == (
        23,
        0,
        False,
        0,
    )
    assert progress[-1] == 23
    moved = receive_all(sqs, queues["source"], message_attributes=True)
    assert Counter(m["Body"] for m in moved) == Counter(bodies)
    for message in moved:
        n = int(message["Body"].split(":")[1].strip(" }"))
        assert message["MessageAttributes"]["run_id"]["StringValue"] == f"run-{n}"
        assert message["MessageAttributes"]["seq"] == {"DataType": "Number", "StringValue": str(n)}
    assert message_count(sqs, queues["dlq"], in_flight=False) == 0


@pytest.mark.parametrize(("count", "max_messages", "expected"), [(15, 7, 7), (5, 12, 5), (4, 0, 0)])
def test_replay_dlq_max_messages_honoured(sqs, queues, count, max_messages, expected) -> None:
    # Given some dead letters
    fill(sqs, queues["dlq"], count)
    # When at most max_messages are replayed
    report = replay_dlq(
        sqs, dlq_url=queues["dlq"], source_url=queues["source"], max_messages=max_messages
    )
    # Then that many moved and the rest stayed in the DLQ
    assert report.moved == expected
    assert report.remaining_in_dlq == count - expected
    assert len(receive_all(sqs, queues["source"], message_attributes=True)) == expected
    assert message_count(sqs, queues["dlq"], in_flight=False) == count - expected


@pytest.mark.parametrize(("max_messages", "expected"), [(None, 6), (4, 4), (10, 6)])
def test_replay_dlq_dry_run_moves_nothing_reports_count(
    sqs, queues, max_messages, expected
) -> None:
    # Given 6 dead letters
    fill(sqs, queues["dlq"], 6)
    # When a dry run is asked for
    report = replay_dlq(
        sqs,
        dlq_url=queues["dlq"],
        source_url=queues["source"],
        dry_run=True,
        max_messages=max_messages,
    )
    # Then it reports what would move and nothing moved
    assert report.dry_run is True
    assert report.moved == expected
    assert report.remaining_in_dlq == 6
    assert message_count(sqs, queues["dlq"], in_flight=False) == 6
    assert message_count(sqs, queues["source"], in_flight=False) == 0


def test_replay_dlq_empty_dlq_nothing_moved(sqs, queues) -> None:
    # Given an empty DLQ
    # When it is replayed
    report = replay_dlq(sqs, dlq_url=queues["dlq"], source_url=queues["source"])
    # Then nothing moved
    assert (report.moved, report.failed, report.remaining_in_dlq) == (0, 0, 0)
    assert message_count(sqs, queues["source"], in_flight=False) == 0


class MoveTaskClient:
    """The real moto client, with StartMessageMoveTask answered as ``answer`` says."""

    def __init__(self, sqs, answer: str) -> None:
        self._sqs = sqs
        self._answer = answer
        self.move_tasks: list[dict[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def start_message_move_task(self, **kwargs: str) -> dict[str, str]:
        self.move_tasks.append(kwargs)
        if self._answer == "ok":
            return {"TaskHandle": "handle-1"}
        raise ClientError(
            {"Error": {"Code": self._answer, "Message": "no"}}, "StartMessageMoveTask"
        )


def test_replay_dlq_move_task_available_used_with_arns(sqs, queues) -> None:
    # Given an endpoint that offers StartMessageMoveTask
    fill(sqs, queues["dlq"], 3)
    client = MoveTaskClient(sqs, "ok")
    # When the DLQ is replayed without a count
    report = replay_dlq(client, dlq_url=queues["dlq"], source_url=queues["source"])
    # Then a move task was started from the DLQ's ARN to the source's ARN
    assert report.method == MOVE_TASK
    assert report.moved == 3
    assert [t["SourceArn"].rsplit(":", 1)[1] for t in client.move_tasks] == ["events-dlq"]
    assert client.move_tasks[0]["DestinationArn"].endswith(":events")


@pytest.mark.parametrize("code", ["UnsupportedOperation", "InvalidAction", "501"])
def test_replay_dlq_move_task_unsupported_falls_back(sqs, queues, code: str) -> None:
    # Given an endpoint that says it lacks StartMessageMoveTask
    fill(sqs, queues["dlq"], 3)
    client = MoveTaskClient(sqs, code)
    # When the DLQ is replayed
    report = replay_dlq(client, dlq_url=queues["dlq"], source_url=queues["source"])
    # Then receive-send-delete moved everything
    assert report.method == RECEIVE_SEND_DELETE
    assert report.moved == 3
    assert message_count(sqs, queues["dlq"], in_flight=False) == 0


def test_replay_dlq_move_task_access_denied_raises_nothing_moved(sqs, queues) -> None:
    # Given an endpoint that refuses StartMessageMoveTask for a real reason
    fill(sqs, queues["dlq"], 2)
    client = MoveTaskClient(sqs, "AccessDenied")
    # When the DLQ is replayed
    # Then the error is raised and nothing moved
    with pytest.raises(ClientError, match="AccessDenied"):
        replay_dlq(client, dlq_url=queues["dlq"], source_url=queues["source"])
    assert message_count(sqs, queues["dlq"], in_flight=False) == 2
