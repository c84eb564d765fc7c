"""villages_sync.sqs_batch answers every batch exactly as Powertools' BatchProcessor did: the
same ``batchItemFailures`` in the same order, the same exception when every record fails or
the event is not an SQS batch, and the same record fields handed to the record handler."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities import batch as powertools_batch
from hypothesis import given
from hypothesis import strategies as st
from villages_sync import sqs_batch


def sqs_event(bodies: list[str]) -> dict:
    return {
        "Records": [
            {
                "messageId": f"id-{n}",
                "receiptHandle": f"handle-{n}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(n + 1)},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:villages-events-dev",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


def fail_on_bad(record) -> dict:
    """Fails the records whose body starts "bad"; uses every field the handlers read."""
    if record.body.startswith("bad"):
        attempt = record.attributes.approximate_receive_count
        raise ValueError(f"{record.message_id} failed on attempt {attempt}")
    return {"ok": record.message_id}


def ours(event, handler=fail_on_bad):
    return sqs_batch.process_partial_response(event, handler)


def powertools(event, handler=fail_on_bad):
    processor = powertools_batch.BatchProcessor(event_type=powertools_batch.EventType.SQS)
    return powertools_batch.process_partial_response(
        event=event, record_handler=handler, processor=processor, context=None
    )


def outcome(process, event, handler=fail_on_bad):
    """The response, or the exception's class name and message head."""
    try:
        return ("response", process(event, handler))
    except Exception as error:
        return ("raised", type(error).__name__, str(error).split("\n")[0])


@pytest.mark.parametrize(
    ("bodies", "expected"),
    [
        (["good"], {"batchItemFailures": []}),
        (["good", "good", "good"], {"batchItemFailures": []}),
        (["bad", "good"], {"batchItemFailures": [{"itemIdentifier": "id-0"}]}),
        (
            ["good", "bad", "good", "bad-too"],
            {"batchItemFailures": [{"itemIdentifier": "id-1"}, {"itemIdentifier": "id-3"}]},
        ),
    ],
)
def test_partial_failures_list_exactly_the_failed_messages(bodies, expected):
    # Given a batch where some bodies fail / When processed by ours and by Powertools
    # Then both list exactly the failed message ids, in the batch's order
    assert ours(sqs_event(bodies)) == expected
    assert powertools(sqs_event(bodies)) == expected


@pytest.mark.parametrize("bodies", [["bad"], ["bad", "bad-again", "bad-3"]])
def test_a_batch_whose_every_record_failed_raises_so_lambda_retries_it_whole(bodies):
    # Given a batch where every record fails / When processed
    with pytest.raises(sqs_batch.BatchProcessingError) as raised:
        ours(sqs_event(bodies))

    # Then the error says so and carries each record's exception and traceback
    assert str(raised.value).startswith(
        f"All records failed processing. {len(bodies)} individual errors logged separately below."
    )
    assert [type(e) for _, e, _ in raised.value.child_exceptions] == [ValueError] * len(bodies)
    assert str(raised.value).count("Traceback (most recent call last)") == len(bodies)
    assert outcome(ours, sqs_event(bodies)) == outcome(powertools, sqs_event(bodies))


@pytest.mark.parametrize(
    "event",
    [{"Records": []}, {}, {"Records": "not a list"}, {"Records": None}],
    ids=["empty", "no-records", "string", "none"],
)
def test_an_event_that_is_no_sqs_batch_raises_as_powertools_did(event):
    with pytest.raises(sqs_batch.UnexpectedBatchTypeError):
        ours(event)
    assert outcome(ours, event) == outcome(powertools, event)


def test_a_record_without_a_body_fails_alone():
    # Given a batch whose second record has no body (read when the handler asks for it)
    event = sqs_event(["good", "x", "good"])
    del event["Records"][1]["body"]

    # Then only that record is reported, by both
    expected = {"batchItemFailures": [{"itemIdentifier": "id-1"}]}
    assert ours(event) == expected
    assert powertools(event) == expected


def test_base_exceptions_are_not_swallowed():
    # A KeyboardInterrupt or SystemExit stops the invocation, as with Powertools
    def interrupted(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ours(sqs_event(["good"]), interrupted)


@given(st.lists(st.sampled_from(["good", "bad"]), min_size=0, max_size=12))
def test_any_batch_gets_the_answer_powertools_gave(bodies):
    event = sqs_event(bodies)
    assert outcome(ours, event) == outcome(powertools, event)
