"""Issue 9's eight cases, each reproduced as a user meets it: `villages-sync sync` (a subprocess)
against the stand-in calendar and the emulator, then the table, `status` and `events` read back.

Every case ends with no live event deleted and, where the run was not clean, a non-zero exit
and a reason in `status`. Cases 4 (AWS faults inside a run) and part of 3 need a fault or a
drain the command line cannot inject: they drive the same local pipeline the command uses.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from support.calendar_model import ModelCalendar, ModelEvent, today
from support.cli import run_cli
from support.sqs import message_count, receive_bodies, send_bodies
from villages_sync.aws.items import from_attributes, to_attributes
from villages_sync.models import RunStatus
from villages_sync_ops.local.pipeline import PRODUCER, LocalPipeline, SyncOptions, scheduled_event
from villages_sync_ops.standin.server import Faults, RunningCalendar

pytestmark = pytest.mark.dynamodb_once(
    reason=(
        "the deletion rules through the whole pipeline; the conditional writes they rest "
        "on run on both backends in tests/integration and the deletion state machine"
    )
)

ENV = "test"  # the deployment fixture's Environment: the command reads the same tables


@pytest.fixture
def cli_env(cli_env: dict[str, str], deployment) -> dict[str, str]:
    """Fast retries; and the test's DynamoDB backend, which `_target` passes to the command."""
    dynamodb = deployment.dynamodb_endpoint_url or deployment.endpoint_url
    return {
        **cli_env,
        "BACKOFF_BASE_SECONDS": "0.01",
        "TIMEOUT_SECONDS": "5",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb,
    }


def _target(endpoint: str, env: dict[str, str]) -> list[str]:
    """SQS at ``endpoint``; DynamoDB at the test's backend (moto, or DynamoDB Local)."""
    dynamodb = env.get("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    return ["--endpoint-url", endpoint, "--dynamodb-endpoint-url", dynamodb, "--env", ENV]


def _calendar(count: int, *, days: int = 80, **fields: Any) -> ModelCalendar:
    """``count`` valid events spread over ``days`` days, one or more a day."""
    calendar = ModelCalendar()
    for n in range(count):
        key = calendar.new_key()
        calendar.events[key] = ModelEvent(
            key=key, day=n * days // count, minute=(9 * 60 + 15 * n) % (20 * 60), **fields
        )
    return calendar


def _sync(endpoint: str, base_url: str, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "sync", *_target(endpoint, env), "--calendar-base-url", base_url, "--json", env=env
    )
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def _status_runs(endpoint: str, env: dict[str, str]) -> list[dict[str, Any]]:
    result = run_cli("status", *_target(endpoint, env), "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["runs"]


def _events_on(endpoint: str, day: str, env: dict[str, str]) -> set[str]:
    result = run_cli("events", *_target(endpoint, env), "--date", day, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {event["event_id"] for event in json.loads(result.stdout)["events"]}


def _items(deployment) -> dict[str, dict[str, Any]]:
    table = deployment.resources.tables["EventsTable"]
    items: dict[str, dict[str, Any]] = {}
    scan = deployment.clients.dynamodb.get_paginator("scan")
    for page in scan.paginate(
        TableName=table, FilterExpression="attribute_not_exists(deleted_by)"
    ):  # no tombstones
        for raw in page["Items"]:
            item = from_attributes(raw)
            items[item["event_id"]] = item
    return items


def _reason(run: dict[str, Any]) -> str:
    """Why a run was not clean, as `status --json` shows it (whichever field says it)."""
    fields = ("degraded_reason", "sweep_reason", "error", "drift_reason")
    return " ".join(str(run.get(name) or "") for name in fields).strip()


def _ids(calendar: ModelCalendar) -> set[str]:
    return {e.event_id for e in calendar.valid() if e.event_id}


# --- case 1 ---------------------------------------------------------------------------------


def test_sync_partial_shape_change_is_degraded_and_deletes_nothing(
    deployment, moto_endpoint, cli_env
):
    # Given a synced calendar of 50 events
    calendar = _calendar(50)
    day = today()
    with RunningCalendar(calendar.raw(day)) as standin:
        first, _ = _sync(moto_endpoint, standin.base_url, cli_env)
        assert first == 0
        # When 40% of the events arrive with a start the normaliser cannot read
        garbled = dict(calendar.events)
        for key in sorted(garbled)[::5] + sorted(garbled)[1::5]:
            garbled[key] = replace(garbled[key], start_style="slashes")
        standin.set_events(ModelCalendar(garbled).raw(day))
        code, summary = _sync(moto_endpoint, standin.base_url, cli_env)

    # Then the run is degraded (exit 4), deletes nothing, and status says why
    assert code == 4, summary
    assert set(_items(deployment)) >= _ids(calendar)
    latest = _status_runs(moto_endpoint, cli_env)[0]
    assert latest["run_id"] == summary["run_id"]
    assert latest.get("sweep") != "swept"
    assert _reason(latest), latest


# --- case 2 ---------------------------------------------------------------------------------


def test_sync_calendar_serving_only_30_days_is_refused_and_deletes_nothing(
    deployment, moto_endpoint, cli_env
):
    # Given 58 events, one a day, synced
    calendar = _calendar(58, days=58)
    day = today()
    with RunningCalendar(calendar.raw(day)) as standin:
        assert _sync(moto_endpoint, standin.base_url, cli_env)[0] == 0
        # When the calendar suddenly serves only its next 30 days (52% of the events)
        standin.set_events(calendar.raw(day, keep=lambda e: e.day < 30))
        code, summary = _sync(moto_endpoint, standin.base_url, cli_env)

    # Then the sweep refuses (exit 3), nothing is deleted, and status says why
    assert code == 3, summary
    assert set(_items(deployment)) >= _ids(calendar)
    latest = _status_runs(moto_endpoint, cli_env)[0]
    assert latest["sweep"] == "refused" and _reason(latest)


def test_sync_persistent_partial_answer_is_refused_every_time(deployment, moto_endpoint, cli_env):
    # Given 50 synced events, then a calendar answering with its first 40% only
    calendar = _calendar(50, days=50)
    day = today()
    with RunningCalendar(calendar.raw(day)) as standin:
        assert _sync(moto_endpoint, standin.base_url, cli_env)[0] == 0
        standin.set_events(calendar.raw(day, keep=lambda e: e.day < 20))
        # When it keeps answering so (the second run is the one the refused first one let by)
        codes = [_sync(moto_endpoint, standin.base_url, cli_env)[0] for _ in range(2)]

    # Then every run is refused (a refused run never becomes the baseline): nothing deleted
    assert codes == [3, 3]
    assert set(_items(deployment)) >= _ids(calendar)
    assert all(run["sweep"] == "refused" for run in _status_runs(moto_endpoint, cli_env)[:2])


# --- case 3 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("odd", "runs"),
    [
        ({"id_style": "digits5000"}, 2),  # the bug failed this run and every later one
        ({"id_style": "digits21"}, 1),
        ({"lengthening_subcategory": True}, 1),
    ],
    ids=["5000-digit-id", "21-digit-id", "lengthening-subcategory"],
)
def test_sync_one_odd_event_fails_alone(deployment, moto_endpoint, cli_env, odd, runs):
    # Given 60 good events and one odd one
    calendar = _calendar(60)
    key = calendar.new_key()
    calendar.events[key] = ModelEvent(key=key, day=3, **odd)
    day = today()
    with RunningCalendar(calendar.raw(day)) as standin:
        # When runs sync it
        codes = [_sync(moto_endpoint, standin.base_url, cli_env) for _ in range(runs)]

    # Then each completes (one reject in 61 is under 2%), stores every good event, and the
    # odd one fails alone: nothing dead-lettered, no run left unfinished
    for code, summary in codes:
        assert code == 0, summary
        assert summary["run"]["status"] == "completed"
    assert set(_items(deployment)) >= _ids(calendar)
    sqs = deployment.clients.sqs
    dlq = deployment.resources.queue_urls["EventsDLQ"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


# --- case 4 ---------------------------------------------------------------------------------


class _Hook:
    """One botocore hook on the handlers' (cached) clients, for the block."""

    def __init__(self, deployment, service: str, event: str, handler) -> None:
        clients = deployment.clients  # the handlers' own (cached by the endpoints they use)
        self.client = clients.dynamodb if service == "dynamodb" else clients.sqs
        self.event, self.handler = event, handler

    def __enter__(self) -> None:
        # One id per event: botocore keys unique ids across events, so two hooks need two
        self.client.meta.events.register_first(self.event, self.handler, unique_id=self.event)

    def __exit__(self, *_: object) -> None:
        self.client.meta.events.unregister(self.event, self.handler, unique_id=self.event)


def _pipeline(deployment, base_url: str) -> LocalPipeline:
    import io

    options = SyncOptions(
        calendar_base_url=base_url,
        function_log=io.StringIO(),
        extra_env={"BACKOFF_BASE_SECONDS": "0.01", "TIMEOUT_SECONDS": "5"},
    )
    return LocalPipeline(deployment, options)


def _fail_first_sweep_request(deployment, failed: list[str]):
    sweep_queue = deployment.resources.queue_urls["SweepQueue"]

    def refuse(params: dict, **_: Any) -> None:
        if params.get("QueueUrl") == sweep_queue and not failed:
            failed.append(params["QueueUrl"])
            from botocore.exceptions import ClientError

            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "SendMessage"
            )

    return refuse


def test_pipeline_sweep_request_lost_by_consumer_is_sent_again(deployment):
    # Given a run whose consumer completes it, but whose sweep request fails to send once
    calendar = _calendar(20)
    failed: list[str] = []
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        refuse = _fail_first_sweep_request(deployment, failed)
        with _Hook(deployment, "sqs", "provide-client-params.sqs.SendMessage", refuse):
            # When the run is produced and its messages drained (the failed one redelivered)
            report = pipeline.run_sync()
        pipeline.drain_queues()

    # Then the send did fail, yet the run stays completed and its sweep is recorded
    assert failed
    run = deployment.runs.get(report.run_id)
    assert run.status is RunStatus.COMPLETED
    assert run.sweep_outcome is not None, "the run's sweep request was lost"


def test_pipeline_sweep_request_failing_in_producer_never_fails_a_completed_run(deployment):
    # Given a run whose messages are all consumed before the producer checks for completion
    # (a fast consumer), and a sweep request whose sending then fails once
    calendar = _calendar(20)
    failed: list[str] = []
    state = {"drained": False}
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        runs_table = deployment.resources.tables["RunsTable"]

        def consume_first(params: dict, **_: Any) -> None:
            # Before the producer's first status change: consume everything it sent
            if params.get("TableName") == runs_table and not state["drained"]:
                state["drained"] = True
                for spec in deployment.resources.event_source_mappings:
                    if spec.queue_logical_id == "EventsQueue":
                        pipeline.event_source_mapping(spec).drain(deadline_seconds=60)

        refuse = _fail_first_sweep_request(deployment, failed)
        with (
            _Hook(
                deployment, "dynamodb", "provide-client-params.dynamodb.UpdateItem", consume_first
            ),
            _Hook(deployment, "sqs", "provide-client-params.sqs.SendMessage", refuse),
        ):
            # When the producer runs (completing the run itself) and then the queues drain
            invocation = pipeline.invoke_function(PRODUCER, scheduled_event(deployment.region))
        pipeline.drain_queues()
        # and the next run comes along
        later = pipeline.run_sync()

    # Then the first run never went back from completed to failed, and its sweep ran
    run_id = (invocation.payload or {}).get("run_id") or min(
        r.run_id for r in deployment.runs.recent_runs(limit=5)
    )
    run = deployment.runs.get(run_id)
    assert state["drained"] and failed
    assert run.status is RunStatus.COMPLETED, f"{run.status}: {run.error}"
    assert run.sweep_outcome is not None, "the run's sweep request was lost"
    assert later.succeeded


# --- case 5 ---------------------------------------------------------------------------------


def test_sync_booleans_as_strings_are_read_as_meant(deployment, moto_endpoint, cli_env):
    # Given events whose flags are spelled: a cancelled one, an all-day floating midnight
    calendar = _calendar(20)
    cancelled, all_day = calendar.new_key(), calendar.new_key()
    calendar.events[cancelled] = ModelEvent(
        key=cancelled, day=2, cancelled=True, cancelled_style="lower"
    )
    calendar.events[all_day] = ModelEvent(key=all_day, day=2, all_day=True, all_day_style="lower")
    day = today()
    with RunningCalendar(calendar.raw(day)) as standin:
        # When a run syncs them
        code, summary = _sync(moto_endpoint, standin.base_url, cli_env)

    # Then the cancelled one is stored cancelled and not listed; the all-day one is on its day
    assert code == 0, summary
    on_day = _events_on(
        moto_endpoint, calendar.events[all_day].local_date(day).isoformat(), cli_env
    )
    items = _items(deployment)
    assert items[str(cancelled)]["cancelled"] is True
    assert str(cancelled) not in on_day
    assert str(all_day) in on_day
    assert items[str(all_day)]["all_day"] is True


# --- case 6 ---------------------------------------------------------------------------------


def test_sync_items_without_run_marker_are_updated_and_swept(deployment, moto_endpoint, cli_env):
    # Given a synced table where one listed event's item was restored from a backup (old
    # content, no run marker) and one item was made by hand for an event nobody lists
    calendar = _calendar(50)
    day = today()
    listed = sorted(calendar.events)[7]
    with RunningCalendar(calendar.raw(day)) as standin:
        assert _sync(moto_endpoint, standin.base_url, cli_env)[0] == 0
        table = deployment.resources.tables["EventsTable"]
        restored = dict(_items(deployment)[str(listed)])
        restored.pop("run_id")
        restored["title"] = "Restored from a backup"
        hand_made = {**restored, "event_id": "42", "title": "Hand made"}
        for item in (restored, hand_made):
            deployment.clients.dynamodb.put_item(TableName=table, Item=to_attributes(item))
        # When two runs sync the unchanged calendar
        codes = [_sync(moto_endpoint, standin.base_url, cli_env)[0] for _ in range(2)]

    # Then the restored item is updated, and the hand-made one is deleted
    assert codes == [0, 0]
    items = _items(deployment)
    assert items[str(listed)]["title"] == calendar.events[listed].title
    assert "42" not in items
    assert set(items) == _ids(calendar)


# --- case 7 ---------------------------------------------------------------------------------


def test_sync_multi_day_events_are_listed_every_day_they_run(deployment, moto_endpoint, cli_env):
    # Given a three-day all-day festival and a week-long timed exhibition
    calendar = _calendar(20)
    festival, exhibition = calendar.new_key(), calendar.new_key()
    calendar.events[festival] = ModelEvent(key=festival, day=3, all_day=True, span_days=2)
    calendar.events[exhibition] = ModelEvent(key=exhibition, day=4, minute=600, span_days=6)
    day = today()
    with RunningCalendar(calendar.raw(day)) as standin:
        # When a run syncs them
        code, summary = _sync(moto_endpoint, standin.base_url, cli_env)

    # Then `events --date D` lists each on every day it is in progress, and both keep their end
    assert code == 0, summary
    for key in (festival, exhibition):
        event = calendar.events[key]
        for in_progress in event.days_in_progress(day):
            listed = _events_on(moto_endpoint, in_progress.isoformat(), cli_env)
            assert str(key) in listed, f"{event.title} not listed on {in_progress}"
        item = _items(deployment)[str(key)]
        assert item.get("end_date") == event.last_date(day).isoformat()


# --- case 8 ---------------------------------------------------------------------------------


def test_sync_three_changes_between_page_reads_delete_no_live_event(
    deployment, moto_endpoint, cli_env
):
    # Given 250 synced events (three pages of 100)
    calendar = _calendar(250)
    day = today()
    order = sorted(
        calendar.events, key=lambda k: (calendar.events[k].day, calendar.events[k].minute)
    )
    moved, removed = order[150], order[10]
    changed = ModelCalendar(dict(calendar.events), next_key=calendar.next_key)
    # ... and, between the first two page reads: an event rescheduled earlier across the
    # page boundary, an already-read event removed, a new event added at the end
    target = changed.events[order[50]]
    changed.events[moved] = changed.events[moved].edited(day=target.day, minute=target.minute)
    del changed.events[removed]
    added = changed.new_key()
    changed.events[added] = ModelEvent(key=added, day=85, minute=20 * 60)
    faults = Faults(mutate_after_requests=1, mutation=lambda _: changed.raw(day))
    with RunningCalendar(calendar.raw(day)) as standin:
        assert _sync(moto_endpoint, standin.base_url, cli_env)[0] == 0
    with RunningCalendar(calendar.raw(day), faults=faults) as standin:
        # When a run reads the calendar across those changes
        code, summary = _sync(moto_endpoint, standin.base_url, cli_env)

    # Then the skipped event, still listed, is not deleted
    assert summary["run"]["status"] == "completed", summary
    items = _items(deployment)
    assert str(moved) in items, "a live event skipped by the scrape was deleted"
    assert set(items) >= _ids(changed)
    assert code in (0, 3), summary


# --- the state machine's invariants, made deterministic -------------------------------------


def test_pipeline_run_delivered_after_a_newer_run_completed_is_not_left_enqueued(deployment):
    # Given run A's messages delayed until a newer run B has completed (and swept)
    calendar = _calendar(12)
    sqs = deployment.clients.sqs
    events_queue = deployment.resources.queue_urls["EventsQueue"]
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        first = pipeline.invoke_function(PRODUCER, scheduled_event(deployment.region))
        held = receive_bodies(sqs, events_queue, visibility_timeout=300, delete=True)
        later = pipeline.run_sync()
        # When A's messages are delivered at last
        send_bodies(sqs, events_queue, held)
        pipeline.drain_queues()

    # Then every message is consumed and A is not left enqueued: it completed or ended
    assert later.succeeded and str(later.run.sweep_outcome) == "swept"
    assert held and message_count(sqs, events_queue) == 0
    run = deployment.runs.get(first.payload["run_id"])
    assert run.status is not RunStatus.ENQUEUED, (
        f"run stuck enqueued: {len(run.done_sequences)}/{run.message_count} messages done"
    )


# --- issue 18, case 4: a replay racing a completing run ------------------------------------


def test_pipeline_replay_racing_a_completing_run_cannot_resurrect_a_swept_event(deployment):
    # Given 12 events stored, then X missed once by a clean run (one more miss deletes it),
    # and an older run R1 that listed X, whose messages were held back (a DLQ replay's)
    calendar = _calendar(12)
    gone_key = next(iter(calendar.events))
    gone = calendar.events[gone_key].event_id
    without_x = {k: e for k, e in calendar.events.items() if k != gone_key}
    sqs = deployment.clients.sqs
    events_queue = deployment.resources.queue_urls["EventsQueue"]
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        assert pipeline.run_sync().succeeded
        standin.set_events([e.raw(today()) for e in without_x.values()])
        assert str(pipeline.run_sync().run.sweep_outcome) == "swept"
        assert _items(deployment)[gone]["misses"] == 1
        standin.set_events(calendar.raw(today()))
        older = pipeline.invoke_function(PRODUCER, scheduled_event(deployment.region))
        held = receive_bodies(sqs, events_queue, visibility_timeout=300, delete=True)
        standin.set_events([e.raw(today()) for e in without_x.values()])
        stale_pointer = deployment.runs.latest_completed_run_id()
        # The newer run R2 runs to the end: it completes and its sweep deletes X
        newer = pipeline.run_sync()
        stale_reads: list[str] = []

        def read_before_r2_completed(parsed: dict, **_: Any) -> None:
            # Force the interleaving: the consumer's read of the latest-completed pointer
            # returns what it held before R2 completed, as a read just before would have
            item = parsed.get("Item", {})
            if item.get("run_id", {}).get("S") == "latest-completed":
                item["latest_run_id"] = {"S": stale_pointer}
                stale_reads.append(stale_pointer)

        # When R1's messages are replayed (handed to the consumer function as Lambda would),
        # the consumer having read the pointer before R2 completed and writing after its sweep
        records = [_sqs_record(body, n) for n, body in enumerate(held)]
        with _Hook(deployment, "dynamodb", "after-call.dynamodb.GetItem", read_before_r2_completed):
            replay = pipeline.invoke_function("ConsumerFunction", {"Records": records})
        assert replay.error is None, replay.error_text

    # Then the interleaving happened (R2 swept and deleted X; the consumer read the stale
    # pointer), and X stays deleted: the replayed write of the older run did not bring it back
    assert (str(newer.run.sweep_outcome), newer.run.deleted_count) == ("swept", 1)
    assert older.payload["run_id"] < newer.run_id and stale_reads
    assert gone not in _items(deployment), "the replayed older run resurrected a swept event"
    assert deployment.events.get(gone) is None
    assert set(_items(deployment)) == {e.event_id for e in without_x.values()}


def _sqs_record(body: str, n: int) -> dict[str, Any]:
    """One SQS record as the event source mapping hands it to the function."""
    return {
        "messageId": f"replayed-{n}",
        "receiptHandle": f"replayed-{n}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events",
        "awsRegion": "us-east-1",
    }


# --- issue 24, item 2: a forged events-queue message ---------------------------------------


def test_pipeline_forged_future_run_message_writes_nothing(deployment):
    # Given a synced calendar
    from villages_sync.messages import encode_message
    from villages_sync.models import EventMessage

    calendar = _calendar(10)
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        assert pipeline.run_sync().succeeded
        before = _items(deployment)
        victim, other = sorted(before)[:2]
        forged_item = {
            k: v for k, v in before[victim].items() if k not in ("run_id", "misses", "missed_by")
        }
        forged_item.update(title="Forged", cancelled=True, ttl=before[victim]["ttl"])
        sqs = deployment.clients.sqs
        events_queue = deployment.resources.queue_urls["EventsQueue"]
        forged = [
            # A run far in the future, and a run a few hours ahead (past the clock skew)
            EventMessage(run_id=run_id, sequence=0, events=[forged_item], keep=[other])
            for run_id in ("99991231T235959.999999Z-ffffff", _run_id_hours_ahead(3))
        ]

        # When the forged messages are consumed (and retried until they dead-letter)
        send_bodies(sqs, events_queue, [encode_message(m) for m in forged])
        pipeline.drain_queues()

    # Then nothing was written: the items are as the real run left them, and the messages
    # are in the DLQ for an operator to see (replaying them changes nothing either)
    assert _items(deployment) == before
    dlq = deployment.resources.queue_urls["EventsDLQ"]
    assert message_count(sqs, dlq) == len(forged)


def _run_id_hours_ahead(hours: int) -> str:
    from datetime import UTC, datetime, timedelta

    from villages_sync.run_ids import new_run_id

    return new_run_id(datetime.now(UTC) + timedelta(hours=hours))


# --- issue 18, case 2: a sweep interrupted after its first deletion ------------------------


def test_pipeline_sweep_interrupted_after_a_deletion_is_recorded_partial_never_refused(
    deployment,
):
    # Given 30 events stored, then two of them missed once by a clean run
    from villages_sync_ops.cli.summaries import deletions_text
    from villages_sync_ops.local.pipeline import SyncInterrupted

    calendar = _calendar(30)
    gone = list(calendar.events)[:2]
    without = [e.raw(today()) for k, e in calendar.events.items() if k not in gone]
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        assert pipeline.run_sync().succeeded
        standin.set_events(without)
        assert pipeline.run_sync().run.missed_count == 2
        deletions: list[str] = []

        def ctrl_c_after_first_deletion(params: dict, **_: Any) -> None:
            tombstone = params["TransactItems"][0]["Update"]
            if not deletions:
                deletions.append(tombstone["Key"]["event_id"]["S"])

        def interrupt(**_: Any) -> None:
            if deletions and len(deletions) == 1:
                deletions.append("interrupted")
                raise KeyboardInterrupt

        # When the next run's sweep is stopped (Ctrl-C) just after its first deletion
        with (
            _Hook(
                deployment,
                "dynamodb",
                "provide-client-params.dynamodb.TransactWriteItems",
                ctrl_c_after_first_deletion,
            ),
            _Hook(deployment, "dynamodb", "after-call.dynamodb.TransactWriteItems", interrupt),
            pytest.raises(SyncInterrupted) as stopped,
        ):
            pipeline.run_sync()
        outcome = pipeline.interrupt(stopped.value.run_id, "stopped during the sweep")
        cut_short = deployment.runs.get(stopped.value.run_id)
        # and a newer run completes before the sweep request is delivered again
        newer = pipeline.run_sync()
        pipeline.drain_queues()

    # Then what the sweep did is reported from the run record (one deletion), and the run is
    # recorded partial, with its deletion counted, never "refused"
    assert stopped.value.stage == "sweep" and deletions[1] == "interrupted"
    assert outcome.run is not None and outcome.run.deleted_count == 1
    assert deletions_text(outcome.run).startswith("1 deleted")
    assert str(cut_short.sweep_outcome) == "partial", cut_short.sweep_reason
    after = deployment.runs.get(stopped.value.run_id)
    assert (str(after.sweep_outcome), after.deleted_count) == ("partial", 1), after.sweep_reason
    assert newer.succeeded and str(newer.run.sweep_outcome) == "swept"
    # and the other event missed twice is deleted by the newer run: nothing stays half-done
    assert deployment.events.get(deletions[0]) is None
    assert set(_items(deployment)) == {str(e["id"]) for e in without}


# --- issue 18, case 3: an accept of a timing refusal ---------------------------------------


def test_sweep_accept_of_a_timing_refusal_is_refused_and_records_nothing(
    deployment, moto_endpoint, cli_env
):
    # Given 50 events swept, then a run R2 that sees 30 of them (40% silently missing) and is
    # refused newer_run_in_flight because a newer run R3 is scraping; R3 then fails
    from datetime import UTC, datetime

    from villages_sync.models import RunRecord
    from villages_sync.run_ids import new_run_id

    calendar = _calendar(50)
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        assert str(pipeline.run_sync().run.sweep_outcome) == "swept"
        standin.set_events(calendar.raw(today())[:30])
        partial = pipeline.invoke_function(PRODUCER, scheduled_event(deployment.region))
        r2 = partial.payload["run_id"]
        now = datetime.now(UTC)
        r3 = new_run_id(now)
        first = deployment.runs.get(r2)
        deployment.runs.start_run(
            RunRecord(r3, int(now.timestamp()), first.window, RunStatus.SCRAPING)
        )
        pipeline.drain_queues()
        refused = deployment.runs.get(r2)
        deployment.runs.fail_run(r3, "stopped", now=now.timestamp())

        # When the operator accepts R2 ("just a timing refusal")
        accepted = run_cli(
            "sweep", "accept", r2, "--reason", "just a timing refusal", "--by", "ops@test",
            *_target(moto_endpoint, cli_env), env=cli_env,
        )  # fmt: skip

    # Then the accept is refused before anything is recorded, saying to wait for the next run,
    # after showing the original refusal; R2 stays refused as it was, and no event was struck
    assert refused.sweep_reason.startswith("newer_run_in_flight"), refused.sweep_reason
    assert accepted.returncode == 1, accepted.stdout + accepted.stderr
    assert f"sweep refused: {refused.sweep_reason}" in accepted.stdout
    assert "wait for the next run" in accepted.stderr.lower()
    after = deployment.runs.get(r2)
    assert (after.accepted_by, after.sweep_reason, str(after.sweep_outcome)) == (
        "",
        refused.sweep_reason,
        "refused",
    )
    items = _items(deployment)
    assert len(items) == 50 and not any(item.get("misses") for item in items.values())


# --- issue 18, case 1: failed and degraded runs never move a stored event ---------------------


def test_pipeline_degraded_run_never_moves_a_stored_event_a_clean_run_does(deployment):
    # Given 40 events stored, then a calendar that moves X three days later while 5 events
    # turn invalid (a degraded run: 12.5% > 2%)
    calendar = _calendar(40)
    x_key = next(iter(calendar.events))
    x = calendar.events[x_key]
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        assert pipeline.run_sync().succeeded
        stored_date = deployment.events.get(x.event_id)["event_date"]
        calendar.events[x_key] = replace(x, day=x.day + 3)
        keys = list(calendar.events)[10:15]
        for key in keys:
            calendar.events[key] = replace(calendar.events[key], nested_title=True)
        standin.set_events(calendar.raw(today()))
        # When the degraded run runs, then (the calendar repaired) a clean one
        degraded = pipeline.run_sync()
        after_degraded = deployment.events.get(x.event_id)
        for key in keys:
            calendar.events[key] = replace(calendar.events[key], nested_title=False)
        standin.set_events(calendar.raw(today()))
        clean = pipeline.run_sync()

    # Then the degraded run kept X on its stored date (its marker refreshed, nothing else),
    # and the clean run moved it
    assert degraded.run.degraded and str(degraded.run.sweep_outcome) == "refused"
    assert after_degraded["event_date"] == stored_date
    assert after_degraded["run_id"] == degraded.run_id
    assert not clean.run.degraded and str(clean.run.sweep_outcome) == "swept"
    moved = deployment.events.get(x.event_id)
    assert moved["event_date"] == calendar.events[x_key].local_date(today()).isoformat()


@pytest.mark.parametrize("producer_fails", [False, True], ids=["completes-clean", "then-fails"])
def test_pipeline_run_consumed_while_scraping_moves_an_event_only_once_clean(
    deployment, producer_fails
):
    # Given 20 events stored, then X moved three days later, and a run whose messages are all
    # consumed while it is still scraping (a fast consumer, as on AWS), which then completes
    # clean or fails
    from botocore.exceptions import ClientError

    calendar = _calendar(20)
    x_key = next(iter(calendar.events))
    x = calendar.events[x_key]
    state = {"drained": False}
    with RunningCalendar(calendar.raw(today())) as standin:
        pipeline = _pipeline(deployment, standin.base_url)
        assert pipeline.run_sync().succeeded
        stored_date = deployment.events.get(x.event_id)["event_date"]
        calendar.events[x_key] = replace(x, day=x.day + 3)
        standin.set_events(calendar.raw(today()))
        runs_table = deployment.resources.tables["RunsTable"]

        def consume_while_scraping(params: dict, **_: Any) -> None:
            # Before the producer's first status change (finish_enqueued): consume it all.
            # The record of the run's raw pages, written just before, is no status change.
            capture = "raw_capture" in params.get("UpdateExpression", "")
            if params.get("TableName") == runs_table and not capture and not state["drained"]:
                state["drained"] = True
                for spec in deployment.resources.event_source_mappings:
                    if spec.queue_logical_id == "EventsQueue":
                        pipeline.event_source_mapping(spec).drain(deadline_seconds=60)
                state["while_scraping"] = deployment.events.get(x.event_id)["event_date"]
                if producer_fails:
                    raise ClientError(
                        {"Error": {"Code": "InternalServerError", "Message": "injected"}},
                        "UpdateItem",
                    )

        # When the run is produced, its messages consumed while it scrapes, then drained
        with _Hook(
            deployment, "dynamodb", "provide-client-params.dynamodb.UpdateItem",
            consume_while_scraping,
        ):  # fmt: skip
            invocation = pipeline.invoke_function(PRODUCER, scheduled_event(deployment.region))
        pipeline.drain_queues()

    # Then while the run scraped, X stayed on its stored date; it moved only if the run
    # completed clean (its sweep applied the deferred move), never when the run failed
    assert state["drained"] and state["while_scraping"] == stored_date
    final = deployment.events.get(x.event_id)["event_date"]
    if producer_fails:
        assert invocation.error is not None
        assert final == stored_date
    else:
        assert invocation.error is None, invocation.error_text
        assert final == calendar.events[x_key].local_date(today()).isoformat()
