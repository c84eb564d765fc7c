"""send_message_bodies against a moto server: failed entries retried, every message once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from support.sqs import receive_bodies
from villages_sync.aws.queue import SendError, send_message_bodies


class FailingEntries:
    """The real moto client, except that SendMessageBatch fails the entries ``fail`` picks.

    Picked entries are not sent: they are reported in the real response's ``Failed`` list,
    as SQS reports entries it could not take.
    """

    def __init__(self, sqs, fail: Callable[[dict[str, str], int], dict[str, Any] | None]) -> None:
        self._sqs = sqs
        self._fail = fail
        self.calls: list[list[str]] = []
        self.attempts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> dict:
        self.calls.append([e["MessageBody"] for e in Entries])
        failed, passing = [], []
        for entry in Entries:
            self.attempts[entry["MessageBody"]] += 1
            fault = self._fail(entry, self.attempts[entry["MessageBody"]])
            if fault is None:
                passing.append(entry)
            else:
                failed.append({"Id": entry["Id"], **fault})
        response = (
            self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=passing)
            if passing
            else {"Successful": []}
        )
        response["Failed"] = failed + response.get("Failed", [])
        return response


THROTTLED = {"SenderFault": False, "Code": "InternalError", "Message": "try again"}
INVALID = {"SenderFault": True, "Code": "InvalidParameterValue", "Message": "bad body"}


@pytest.fixture
def queue_url(sqs) -> str:
    return sqs.create_queue(QueueName="events")["QueueUrl"]


def test_send_message_bodies_transient_failures_retried_each_arrives_once(sqs, queue_url) -> None:
    # Given 25 bodies, of which every third fails on its first two attempts
    bodies = [f"body-{n}" for n in range(25)]
    flaky = set(bodies[::3])
    client = FailingEntries(
        sqs,
        lambda entry, attempt: (
            THROTTLED if entry["MessageBody"] in flaky and attempt <= 2 else None
        ),
    )
    progress: list[int] = []
    waits: list[float] = []
    # When they are sent
    report = send_message_bodies(
        client, queue_url, bodies, sleep=waits.append, on_sent=progress.append
    )
    # Then every message is on the queue exactly once, and the retries are counted
    assert Counter(receive_bodies(sqs, queue_url)) == Counter(bodies)
    assert report.messages == 25
    assert report.entry_retries == 2 * len(flaky)
    assert report.batch_calls == 3 * 3  # three batches, each sent three times
    assert all(client.attempts[b] == 3 for b in flaky)
    assert all(client.attempts[b] == 1 for b in set(bodies) - flaky)
    assert all(len(call) <= 10 for call in client.calls)
    assert progress == [10, 20, 25]
    assert len(waits) == 6


def test_send_message_bodies_sender_fault_not_retried_send_error_names_queue(
    sqs, queue_url
) -> None:
    # Given a body that SQS refuses as the sender's fault
    bodies = ["ok-1", "refused", "ok-2"]
    client = FailingEntries(
        sqs, lambda entry, attempt: INVALID if entry["MessageBody"] == "refused" else None
    )
    # When they are sent
    with pytest.raises(SendError) as raised:
        send_message_bodies(client, queue_url, bodies, sleep=lambda s: None)
    # Then it is not retried, and the error names the queue and the reason
    assert client.attempts["refused"] == 1
    assert len(client.calls) == 1
    assert queue_url in str(raised.value)
    assert "InvalidParameterValue: bad body" in str(raised.value)
    assert "1 message(s) not sent after 1 attempt(s)" in str(raised.value)
    assert Counter(receive_bodies(sqs, queue_url)) == Counter({"ok-1": 1, "ok-2": 1})


def test_send_message_bodies_always_failing_gives_up_after_max_attempts(sqs, queue_url) -> None:
    # Given a body that fails transiently every time
    client = FailingEntries(
        sqs, lambda entry, attempt: THROTTLED if entry["MessageBody"] == "stuck" else None
    )
    # When it is sent with 4 attempts
    with pytest.raises(SendError, match="not sent after 4 attempt"):
        send_message_bodies(
            client, queue_url, ["fine", "stuck"], max_attempts=4, sleep=lambda s: None
        )
    # Then it was tried exactly 4 times and the good one arrived once
    assert client.attempts["stuck"] == 4
    assert Counter(receive_bodies(sqs, queue_url)) == Counter({"fine": 1})


def test_send_message_bodies_real_client_all_arrive(sqs, queue_url) -> None:
    # Given bodies and the plain moto client
    bodies = [f"plain-{n}" for n in range(13)]
    # When they are sent
    report = send_message_bodies(sqs, queue_url, bodies, sleep=lambda s: None)
    # Then all arrive once with two batch calls
    assert Counter(receive_bodies(sqs, queue_url)) == Counter(bodies)
    assert (report.messages, report.batch_calls, report.entry_retries) == (13, 2, 0)
