"""The runs table: one record per run, plus a pointer to the latest completed run.

Records are indexed by ``runs-by-start`` (``record_type`` + ``run_id``) so the last runs and
"the completed run before this one" are one Query each. The pointer item has no
``record_type``, so it stays out of that index.

Over 400 lines for a reason: it is all access to the runs table behind one interface (as the
handler cookbook's data-access layer is), and every transition of a run is a conditional update
on its status: kept side by side so that the run's state machine is read in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from villages_sync.aws.items import conditional_check_failed, from_attributes, to_attributes
from villages_sync.aws.run_items import run_from_item, run_key, update_run_if
from villages_sync.models import RunRecord, RunStatus, SweepOutcome
from villages_sync.run_ids import RunId
from villages_sync.run_timing import sweep_request_due

if TYPE_CHECKING:  # the stubs are a development dependency, not the functions'
    from mypy_boto3_dynamodb import DynamoDBClient


RUNS_INDEX = "runs-by-start"
RECORD_TYPE = "run"
LATEST_COMPLETED_KEY = "latest-completed"
RECORD_RETENTION_SECONDS = 400 * 24 * 3600  # a year of history for `status`, then TTL


class RunNotFoundError(LookupError):
    pass


class RunStateError(RuntimeError):
    """A transition that the run's current state does not allow."""


class RunsTable:
    """All access to the runs table. Takes a boto3 DynamoDB client."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self.table_name = table_name

    # -- producer -------------------------------------------------------------------------
    def start_run(self, run: RunRecord) -> None:
        item = {
            "run_id": run.run_id,
            "record_type": RECORD_TYPE,
            "started_at": run.started_at,
            "window_first": run.window.first.isoformat(),
            "window_last": run.window.last.isoformat(),
            "status": str(run.status),
            "expires_at": run.started_at + RECORD_RETENTION_SECONDS,
        }
        self._dynamodb.put_item(
            TableName=self.table_name,
            Item=to_attributes(item),
            ConditionExpression="attribute_not_exists(run_id)",
        )

    def finish_enqueued(
        self,
        run_id: RunId,
        *,
        message_count: int,
        event_count: int,
        fetched_count: int,
        rejects: Mapping[str, int],
        drift: bool,
        drift_reason: str,
        degraded: bool = False,
        degraded_reason: str = "",
        unidentified: list[str] | None = None,
        now: float,
    ) -> RunRecord:
        """Every message is on the queue: the message count is final from here on.
        ``unidentified``: content keys of events without a usable id (the sweep keeps the
        stored items they match)."""
        values = {
            ":degraded": degraded,
            ":degraded_reason": degraded_reason,
            ":enqueued": str(RunStatus.ENQUEUED),
            ":scraping": str(RunStatus.SCRAPING),
            ":messages": message_count,
            ":events": event_count,
            ":fetched": fetched_count,
            ":rejects": dict(rejects),
            ":drift": drift,
            ":reason": drift_reason,
            ":now": int(now),
            ":unidentified": list(unidentified or []),
        }
        return self._transition(
            run_id,
            "SET #status = :enqueued, message_count = :messages, event_count = :events, "
            "fetched_count = :fetched, rejects = :rejects, drift = :drift, "
            "drift_reason = :reason, degraded = :degraded, degraded_reason = :degraded_reason, "
            "finished_at = :now, unidentified_content = :unidentified",
            "#status = :scraping",
            values,
        )

    def fail_run(self, run_id: RunId, error: str, *, now: float) -> bool:
        """SCRAPING or ENQUEUED → FAILED: a failed run never completes, so it is never swept.

        Conditional like every status change: a run that already completed (or failed) stays
        as it is, so a late error (say the sweep request's send) cannot turn a COMPLETED run
        back. True when this call failed the run.
        """
        values = {
            ":failed": str(RunStatus.FAILED),
            ":scraping": str(RunStatus.SCRAPING),
            ":enqueued": str(RunStatus.ENQUEUED),
            ":error": error[:1000],
            ":now": int(now),
        }
        return self._update_if(
            run_id,
            "SET #status = :failed, #error = :error, finished_at = :now",
            "#status IN (:scraping, :enqueued)",
            values,
            names={"#status": "status", "#error": "error"},
        )

    def record_capture(self, run_id: RunId, *, location: str, error: str) -> None:
        """Where the run's raw pages are (``s3://bucket/key``), or why they are not."""
        values = {":location": location, ":error": error[:1000]}
        self._dynamodb.update_item(
            TableName=self.table_name,
            Key={"run_id": {"S": run_id}},
            UpdateExpression="SET raw_capture = :location, raw_capture_error = :error",
            ConditionExpression="attribute_exists(run_id)",
            ExpressionAttributeValues=to_attributes(values),
        )

    # -- consumer -------------------------------------------------------------------------
    def mark_message_done(
        self, run_id: RunId, sequence: int, upserts: Mapping[str, int] | None = None
    ) -> RunRecord:
        """Add ``sequence`` to the run's done set, and its upsert counts the first time only.

        The done set is a set, so a redelivery counts once; the counts are added in the same
        conditional update, so a redelivered message does not add them twice.
        """
        counts = {f"{name}_count": n for name, n in (upserts or {}).items() if n}
        update = "ADD done_sequences :seq" + "".join(f", {k} :{k}" for k in counts)
        values: dict[str, Any] = {":seq": {sequence}, ":n": sequence}
        values.update({f":{k}": n for k, n in counts.items()})
        try:
            response = self._dynamodb.update_item(
                TableName=self.table_name,
                Key=run_key(run_id),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(run_id) AND NOT contains(done_sequences, :n)",
                ExpressionAttributeValues=to_attributes(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return self.get(run_id)  # already done (a redelivery), or RunNotFoundError
            raise
        return run_from_item(from_attributes(response["Attributes"]))

    def complete_run(self, run_id: RunId, *, now: float) -> bool:
        """ENQUEUED → COMPLETED, at most once: True only for the caller that made the change.

        The latest-completed pointer is advanced here and again by
        ``sweep_trigger.request_sweep`` (idempotent), which whoever finds the run completed
        without a sweep request repeats: a crash between the two writes cannot leave it behind.
        """
        values = {
            ":completed": str(RunStatus.COMPLETED),
            ":enqueued": str(RunStatus.ENQUEUED),
            ":now": int(now),
        }
        try:
            self._transition(
                run_id,
                "SET #status = :completed, completed_at = :now",
                "#status = :enqueued",
                values,
            )
        except RunStateError:
            return False
        self.advance_latest_completed(run_id)
        return True

    def mark_sweep_requested(self, run_id: RunId) -> None:
        """The run's sweep request is on the sweep queue (sent at least once)."""
        self._dynamodb.update_item(
            TableName=self.table_name,
            Key=run_key(run_id),
            UpdateExpression="SET sweep_requested = :yes",
            ConditionExpression="attribute_exists(run_id)",
            ExpressionAttributeValues=to_attributes({":yes": True}),
        )

    def scraping_runs(self, limit: int = 20) -> list[RunRecord]:
        """Recent runs still SCRAPING. The producer is single flight (reserved concurrency 1,
        no retries; locally one sync at a time), so when a producer starts, any such run's
        producer is dead: killed at Lambda's timeout, say, without a chance to record it."""
        return [run for run in self.recent_runs(limit) if run.status is RunStatus.SCRAPING]

    def unswept_runs(self, *, now: float, limit: int = 20) -> list[RunRecord]:
        """Recent completed runs whose sweep has no recorded outcome and was either never
        requested (a crash or a failed send after completing) or requested long ago (the request
        dead-lettered), oldest first: their sweep is to be requested again."""
        stuck = [run for run in self.recent_runs(limit) if sweep_request_due(run, now=now)]
        return sorted(stuck, key=lambda run: run.run_id)

    # -- sweep ----------------------------------------------------------------------------
    def add_deleted(self, run_id: RunId, count: int = 1) -> None:
        """Count deletions as they happen, so a sweep that dies mid-way and runs again still
        records every event it deleted (the retry cannot see what the first attempt removed)."""
        self._dynamodb.update_item(
            TableName=self.table_name,
            Key=run_key(run_id),
            UpdateExpression="ADD deleted_count :n",
            ExpressionAttributeValues=to_attributes({":n": count}),
        )

    def record_missed(self, run_id: RunId, count: int) -> None:
        """How many items this sweep counted a miss on (not yet deleted). Set, not added (a
        retried sweep counts again the misses its first attempt left on the items), and never
        lowered: a concurrent duplicate sweep of the same run that found fewer to count (the
        other had counted them) must not overwrite the larger number."""
        self._update_if(
            run_id,
            "SET missed_count = :n",
            "attribute_exists(run_id) AND "
            "(attribute_not_exists(missed_count) OR missed_count < :n)",
            {":n": count},
        )

    def mark_sweep_started(self, run_id: RunId) -> None:
        """The sweep is about to strike or delete: from here a retry that would refuse records
        the run ``partial`` instead (it has acted), never ``refused``."""
        self._dynamodb.update_item(
            TableName=self.table_name,
            Key=run_key(run_id),
            UpdateExpression="SET sweep_started = :yes",
            ConditionExpression="attribute_exists(run_id)",
            ExpressionAttributeValues=to_attributes({":yes": True}),
        )

    def record_accept(
        self,
        run_id: RunId,
        *,
        accepted_by: str,
        reason: str,
        waives: list[str],
        refused_reason: str,
    ) -> bool:
        """An operator accepts the refused sweep of a completed run: recorded (who, why, which
        refusals it waives, and the refusal as it stood) before the sweep is requested again.
        False unless the run is completed and its sweep still refused with ``refused_reason``
        (nothing changed since the operator was shown it)."""
        values = {
            ":by": accepted_by[:200],
            ":why": reason[:1000],
            ":waives": list(waives),
            ":original": refused_reason,
            ":refused": str(SweepOutcome.REFUSED),
            ":completed": str(RunStatus.COMPLETED),
        }
        return self._update_if(
            run_id,
            "SET accepted_by = :by, accept_reason = :why, accept_waives = :waives, "
            "refused_reason = :original",
            "#status = :completed AND sweep_outcome = :refused AND sweep_reason = :original",
            values,
            names={"#status": "status"},
        )

    def record_sweep(self, run_id: RunId, outcome: SweepOutcome, reason: str) -> None:
        """The sweep's outcome. Its deletions are already counted, one by one (``add_deleted``).

        A refusal never overwrites a sweep that ran or was cut short (``partial``), only a
        refusal (an accepted run refused again); ``partial`` never overwrites a sweep that
        ran; a sweep that ran (an accepted one, or the retry of one cut short) replaces either.
        """
        values: dict[str, Any] = {
            ":outcome": str(outcome),
            ":reason": reason,
            ":swept": str(SweepOutcome.SWEPT),
            ":refused": str(SweepOutcome.REFUSED),
        }
        self._update_if(
            run_id,
            "SET sweep_outcome = :outcome, sweep_reason = :reason",
            "attribute_exists(run_id) AND (attribute_not_exists(sweep_outcome) "
            "OR :outcome = :swept OR (sweep_outcome <> :swept "
            "AND (:outcome <> :refused OR sweep_outcome = :refused)))",
            values,
        )

    # -- reads ----------------------------------------------------------------------------
    def get(self, run_id: RunId) -> RunRecord:
        response = self._dynamodb.get_item(
            TableName=self.table_name, Key=run_key(run_id), ConsistentRead=True
        )
        if "Item" not in response:
            raise RunNotFoundError(f"run {run_id} has no record in {self.table_name}")
        return run_from_item(from_attributes(response["Item"]))

    def latest_completed_run_id(self) -> RunId | None:
        response = self._dynamodb.get_item(
            TableName=self.table_name,
            Key=run_key(LATEST_COMPLETED_KEY),
            ConsistentRead=True,
        )
        latest: str | None = response.get("Item", {}).get("latest_run_id", {}).get("S")
        return None if latest is None else RunId(latest)

    def recent_runs(self, limit: int = 10) -> list[RunRecord]:
        """The newest runs first."""
        response = self._dynamodb.query(
            TableName=self.table_name,
            IndexName=RUNS_INDEX,
            KeyConditionExpression="record_type = :type",
            ExpressionAttributeValues=to_attributes({":type": RECORD_TYPE}),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [run_from_item(from_attributes(raw)) for raw in response.get("Items", [])]

    def newer_runs(self, floor: str) -> list[RunRecord]:
        """Every run whose id sorts after ``floor``, oldest first: a run id (the runs that
        started after it), a ``run_id_floor`` or the prefix of an id an operator typed."""
        paginator = self._dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            IndexName=RUNS_INDEX,
            KeyConditionExpression="record_type = :type AND run_id > :run",
            ExpressionAttributeValues=to_attributes({":type": RECORD_TYPE, ":run": floor}),
        )
        return [run_from_item(from_attributes(raw)) for page in pages for raw in page["Items"]]

    def previous_baseline_run(self, run_id: RunId) -> RunRecord | None:
        """The newest run before ``run_id`` whose sweep actually ran: the accepted baseline.

        A refused run never becomes the baseline, so a persistent half-answer cannot lower the
        bar by being compared with itself.
        """
        paginator = self._dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            IndexName=RUNS_INDEX,
            KeyConditionExpression="record_type = :type AND run_id < :run",
            FilterExpression="sweep_outcome = :swept",
            ExpressionAttributeValues=to_attributes(
                {":type": RECORD_TYPE, ":run": run_id, ":swept": str(SweepOutcome.SWEPT)}
            ),
            ScanIndexForward=False,
        )
        for page in pages:
            for raw in page.get("Items", []):
                # The index may lag the table (eventual consistency): read the record itself.
                return self.get(RunId(raw["run_id"]["S"]))
        return None

    # -- internals ------------------------------------------------------------------------
    def _transition(
        self, run_id: RunId, update: str, condition: str, values: Mapping[str, Any]
    ) -> RunRecord:
        """A status change: the run as it now stands; RunStateError when ``condition`` fails."""
        item = update_run_if(
            self._dynamodb,
            self.table_name,
            run_id,
            update,
            condition,
            values,
            {"#status": "status"},
        )
        if item is None:
            raise RunStateError(f"run {run_id}: {condition} does not hold")
        return run_from_item(item)

    def _update_if(
        self,
        run_id: RunId,
        update: str,
        condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
    ) -> bool:
        """A conditional update of the run; False (not an error) when the condition fails."""
        return (
            update_run_if(self._dynamodb, self.table_name, run_id, update, condition, values, names)
            is not None
        )

    def advance_latest_completed(self, run_id: RunId) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self.table_name,
                Key=run_key(LATEST_COMPLETED_KEY),
                UpdateExpression="SET latest_run_id = :run",
                ConditionExpression="attribute_not_exists(latest_run_id) OR latest_run_id < :run",
                ExpressionAttributeValues=to_attributes({":run": run_id}),
            )
        except ClientError as error:
            # A conditional failure means a newer run is already the latest: nothing to do.
            if not conditional_check_failed(error):
                raise
