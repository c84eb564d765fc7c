"""The sweep's safety rules, decided on run records alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from villages_sync.models import DateWindow, RunRecord, RunStatus
from villages_sync.sweep_policy import ACCEPTABLE, SweepRefusal, decide_deletions, decide_sweep

WINDOW = DateWindow(date(2026, 11, 24), date(2027, 2, 22))
PREVIOUS = RunRecord(
    run_id="20261123T100000.000000Z-aaaaaa",
    started_at=0,
    window=WINDOW,
    status=RunStatus.COMPLETED,
    event_count=1000,
)
RUN = replace(PREVIOUS, run_id="20261124T100000.000000Z-bbbbbb", event_count=990)
NEWER = "20261124T110000.000000Z-cccccc"


@pytest.mark.parametrize(
    ("run", "latest", "previous", "expected"),
    [
        (RUN, RUN.run_id, PREVIOUS, None),
        (RUN, RUN.run_id, None, None),
        (replace(RUN, event_count=500), RUN.run_id, PREVIOUS, None),
        (replace(RUN, status=RunStatus.FAILED), RUN.run_id, PREVIOUS, SweepRefusal.NOT_COMPLETED),
        (
            replace(RUN, status=RunStatus.ENQUEUED),
            PREVIOUS.run_id,
            PREVIOUS,
            SweepRefusal.NOT_COMPLETED,
        ),
        (
            replace(RUN, drift=True, drift_reason="count moved"),
            RUN.run_id,
            PREVIOUS,
            SweepRefusal.DRIFT,
        ),
        (replace(RUN, event_count=0), RUN.run_id, PREVIOUS, SweepRefusal.EMPTY),
        (RUN, NEWER, PREVIOUS, SweepRefusal.SUPERSEDED),
        (replace(RUN, event_count=499), RUN.run_id, PREVIOUS, SweepRefusal.TOO_FEW_EVENTS),
        (replace(RUN, event_count=100), RUN.run_id, PREVIOUS, SweepRefusal.TOO_FEW_EVENTS),
        (
            replace(RUN, degraded=True, degraded_reason="40 of 100 events failed validation"),
            RUN.run_id,
            PREVIOUS,
            SweepRefusal.DEGRADED,
        ),
    ],
    ids=[
        "clean-run",
        "first-run-ever",
        "exactly-half",
        "failed",
        "not-finished",
        "drift",
        "empty",
        "newer-run-completed",
        "just-under-half",
        "a-tenth",
        "degraded",
    ],
)
def test_decide_sweep_table(run, latest, previous, expected):
    # Given a run, the latest completed run id and the baseline (the last run swept)
    # When the policy decides
    decision = decide_sweep(run, latest_completed_run_id=latest, baseline=previous, min_ratio=0.5)

    # Then it allows only clean, complete, current runs and names the refusal otherwise
    assert decision.allowed is (expected is None)
    assert decision.refusal == expected
    if expected:
        assert decision.reason.startswith(str(expected))


def test_decide_sweep_too_few_events_reason_names_the_figures():
    # Given a run with a tenth of the previous run's events
    run = replace(RUN, event_count=100)

    # When the policy decides
    decision = decide_sweep(
        run, latest_completed_run_id=run.run_id, baseline=PREVIOUS, min_ratio=0.5
    )

    # Then the reason carries both counts and the ratio
    assert "100 events against 1000" in decision.reason
    assert "0.10 < 0.50" in decision.reason


def test_decide_sweep_newer_run_in_flight_refuses_naming_it():
    # Given a clean run, and a newer run still being scraped or consumed
    # When the policy decides
    decision = decide_sweep(
        RUN,
        latest_completed_run_id=RUN.run_id,
        baseline=PREVIOUS,
        min_ratio=0.5,
        newer_run_in_flight=NEWER,
    )

    # Then it refuses (the newer run may hold events this one missed) and names that run
    assert decision.refusal == SweepRefusal.NEWER_IN_FLIGHT
    assert NEWER in decision.reason


@pytest.mark.parametrize(
    ("run", "latest", "expected"),
    [
        (replace(RUN, drift=True), RUN.run_id, None),
        (replace(RUN, degraded=True), RUN.run_id, None),
        (replace(RUN, event_count=100), RUN.run_id, None),
        (replace(RUN, status=RunStatus.ENQUEUED), RUN.run_id, SweepRefusal.NOT_COMPLETED),
        (RUN, NEWER, SweepRefusal.SUPERSEDED),
        (replace(RUN, event_count=0), RUN.run_id, SweepRefusal.EMPTY),
    ],
    ids=["drift", "degraded", "too-few", "not-completed", "superseded", "empty"],
)
def test_decide_sweep_accepted_overrides_only_judgements_of_the_answer(run, latest, expected):
    # Given a run an operator accepted
    # When the policy decides
    decision = decide_sweep(run, latest_completed_run_id=latest, baseline=PREVIOUS, min_ratio=0.5,
                            accepted=True)  # fmt: skip
    # Then judgements about the calendar's answer are overridden, the run's state never
    assert decision.refusal == expected
    assert (expected is None) or expected not in ACCEPTABLE


@pytest.mark.parametrize(
    ("unseen", "in_window", "accepted", "allowed"),
    [
        (0, 0, False, True),
        (10, 100, False, True),
        (11, 100, False, False),
        (48, 100, False, False),
        (48, 100, True, True),
        (5, 0, False, True),
    ],
    ids=["nothing", "exactly-10pc", "just-over", "half-the-calendar", "accepted", "empty-window"],
)
def test_decide_deletions_share_of_window(unseen, in_window, accepted, allowed):
    # Given how many items the run newly did not see among those in its window
    # When the policy decides (default MAX_DELETE_RATIO 10%)
    decision = decide_deletions(
        unseen=unseen, in_window=in_window, max_delete_ratio=0.10, accepted=accepted
    )
    # Then more than 10% unseen refuses (issue 9, case 2), naming the figures
    assert decision.allowed is allowed
    if not allowed:
        assert decision.refusal == SweepRefusal.TOO_MANY_DELETIONS
        assert f"{unseen} of the {in_window} items" in decision.reason
