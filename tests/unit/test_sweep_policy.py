"""The sweep's safety rules, decided on run records alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from villages_sync.models import DateWindow, RunRecord, RunStatus
from villages_sync.sweep_policy import (
    ACCEPTABLE,
    SweepRefusal,
    calendar_refusals,
    decide_deletions,
    decide_sweep,
)

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


EVERY_ACCEPTABLE = frozenset(ACCEPTABLE)


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
def test_decide_sweep_waived_overrides_only_judgements_of_the_answer(run, latest, expected):
    # Given a run an operator accepted, waiving every refusal an accept can waive
    # When the policy decides
    decision = decide_sweep(run, latest_completed_run_id=latest, baseline=PREVIOUS, min_ratio=0.5,
                            waived=EVERY_ACCEPTABLE)  # fmt: skip
    # Then judgements about the calendar's answer are overridden, the run's state never
    assert decision.refusal == expected
    assert (expected is None) or expected not in ACCEPTABLE


@pytest.mark.parametrize(
    ("waived", "expected"),
    [
        (frozenset(), SweepRefusal.DRIFT),
        ({SweepRefusal.DRIFT}, SweepRefusal.DEGRADED),
        ({SweepRefusal.DRIFT, SweepRefusal.DEGRADED}, SweepRefusal.TOO_FEW_EVENTS),
        ({SweepRefusal.NEWER_IN_FLIGHT}, SweepRefusal.DRIFT),  # a timing refusal waives nothing
        (EVERY_ACCEPTABLE, None),
    ],
    ids=["nothing", "drift", "drift+degraded", "timing", "all"],
)
def test_decide_sweep_accept_waives_only_the_refusals_it_names(waived, expected):
    # Given a run that drifted, is degraded and saw 40% of the baseline's events (issue 18,
    # case 3: accepted after a timing refusal, it must still be judged on all of them)
    run = replace(RUN, drift=True, degraded=True, event_count=400)
    # When the policy decides with what the accept waived
    decision = decide_sweep(
        run,
        latest_completed_run_id=run.run_id,
        baseline=PREVIOUS,
        min_ratio=0.5,
        waived=frozenset(waived),
    )
    # Then the first refusal not waived refuses the sweep
    assert decision.refusal == expected


def test_calendar_refusals_lists_every_judgement_of_the_answer():
    # Given a run with three problems in its answer
    run = replace(RUN, drift=True, degraded=True, event_count=400)
    # When the refusals an accept could waive are listed
    found = calendar_refusals(run, baseline=PREVIOUS, min_ratio=0.5)
    # Then all three are, in the sweep's order
    assert [d.refusal for d in found] == [
        SweepRefusal.DRIFT,
        SweepRefusal.DEGRADED,
        SweepRefusal.TOO_FEW_EVENTS,
    ]


@pytest.mark.parametrize(
    ("days_ahead", "events", "expected"),
    [
        (90, 1000, None),  # the baseline itself
        (30, 340, None),  # DaysAhead lowered to 30: a third of the events, as many per day
        (30, 150, SweepRefusal.TOO_FEW_EVENTS),  # under half as many per day
        (190, 1000, SweepRefusal.TOO_FEW_EVENTS),  # over twice the days: under half per day
    ],
)
def test_decide_sweep_baseline_compared_per_day_of_window(days_ahead, events, expected):
    # Given a baseline of 1000 events over 91 days, and a run over another window length
    window = DateWindow(RUN.window.first, RUN.window.first + timedelta(days=days_ahead))
    run = replace(RUN, window=window, event_count=events)
    # When the policy decides
    decision = decide_sweep(
        run, latest_completed_run_id=run.run_id, baseline=PREVIOUS, min_ratio=0.5
    )
    # Then the runs are compared like with like: events per day of each window
    assert decision.refusal == expected


@pytest.mark.parametrize(
    ("unseen", "in_window", "waived", "allowed"),
    [
        (0, 0, False, True),
        (10, 100, False, True),
        (11, 100, False, False),
        (48, 100, False, False),
        (48, 100, True, True),
        (48, 100, "other", False),
        (5, 0, False, True),
    ],
    ids=[
        "nothing",
        "exactly-10pc",
        "just-over",
        "half-the-calendar",
        "accepted",
        "accepted-for-another-refusal",
        "empty-window",
    ],
)
def test_decide_deletions_share_of_window(unseen, in_window, waived, allowed):
    # Given how many items the run newly did not see among those in its window
    # When the policy decides (default MAX_DELETE_RATIO 10%)
    names = {True: {SweepRefusal.TOO_MANY_DELETIONS}, "other": {SweepRefusal.DRIFT}}
    decision = decide_deletions(
        unseen=unseen,
        in_window=in_window,
        max_delete_ratio=0.10,
        waived=frozenset(names.get(waived, set())),
    )
    # Then more than 10% unseen refuses (issue 9, case 2), naming the figures
    assert decision.allowed is allowed
    if not allowed:
        assert decision.refusal == SweepRefusal.TOO_MANY_DELETIONS
        assert f"{unseen} of the {in_window} items" in decision.reason
