"""The runs table adapter against moto: the done set, completion and the latest pointer."""

from __future__ import annotations

import time
from datetime import date

import pytest
from villages_sync.aws.runs_table import RunNotFoundError
from villages_sync.models import DateWindow, RunRecord, RunStatus, SweepOutcome
from villages_sync.sweep_policy import SweepRefusal

WINDOW = DateWindow(date(2026, 11, 24), date(2027, 2, 22))


def _start(runs, run_id: str, *, messages: int = 3, events: int = 300) -> None:
    runs.start_run(RunRecord(run_id, 1795000000, WINDOW, RunStatus.SCRAPING))
    runs.finish_enqueued(
        run_id,
        message_count=messages,
        event_count=events,
        fetched_count=events,
        rejects={},
        drift=False,
        drift_reason="",
        now=time.time(),
    )


def test_mark_message_done_redelivery_counts_once(deployment):
    # Given an enqueued run of three messages
    runs = deployment.runs
    run_id = "20261124T100000.000000Z-aaaaaa"
    _start(runs, run_id)

    # When message 0 is marked done three times (redeliveries) and message 1 once
    for _ in range(3):
        runs.mark_message_done(run_id, 0, {"added": 100})
    record = runs.mark_message_done(run_id, 1, {"added": 90, "updated": 10})

    # Then the done set and the counts reflect each message once
    assert record.done_sequences == {0, 1}
    assert record.upserts == {"added": 190, "updated": 10}


def test_complete_run_two_callers_only_one_wins(deployment):
    # Given an enqueued run
    runs = deployment.runs
    run_id = "20261124T100000.000000Z-aaaaaa"
    _start(runs, run_id)

    # When two callers try to complete it
    results = [
        runs.complete_run(run_id, now=time.time()),
        runs.complete_run(run_id, now=time.time()),
    ]

    # Then exactly one succeeds and the run is the latest completed
    assert results == [True, False]
    assert runs.get(run_id).status is RunStatus.COMPLETED
    assert runs.latest_completed_run_id() == run_id


def test_latest_completed_older_run_completing_later_does_not_move_pointer(deployment):
    # Given a newer run completed first
    runs = deployment.runs
    older, newer = "20261124T100000.000000Z-aaaaaa", "20261124T110000.000000Z-bbbbbb"
    _start(runs, older)
    _start(runs, newer)
    runs.complete_run(newer, now=time.time())

    # When the older run completes afterwards
    runs.complete_run(older, now=time.time())

    # Then the pointer still names the newer run, and the runs list sees the order
    assert runs.latest_completed_run_id() == newer
    assert [r.run_id for r in runs.recent_runs(5)] == [newer, older]


def test_previous_baseline_run_skips_refused_runs(deployment):
    # Given three completed runs: the oldest swept, the middle one refused
    runs = deployment.runs
    swept, refused, newest = (f"20261124T1{h}0000.000000Z-aaaaaa" for h in (0, 1, 2))
    for run_id in (swept, refused, newest):
        _start(runs, run_id)
        runs.complete_run(run_id, now=time.time())
    runs.record_sweep(swept, SweepOutcome.SWEPT, "")
    runs.record_sweep(refused, SweepOutcome.REFUSED, "too_few_events_against_baseline: ...")

    # When the newest run looks for its baseline
    baseline = runs.previous_baseline_run(newest)

    # Then a refused run never becomes the baseline (issue 9, case 2)
    assert baseline is not None and baseline.run_id == swept


def test_fail_run_never_moves_a_completed_run_back(deployment):
    # Given a completed run
    runs = deployment.runs
    run_id = "20261124T100000.000000Z-aaaaaa"
    _start(runs, run_id)
    runs.complete_run(run_id, now=time.time())

    # When a late error tries to fail it (issue 9, case 4)
    changed = runs.fail_run(run_id, "ThrottlingException: sweep request not sent", now=time.time())

    # Then it stays completed
    assert changed is False
    assert runs.get(run_id).status is RunStatus.COMPLETED


def test_record_sweep_refusal_never_overwrites_a_sweep_that_ran(deployment):
    # Given a completed run whose sweep ran
    runs = deployment.runs
    run_id = "20261124T100000.000000Z-aaaaaa"
    _start(runs, run_id)
    runs.complete_run(run_id, now=time.time())
    runs.record_sweep(run_id, SweepOutcome.SWEPT, "")

    # When a late refusal is recorded, and an accept is tried
    runs.record_sweep(run_id, SweepOutcome.REFUSED, "newer_run_completed: ...")
    accepted = runs.record_accept(
        run_id,
        accepted_by="ops",
        reason="checked by hand",
        waives=[],
        refused_reason="newer_run_completed: ...",
    )

    # Then the run stays swept, and there was nothing to accept
    assert runs.get(run_id).sweep_outcome is SweepOutcome.SWEPT
    assert accepted is False


def test_mark_message_done_unknown_run_raises(deployment):
    # Given no run record
    # When a message of an unknown run is marked done / Then the error names the run
    with pytest.raises(RunNotFoundError, match="nosuchrun"):
        deployment.runs.mark_message_done("nosuchrun", 0, {"added": 1})


def test_newer_runs_lists_only_runs_started_later_oldest_first(deployment):
    # Given three runs
    runs = deployment.runs
    ids = [f"20261124T1{h}0000.000000Z-aaaaaa" for h in (0, 1, 2)]
    for run_id in ids:
        _start(runs, run_id)

    # When the runs newer than the first are listed
    newer = runs.newer_runs(ids[0])

    # Then they are the other two, oldest first, with their status
    assert [r.run_id for r in newer] == ids[1:]
    assert {r.status for r in newer} == {RunStatus.ENQUEUED}


def test_record_sweep_refused_on_retry_keeps_the_deletions_already_counted(deployment):
    # Given a completed run whose first sweep attempt deleted 3 events, then died
    runs = deployment.runs
    run_id = "20261124T100000.000000Z-aaaaaa"
    _start(runs, run_id)
    runs.complete_run(run_id, now=time.time())
    for _ in range(3):
        runs.add_deleted(run_id)

    # When the retried sweep refuses (say a newer run completed in between)
    runs.record_sweep(run_id, SweepOutcome.REFUSED, SweepRefusal.SUPERSEDED)

    # Then the record keeps the refusal and still counts the 3 events that are gone
    record = runs.get(run_id)
    assert record.sweep_outcome is SweepOutcome.REFUSED
    assert record.deleted_count == 3


def test_unswept_runs_never_requested_or_requested_long_ago(deployment):
    # Given three completed runs without a sweep outcome: one never requested, one requested
    # just now, one requested two hours ago (its request dead-lettered); and one swept
    runs = deployment.runs
    never, fresh, lost, swept = (f"20261124T1{h}0000.000000Z-aaaaaa" for h in range(4))
    for run_id in (never, fresh, lost, swept):
        _start(runs, run_id)
        runs.complete_run(run_id, now=time.time())
    for run_id in (fresh, lost, swept):
        runs.mark_sweep_requested(run_id)
    runs.record_sweep(swept, SweepOutcome.SWEPT, "")
    completed_at = runs.get(lost).completed_at

    # When a producer run looks for sweeps to request again, two hours after they completed
    later = [r.run_id for r in runs.unswept_runs(now=completed_at + 2 * 3600)]
    now = [r.run_id for r in runs.unswept_runs(now=completed_at)]

    # Then the never-requested one always, the lost one only once it has waited an hour
    assert now == [never]
    assert later == [never, fresh, lost]
