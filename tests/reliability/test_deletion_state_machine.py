"""Issue 9's model-based proof: random calendar edits, runs and faults; invariants after each step.

The real handlers run through the local pipeline against the deployment fixture's backend and a
stand-in calendar; a plain in-memory model of the calendar (``support.calendar_model``) says
what is listed and what is valid. After every step:

- no event the calendar lists under a usable id is missing from the table once it was stored;
- no run is stuck ENQUEUED once the events queue is empty; no run's status goes backwards;
  the latest-completed pointer does not lag the newest completed run;
- the events DLQ holds only the undecodable bodies the test itself sent; the sweep DLQ nothing;
- (issue 18) no item's ttl is past; no failed or degraded run moved a stored date, and no stored
  date is one no calendar means (the epoch, decades away); every deletion and strike is counted
  on the run that made it, whatever its outcome; a stored event whose id turned odd, its content
  unchanged, keeps its item.

After every plain run (no fault, no overlap, the calendar read as it is): every valid event is
stored as the calendar says, listed by the skill's read path on every day it is in progress
unless cancelled, never listed when cancelled; every completed run has its sweep recorded; a run
with no invalid event is not degraded; a run with many is not swept. After two plain, swept runs
in a row with no edit between them, the window holds nothing but events the calendar lists.

`make test` runs a bounded profile; `make soak` (pytest -m soak) a larger one; SM_EXAMPLES and
SM_STEPS override either. A shrunk counter-example is a bug to fix, not a strategy to weaken
(see /work/coord/sm-findings.md for those found).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from deletion_harness import (
    EVENTS_DLQ,
    EVENTS_QUEUE,
    SWEEP_DLQ,
    SWEEP_QUEUE,
    DeletionWorld,
    Fault,
    optional_attribute,
)
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from support.calendar_model import (
    FLAG_STYLES,
    IMPLAUSIBLE_DATES,
    ODD_ID_STYLES,
    ModelCalendar,
    ModelEvent,
    today,
)
from villages_sync.models import RunStatus
from villages_sync_ops.aws.dlq import replay_dlq
from villages_sync_ops.standin.server import Faults, RunningCalendar

DAYS_AHEAD = 14  # the window: today .. today + 14
PAGE_SIZE = 5  # tens of events over several pages: page boundaries matter
DEFAULT_REJECT_RATIO = 0.02  # MAX_REJECT_RATIO's default (issue 9)
FORWARD = {
    RunStatus.SCRAPING: set(RunStatus),  # observed between steps: a later state, any
    RunStatus.ENQUEUED: {RunStatus.ENQUEUED, RunStatus.COMPLETED, RunStatus.FAILED},
    RunStatus.COMPLETED: {RunStatus.COMPLETED},
    RunStatus.FAILED: {RunStatus.FAILED},
}
POISON = ("not json at all", '{"v": 1, "run_id": "nope"}', '{"v": 99}')

# --- strategies ---------------------------------------------------------------------------------

MINUTES = st.integers(8 * 4, 20 * 4).map(lambda quarter: quarter * 15)
OFTEN_FALSE = st.sampled_from([False] * 9 + [True])
# Every way an event can be odd: each either still valid (an id as a string, a boolean's
# spelling, a lengthening subcategory) or invalid (an unusable id, a flag that is no boolean,
# an unreadable start, an object for a title). One event in six has one or two of them: the
# rest are plain, so that many runs are clean enough to sweep and the window gets compared.
ODDITIES: list[dict[str, object]] = (
    [{"id_style": style} for style in ("str", *ODD_ID_STYLES)]
    + [{"all_day_style": style} for style in FLAG_STYLES if style != "json"]
    + [{"cancelled_style": style} for style in FLAG_STYLES if style != "json"]
    + [
        {"start_style": "slashes"},
        {"start_style": "object"},
        {"nested_title": True},
        {"lengthening_subcategory": True},
    ]
    + [{"implausible_date": style} for style in IMPLAUSIBLE_DATES]
)
# Issue 18: a date no calendar means, stored as a date all the same, is as far as this
PLAUSIBLE_PAST, PLAUSIBLE_FUTURE = timedelta(days=400), timedelta(days=3 * 366)


@st.composite
def model_events(draw: Any) -> ModelEvent:
    span = draw(st.sampled_from([0] * 8 + [1, 3]))
    event = ModelEvent(
        key=0,  # the model assigns the key
        day=draw(st.integers(0, DAYS_AHEAD - span)),
        minute=draw(MINUTES),
        duration_minutes=draw(st.sampled_from([60, 90, 180])),
        span_days=span,
        all_day=draw(OFTEN_FALSE),
        cancelled=draw(OFTEN_FALSE),
    )
    if draw(st.sampled_from([False] * 5 + [True])):
        for oddity in draw(st.lists(st.sampled_from(ODDITIES), min_size=1, max_size=2)):
            event = replace(event, **oddity)  # type: ignore[arg-type]
    return event


FAULTS = st.one_of(
    st.just(Fault("throttle")),
    st.builds(
        Fault,
        kind=st.sampled_from(["crash", "error"]),
        service=st.just("dynamodb"),
        # TransactWriteItems: the sweep's deletions, each counted on its run in the same
        # transaction; a crash at the nth is an interrupt inside the sweep (issue 18, case 2)
        operation=st.sampled_from(["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"]),
        nth=st.integers(1, 4),
    ),
    st.builds(  # issue 18, case 2: the sweep dies after its first, second ... deletion
        Fault,
        kind=st.just("crash"),
        service=st.just("dynamodb"),
        operation=st.just("TransactWriteItems"),
        nth=st.integers(2, 3),
    ),
    st.builds(
        Fault,
        kind=st.sampled_from(["crash", "error"]),
        service=st.just("sqs"),
        operation=st.sampled_from(["SendMessage", "SendMessageBatch"]),
        nth=st.integers(1, 3),
    ),
)


# --- the machine --------------------------------------------------------------------------------


class Figures:
    """What the machine did, for docs/reliability.md (examples and steps, summed over tests)."""

    examples = 0
    checks = 0  # invariant passes: one after set-up, then one after every step
    runs = 0
    accepts = 0
    accepts_by_refusal: dict[str, int] = {}  # a tally, summed over tests
    window_checks = 0  # two clean runs in a row: the window compared with the calendar


class DeletionMachine(RuleBasedStateMachine):
    world: DeletionWorld  # set by the test before hypothesis builds a machine
    accept: Callable[..., Any] | None = None

    def __init__(self) -> None:
        super().__init__()
        self.world.wipe()
        Figures.examples += 1
        self.today = today()
        self.model = ModelCalendar()
        self.stored: set[int] = set()  # keys seen in the table while the calendar lists them
        self.clean_streak = 0  # plain swept runs since the last edit
        self.anomaly_allowed = True  # the newest completed run read the calendar as it is
        self.reject_ratio = DEFAULT_REJECT_RATIO
        self.poison: set[str] = set()
        self.saved_bodies: list[str] = []
        self.statuses: dict[str, RunStatus] = {}
        self.foreign: set[str] = set()
        self.acceptable: str | None = None  # the newest run: truthful, refused, no edit since
        # Issue 18, case 5: stored events whose id turned odd, their content as stored: kept
        # while the calendar lists them unchanged
        self.odd_since: dict[int, ModelEvent] = {}
        self.dates_seen: dict[str, str] = {}  # event_id -> event_date at the last check
        self.date_changes: dict[str, set[str]] = {}  # run_id -> event_ids whose date it moved

    # --- set-up ------------------------------------------------------------------------

    @initialize(
        events=st.lists(model_events(), min_size=6, max_size=24),
        reject_ratio=st.sampled_from([None, "0.3"]),
    )
    def start(self, events: list[ModelEvent], reject_ratio: str | None) -> None:
        if reject_ratio is not None:
            self.world.extra_env["MAX_REJECT_RATIO"] = reject_ratio
            self.reject_ratio = float(reject_ratio)
        for event in events:
            self._add(event)
        self._serve()

    # --- calendar edits ------------------------------------------------------------------

    @rule(event=model_events())
    def add_event(self, event: ModelEvent) -> None:
        self._add(event)
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule(data=st.data())
    def remove_event(self, data: Any) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.events)))
        self._remove(key)
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule(data=st.data(), minute=MINUTES)
    def reschedule(self, data: Any, minute: int) -> None:
        """Another day and time: across days and pages (the API lists by start), sometimes
        out of the window, before or after it."""
        key = data.draw(st.sampled_from(sorted(self.model.events)))
        event = self.model.events[key]
        day = data.draw(
            st.one_of(
                st.integers(0, DAYS_AHEAD - event.span_days),
                st.integers(-3, -1),  # into the past: still listed, still kept
                st.integers(DAYS_AHEAD + 1, DAYS_AHEAD + 4),  # beyond the window
            )
        )
        self.model.events[key] = event.edited(day=day, minute=minute)
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule(data=st.data(), cancelled=st.booleans(), style=st.sampled_from(FLAG_STYLES))
    def cancel(self, data: Any, cancelled: bool, style: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.events)))
        self.model.events[key] = self.model.events[key].edited(
            cancelled=cancelled, cancelled_style=style
        )
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule(data=st.data(), style=st.sampled_from(FLAG_STYLES), all_day=st.booleans())
    def retype_all_day(self, data: Any, style: str, all_day: bool) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.events)))
        self.model.events[key] = self.model.events[key].edited(all_day=all_day, all_day_style=style)
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule(data=st.data())
    def retitle(self, data: Any) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.events)))
        self.model.events[key] = self.model.events[key].edited()
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule(data=st.data(), span=st.integers(1, 3), all_day=st.booleans())
    def make_multi_day(self, data: Any, span: int, all_day: bool) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.events)))
        event = self.model.events[key]
        self.model.events[key] = event.edited(
            span_days=span, all_day=all_day, day=min(event.day, DAYS_AHEAD - span)
        )
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule(
        data=st.data(),
        share=st.sampled_from([0.1, 0.4, 1.0]),
        style=st.sampled_from(["slashes", "object"]),
    )
    def garble_share(self, data: Any, share: float, style: str) -> None:
        """A partial shape change: a share of the events arrive with an unreadable start."""
        keys = data.draw(st.permutations(sorted(self.model.events)))
        for key in keys[: math.ceil(share * len(keys))]:
            self.model.events[key] = replace(self.model.events[key], start_style=style)
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule()
    def repair_shapes(self) -> None:
        """The API's shape comes back: every start readable again."""
        for key, event in self.model.events.items():
            self.model.events[key] = replace(event, start_style="iso", implausible_date="")
        self._edited()

    @precondition(lambda self: self.model.events)
    @rule(
        data=st.data(),
        share=st.sampled_from([0.1, 0.4, 1.0]),
        style=st.sampled_from(IMPLAUSIBLE_DATES),
    )
    def implausible_dates(self, data: Any, share: float, style: str) -> None:
        """Issue 18, case 1: a share of the listed events (stored ones among them) now start
        at the epoch or decades away, their content otherwise unchanged."""
        keys = data.draw(st.permutations(sorted(self.model.events)))
        for key in keys[: math.ceil(share * len(keys))]:
            self.model.events[key] = replace(self.model.events[key], implausible_date=style)
        self._edited()

    @precondition(lambda self: self.stored)
    @rule(data=st.data(), style=st.sampled_from(ODD_ID_STYLES))
    def odd_id_on_stored_event(self, data: Any, style: str) -> None:
        """Issue 18, case 5: a stored event's id turns unusable (21 or 5,000 digits, true, an
        object), its content unchanged: the stored item is kept while the calendar lists it so."""
        items = self.world.items()
        candidates = sorted(
            key
            for key in self.stored
            if key in self.model.events
            and self.model.events[key].event_id is not None
            and self._stored_as_listed(self.model.events[key], items)
        )
        if not candidates:
            return
        key = data.draw(st.sampled_from(candidates))
        self.model.events[key] = replace(self.model.events[key], id_style=style)
        self.odd_since[key] = self.model.events[key]
        self._edited()

    @precondition(lambda self: self.stored)
    @rule(data=st.data())
    def restore_item_without_marker(self, data: Any) -> None:
        """An item restored from a backup (older content, no run marker)."""
        items = self.world.items()
        candidates = sorted(k for k in self.stored if str(k) in items)
        if not candidates:
            return
        key = data.draw(st.sampled_from(candidates))
        item = dict(items[str(key)])
        item.pop("run_id", None)
        item["title"] = f"Restored {key}"
        self.world.put_raw_item(item)
        self._edited()

    @rule(day=st.integers(0, DAYS_AHEAD))
    def add_hand_made_item(self, day: int) -> None:
        """An item the sync did not write, for an event the calendar does not list."""
        event_id = str(1_000 + len(self.foreign))
        self.world.put_raw_item(
            {
                "event_id": event_id,
                "title": f"Hand made {event_id}",
                "description": "",
                "event_date": (self.today + timedelta(days=day)).isoformat(),
                "start_time": "10:00",
                "location": "",
                "category": "",
                "last_updated": 1,
                "ttl": 4_000_000_000,
                "start_iso": "2026-01-01T10:00:00-05:00",
                "all_day": False,
                "cancelled": False,
                "featured": False,
                "subcategories": [],
                "content_hash": "0" * 32,
            }
        )
        self.foreign.add(event_id)
        self._edited()

    # --- runs ------------------------------------------------------------------------------

    @rule(keep_copy=st.booleans())
    def run(self, keep_copy: bool) -> None:
        """A plain run: producer, consumer until the queue is empty, sweep."""
        pipeline, _, run_id = self.world.produce()
        if keep_copy:
            self.saved_bodies = self.world.peek(EVENTS_QUEUE)
        self.world.drain_all(pipeline)
        self._after_run(run_id, plain=True, truthful=True)

    @rule()
    def quiet_night(self) -> None:
        """Two plain runs with nothing changed between them: after them (both swept) the
        window must hold exactly what the calendar lists."""
        for _ in range(2):
            pipeline, _, run_id = self.world.produce()
            self.world.drain_all(pipeline)
            self._after_run(run_id, plain=True, truthful=True)

    @rule(fault=FAULTS)
    def run_with_fault(self, fault: Fault) -> None:
        """A run during which AWS throttles, refuses one call, or a function dies mid-way."""
        with self.world.injecting(fault):
            pipeline, _, run_id = self.world.produce()
            self.world.drain_all(pipeline)
        self.world.drain_all(pipeline)  # a real queue retries after the fault is gone
        self._after_run(run_id, plain=False, truthful=True)

    @rule(copies=st.integers(2, 3), seed=st.integers(0, 2**16))
    def run_redelivered(self, copies: int, seed: int) -> None:
        """Every message delivered two or three times, shuffled: the outcome of a plain run."""
        pipeline, _, run_id = self.world.produce()
        self.world.redeliver(random.Random(seed), copies=copies)
        self.world.drain_all(pipeline)
        self._after_run(run_id, plain=True, truthful=True)

    @precondition(lambda self: self.anomaly_allowed and len(self.model.events) >= 2)
    @rule(data=st.data(), after=st.integers(1, 6))
    def run_with_mid_scrape_change(self, data: Any, after: int) -> None:
        """The calendar changes between two page reads (case 8 among the changes drawn)."""
        before = self.model.raw(self.today)
        keys = sorted(self.model.events, key=lambda k: self._order(self.model.events[k]))
        if data.draw(st.booleans()):
            # Case 8: one rescheduled earlier across a page boundary, one already read
            # removed, one added at the end.
            late = keys[min(len(keys) - 1, PAGE_SIZE + data.draw(st.integers(0, PAGE_SIZE)))]
            self.model.events[late] = self.model.events[late].edited(day=0, minute=8 * 60)
            self._remove(keys[0])
            self._add(ModelEvent(key=0, day=DAYS_AHEAD, minute=20 * 60))
        else:
            for _ in range(data.draw(st.integers(1, 3))):
                choice = data.draw(st.sampled_from(["add", "remove", "reschedule"]))
                if choice == "add" or not self.model.events:
                    self._add(data.draw(model_events()))
                    continue
                key = data.draw(st.sampled_from(sorted(self.model.events)))
                if choice == "remove":
                    self._remove(key)
                else:
                    event = self.model.events[key]
                    day = data.draw(st.integers(0, DAYS_AHEAD - event.span_days))
                    self.model.events[key] = event.edited(day=day)
        after_change = self.model.raw(self.today)
        faults = Faults(mutate_after_requests=after, mutation=lambda _: after_change)
        with RunningCalendar(before, faults=faults) as changing:
            pipeline, _, run_id = self.world.produce(changing.base_url)
            self.world.drain_all(pipeline)
        self._serve()
        self._edited()
        self._after_run(run_id, plain=False, truthful=False)

    @precondition(lambda self: self.anomaly_allowed and self.model.events)
    @rule(last_day=st.integers(0, DAYS_AHEAD - 1))
    def run_with_partial_answer(self, last_day: int) -> None:
        """One run sees only the calendar's first days (it lists more): case 2, once."""
        partial = self.model.raw(self.today, keep=lambda e: e.day <= last_day)
        self.world.calendar.set_events(partial)
        try:
            pipeline, _, run_id = self.world.produce()
            self.world.drain_all(pipeline)
        finally:
            self._serve()
        self._after_run(run_id, plain=False, truthful=False)

    @rule(
        data=st.data(),
        first_messages=st.sampled_from(["queued", "consumed", "late"]),
        edit_between=st.booleans(),
    )
    def overlapping_runs(self, data: Any, first_messages: str, edit_between: bool) -> None:
        """A second run starts before the first one's sweep: the first one's messages wait on
        the queue with the second's, are consumed before it starts, or arrive only after the
        second run completed (delayed deliveries)."""
        first_pipeline, _, first = self.world.produce()
        held: list[str] = []
        if first_messages == "consumed":
            self.world.drain(first_pipeline, EVENTS_QUEUE)
        elif first_messages == "late":
            held = self.world.take_messages(EVENTS_QUEUE)
        if edit_between:
            self._add(data.draw(model_events()))
            self._serve()
            self._edited()
        pipeline, _, second = self.world.produce()
        self.world.drain_all(pipeline)
        if held:
            self.world.send(held, EVENTS_QUEUE)
            self.world.drain_all(pipeline)
        self._after_run(first, plain=False, truthful=True)
        self._after_run(second, plain=False, truthful=True)

    @rule(body=st.sampled_from(POISON))
    def poison_then_replay_dlq(self, body: str) -> None:
        """An undecodable message dead-letters; replaying the DLQ sends it round once more."""
        self.poison.add(body)
        self.world.send([body], EVENTS_QUEUE)
        pipeline = self.world.pipeline()
        self.world.drain(pipeline, EVENTS_QUEUE)
        self._replay_events_dlq()
        self.world.drain(pipeline, EVENTS_QUEUE)

    @precondition(lambda self: self.saved_bodies)
    @rule()
    def replay_old_run_from_dlq(self) -> None:
        """An older run's messages come back from the DLQ after newer runs."""
        self.world.send(self.saved_bodies, EVENTS_DLQ)
        self.saved_bodies = []
        self._replay_events_dlq()
        self.world.drain_all(self.world.pipeline())

    @precondition(lambda self: self.saved_bodies)
    @rule(moment=st.sampled_from(["before_last_message", "before_sweep", "after_sweep"]))
    def replay_interleaved_with_completion(self, moment: str) -> None:
        """Issue 18, case 4: an older run's messages come back from the DLQ while a newer run
        completes: before its last message is consumed, between its completion and its sweep,
        or just after the sweep deleted what it missed."""
        old, self.saved_bodies = self.saved_bodies, []
        pipeline, _, run_id = self.world.produce()
        if moment == "before_last_message":
            mine = self.world.take_messages(EVENTS_QUEUE)
            if mine[:-1]:
                self.world.send(mine[:-1], EVENTS_QUEUE)
                self.world.drain(pipeline, EVENTS_QUEUE)
            self.world.send([*old, *mine[-1:]], EVENTS_QUEUE)
            self.world.drain(pipeline, EVENTS_QUEUE)
        else:
            self.world.drain(pipeline, EVENTS_QUEUE)
            if moment == "after_sweep":
                self.world.drain(pipeline, SWEEP_QUEUE)
            self.world.send(old, EVENTS_QUEUE)
            self.world.drain(pipeline, EVENTS_QUEUE)
        self.world.drain_all(pipeline)
        self._after_run(run_id, plain=False, truthful=True)

    @precondition(lambda self: DeletionMachine.accept is not None)
    @rule(data=st.data())
    def operator_accepts_any_refusal(self, data: Any) -> None:
        """Issue 18, case 3: an accept recorded on a refused run of any kind, waiving just its
        refusal (as a hurried operator, or an older command, would): a timing or state refusal
        waives nothing, and every other check still judges the run. Refusals about the
        calendar's answer are accepted only for a run that read the calendar as it is (the
        newest, no edit since): accepting a wrong answer is the operator's error, not a bug."""
        from villages_sync.sweep_policy import ACCEPTABLE, refusal_of
        from villages_sync.sweep_trigger import encode_sweep_request

        refused = sorted(
            (run.run_id, run.sweep_reason)
            for run in self.world.runs()
            if run.status is RunStatus.COMPLETED
            and str(run.sweep_outcome) == "refused"
            and not run.accepted_by
        )
        if not refused:
            return
        run_id, reason = data.draw(st.sampled_from(refused))
        refusal = refusal_of(reason.removeprefix("accept refused: "))
        if refusal in ACCEPTABLE and run_id != self.acceptable:
            return
        accepted = self.world.deployment.runs.record_accept(
            run_id,
            accepted_by="state-machine",
            reason="waiving just the refusal shown",
            waives=[str(refusal)],
            refused_reason=reason,
        )
        if not accepted:
            return
        kind = str(refusal or "state")
        Figures.accepts_by_refusal[kind] = Figures.accepts_by_refusal.get(kind, 0) + 1
        Figures.accepts += 1
        self.world.send([encode_sweep_request(run_id)], SWEEP_QUEUE)
        self.world.drain_all(self.world.pipeline())
        self.acceptable = None
        self.clean_streak = 0

    @precondition(lambda self: self.acceptable and DeletionMachine.accept is not None)
    @rule()
    def operator_accepts(self) -> None:
        """The operator accepts the newest run's refused sweep; it read the calendar as it is."""
        run_id, self.acceptable = self.acceptable, None
        assert DeletionMachine.accept is not None and run_id is not None
        DeletionMachine.accept(self.world, run_id)
        Figures.accepts += 1
        self.world.drain_all(self.world.pipeline())
        self.clean_streak = 0

    # --- invariants after every step -------------------------------------------------------

    @invariant()
    def no_listed_event_lost(self) -> None:
        """No event the calendar lists under a usable id leaves the table once stored."""
        Figures.checks += 1
        items = self.world.items()
        usable = self.model.usable_ids()
        for event_id, event in usable.items():
            if event_id in items:
                self.stored.add(event.key)
        lost = sorted(
            event_id
            for event_id, event in usable.items()
            if event.key in self.stored and event_id not in items
        )
        assert not lost, f"listed events deleted from the table: {lost}"

    @invariant()
    def no_run_stuck_or_going_backwards(self) -> None:
        runs = self.world.runs()
        queue_empty = self.world.queue_count(EVENTS_QUEUE) == 0
        for run in runs:
            previous = self.statuses.get(run.run_id, RunStatus.SCRAPING)
            assert run.status in FORWARD[previous], (
                f"run {run.run_id} went from {previous} to {run.status}"
            )
            self.statuses[run.run_id] = run.status
            if queue_empty:
                assert run.status is not RunStatus.ENQUEUED, (
                    f"run {run.run_id} stuck enqueued with its messages consumed: "
                    f"{len(run.done_sequences)}/{run.message_count} done"
                )
        completed = [run.run_id for run in runs if run.status is RunStatus.COMPLETED]
        if queue_empty and completed:
            latest = self.world.deployment.runs.latest_completed_run_id()
            assert latest is not None and latest >= max(completed), (
                f"the latest-completed pointer ({latest}) lags run {max(completed)}"
            )

    @invariant()
    def no_ttl_in_the_past(self) -> None:
        """Issue 18: no write sets a ttl already past (DynamoDB would delete the item)."""
        now = time.time()
        expired = sorted(
            event_id
            for event_id, item in self.world.items().items()
            if "ttl" in item and item["ttl"] <= now
        )
        assert not expired, f"items written with a ttl in the past: {expired}"

    @invariant()
    def every_deletion_counted_on_its_run(self) -> None:
        """Issue 18: every recorded sweep outcome matches what the sweep did: each deletion
        (a tombstone marked with the deleting run) is counted on that run's record, whatever
        the outcome (swept, partial, even refused on a retry)."""
        deleted = self.world.tombstones_by_run()
        for run in self.world.runs():
            assert run.deleted_count == deleted.get(run.run_id, 0), (
                f"run {run.run_id} records {run.deleted_count} deletions, the table holds "
                f"{deleted.get(run.run_id, 0)} ({run.sweep_outcome}: {run.sweep_reason})"
            )
        assert set(deleted) <= {run.run_id for run in self.world.runs()}

    @invariant()
    def stored_event_with_an_odd_id_is_kept(self) -> None:
        """Issue 18, case 5: an event whose id turned odd, listed with its content unchanged,
        keeps its stored item (matched by content)."""
        items = self.world.items()
        for key, since in list(self.odd_since.items()):
            if self.model.events.get(key) != since:
                del self.odd_since[key]  # edited or removed since: no longer the same event
                continue
            assert str(key) in items, (
                f"event {key}: its id turned {since.id_style}, its content unchanged, and "
                "its stored item was deleted"
            )

    @invariant()
    def no_date_changed_by_a_failed_or_degraded_run(self) -> None:
        """Issue 18: a run that fails or is degraded adds and keeps, nothing more: no stored
        item's date moves by its writes (each item carries the run that last wrote it). And no
        item's date is one the calendar cannot mean (the epoch, decades away)."""
        items = self.world.items()
        for event_id, item in items.items():
            day = item.get("event_date")
            before = self.dates_seen.get(event_id)
            if before is not None and day != before and item.get("run_id"):
                self.date_changes.setdefault(item["run_id"], set()).add(event_id)
            if day:
                when = date.fromisoformat(day)
                assert self.today - PLAUSIBLE_PAST <= when <= self.today + PLAUSIBLE_FUTURE, (
                    f"event {event_id} stored on {day}, a date no calendar means"
                )
        self.dates_seen = {k: v["event_date"] for k, v in items.items() if "event_date" in v}
        for run in self.world.runs():
            moved = self.date_changes.get(run.run_id)
            bad = run.status is RunStatus.FAILED or optional_attribute(run, "degraded", False)
            assert not (moved and bad), (
                f"run {run.run_id} ({run.status}, degraded={run.degraded}) moved the stored "
                f"date of {sorted(moved or ())[:5]}"
            )

    @invariant()
    def every_strike_counted_on_its_run(self) -> None:
        """Issue 18: a run's record counts every first miss its sweep struck (a strike is marked
        with the run; a later sighting or a newer run's strike clears or takes the mark, so the
        table holds at most what the record counts): a duplicate sweep never lowers it."""
        struck: dict[str, int] = {}
        for item in self.world.items().values():
            if item.get("missed_by"):
                struck[item["missed_by"]] = struck.get(item["missed_by"], 0) + 1
        for run in self.world.runs():
            assert run.missed_count >= struck.get(run.run_id, 0), (
                f"run {run.run_id} records {run.missed_count} misses, the table holds "
                f"{struck.get(run.run_id, 0)} items it struck ({run.sweep_outcome})"
            )

    @invariant()
    def dead_letters_are_undecodable(self) -> None:
        dead = self.world.peek(EVENTS_DLQ)
        assert set(dead) <= self.poison, f"decodable messages in the events DLQ: {dead[:2]!r:.300}"
        assert self.world.peek(SWEEP_DLQ) == []

    # --- helpers -----------------------------------------------------------------------------

    def _after_run(self, run_id: str | None, *, plain: bool, truthful: bool) -> None:
        Figures.runs += 1
        run = self.world.deployment.runs.get(run_id) if run_id else None
        self.acceptable = None
        if run is not None and run.status is RunStatus.COMPLETED:
            self.anomaly_allowed = truthful
            if truthful and str(run.sweep_outcome) == "refused":
                self.acceptable = run.run_id
        swept = run is not None and str(run.sweep_outcome) == "swept"
        self.clean_streak = self.clean_streak + 1 if plain and swept else 0
        if not plain:
            return
        valid = self.model.valid(DAYS_AHEAD)
        invalid = self.model.invalid_count()  # the most the run can count
        invalid_in_window = self.model.invalid_count(DAYS_AHEAD)  # the least
        if valid:
            assert run is not None and run.status is RunStatus.COMPLETED, (
                f"a plain run over {len(valid)} valid events did not complete: "
                f"{run and run.status} {run and run.error}"
            )
        if run is not None and invalid == 0:
            assert not optional_attribute(run, "degraded", False), run
        if run is not None and self.model.events:
            share = invalid_in_window / len(self.model.events)
            if share > self.reject_ratio + 0.05:
                assert not swept, (
                    f"{invalid_in_window} of {len(self.model.events)} events invalid, "
                    "yet the run was swept"
                )
        degraded = run is not None and optional_attribute(run, "degraded", False)
        self._check_content(valid, degraded=degraded)
        unswept = [
            r.run_id
            for r in self.world.runs()
            if r.status is RunStatus.COMPLETED and r.sweep_outcome is None
        ]
        assert not unswept, f"completed runs whose sweep was never recorded: {unswept}"
        if self.clean_streak >= 2:
            self._check_window_is_the_calendar()
            Figures.window_checks += 1

    def _check_content(self, valid: list[ModelEvent], *, degraded: bool = False) -> None:
        """Every valid event stored as the calendar says. Issue 18: a degraded run never moves
        a stored event to another date (it adds and keeps, nothing more), so after one an
        event the calendar moved may still be on its stored date, with its last good content."""
        items = self.world.items()
        wrong = []
        moved_later = set()
        for event in valid:
            item = items.get(event.event_id or "")
            expected = (event.title, event.local_date(self.today).isoformat(), event.cancelled)
            found = item and (item["title"], item["event_date"], item["cancelled"])
            if degraded and item and item["event_date"] != expected[1]:
                moved_later.add(event.event_id)  # moved by the next clean run
                continue
            if found != expected:
                wrong.append((event.event_id, expected, found))
        assert not wrong, f"stored content differs from the calendar: {wrong[:5]}"
        shown: dict[Any, set[str]] = {}
        for event in valid:
            if event.event_id in moved_later:
                continue
            for day in event.days_in_progress(self.today):
                if day not in shown:
                    shown[day] = {item["event_id"] for item in self.world.listed_on(day)}
                listed = event.event_id in shown[day]
                assert listed is not event.cancelled, (
                    f"event {event.event_id} (cancelled={event.cancelled}, "
                    f"{event.span_days + 1} days from {event.local_date(self.today)}) "
                    f"{'listed' if listed else 'not listed'} on {day}"
                )

    def _check_window_is_the_calendar(self) -> None:
        items = self.world.items()
        listed = set(self.model.usable_ids()) | {str(key) for key in self.odd_since}
        extra = sorted(event_id for event_id in items if event_id not in listed)
        assert not extra, f"after two clean runs, items the calendar no longer lists: {extra}"

    def _replay_events_dlq(self) -> None:
        replay_dlq(
            self.world.sqs,
            dlq_url=self.world.queue_url(EVENTS_DLQ),
            source_url=self.world.queue_url(EVENTS_QUEUE),
            max_messages=100,  # receive-send-delete: the same on every backend
        )

    def _add(self, event: ModelEvent) -> None:
        key = self.model.new_key()
        self.model.events[key] = replace(event, key=key)

    def _remove(self, key: int) -> None:
        del self.model.events[key]
        self.stored.discard(key)

    def _edited(self) -> None:
        self.clean_streak = 0
        self.acceptable = None
        self._serve()

    def _serve(self) -> None:
        self.world.calendar.set_events(self.model.raw(self.today))

    def _stored_as_listed(self, event: ModelEvent, items: dict[str, dict[str, Any]]) -> bool:
        """The table holds ``event`` as the calendar now lists it (so that content alone can
        match them): a valid event, stored with its current title, date and start."""
        item = items.get(event.event_id or "")
        return bool(
            event.valid
            and item
            and item["title"] == event.title
            and item["event_date"] == event.local_date(self.today).isoformat()
            and bool(item.get("all_day")) == event.all_day
            and bool(item.get("cancelled")) == event.cancelled
        )

    def _order(self, event: ModelEvent) -> tuple[int, int]:
        return event.day, event.minute


def _accept_function() -> Callable[..., Any] | None:
    """The operator's ``sweep accept`` (issue 9) as the command does it: record who accepted
    the refused run and why, then request its sweep again. None while that has not landed."""
    from villages_sync.aws.runs_table import RunsTable

    record_accept = getattr(RunsTable, "record_accept", None)
    if record_accept is None:
        return None

    def call(world: DeletionWorld, run_id: str) -> None:
        """As `sweep accept` does: a timing refusal is not accepted (nothing recorded); any
        other is, waiving the refusal and every calendar judgement that applies now."""
        from villages_sync.settings import SweepSettings
        from villages_sync.sweep_policy import ACCEPTABLE, calendar_refusals, refusal_of
        from villages_sync.sweep_trigger import encode_sweep_request

        runs = world.deployment.runs
        run = runs.get(run_id)
        refusal = refusal_of(run.sweep_reason.removeprefix("accept refused: "))
        if refusal not in ACCEPTABLE:
            return
        judged = calendar_refusals(
            run,
            baseline=runs.previous_baseline_run(run_id),
            min_ratio=SweepSettings("", "").min_ratio,
        )
        accepted = runs.record_accept(  # type: ignore[attr-defined]
            run_id,
            accepted_by="state-machine",
            reason="the calendar did change",
            waives=sorted({str(refusal), *(str(d.refusal) for d in judged)}),
            refused_reason=run.sweep_reason,
        )
        assert accepted, f"run {run_id}: a completed, refused run could not be accepted"
        world.send([encode_sweep_request(run_id)], SWEEP_QUEUE)

    return call


# --- the tests ----------------------------------------------------------------------------------

BOUNDED = settings(
    max_examples=int(os.environ.get("SM_EXAMPLES", "6")),
    stateful_step_count=int(os.environ.get("SM_STEPS", "10")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
    # SM_SHRINK=0: report the first counter-example as found (a quick look, not for findings)
    phases=[p for p in Phase if p is not Phase.shrink or os.environ.get("SM_SHRINK") != "0"],
)
SOAK = settings(
    BOUNDED,
    max_examples=int(os.environ.get("SM_EXAMPLES", "100")),
    stateful_step_count=int(os.environ.get("SM_STEPS", "30")),
)


@pytest.fixture
def world(harness):
    with RunningCalendar([]) as calendar:
        yield DeletionWorld(
            harness.deployment, calendar, page_size=PAGE_SIZE, days_ahead=DAYS_AHEAD
        )


def _run_machine(world: DeletionWorld, fault_report: Any, profile: settings) -> None:
    DeletionMachine.world = world
    DeletionMachine.accept = _accept_function()
    before = (
        Figures.examples,
        Figures.checks,
        Figures.runs,
        Figures.accepts,
        Figures.window_checks,
    )
    outcome = "counter-example found (see the test's output)"
    try:
        run_state_machine_as_test(DeletionMachine, settings=profile)
        outcome = "every invariant held after every step"
    finally:
        examples = Figures.examples - before[0]
        steps = Figures.checks - before[1] - examples
        runs = Figures.runs - before[2]
        accepts = Figures.accepts - before[3]
        windows = Figures.window_checks - before[4]
        fault_report.count_input("state machine examples (sequences of steps)", examples)
        fault_report.count_input("state machine steps", steps)
        fault_report.record(
            "model-based state machine: random calendar edits (odd ids and types, garbled "
            "shares, multi-day, cancellations), runs, mid-scrape changes, partial answers, "
            "AWS throttling/errors/crashes (inside the sweep too), redeliveries, DLQ replays "
            "(interleaved with a run's completion too), overlapping runs, epoch and far-future "
            "starts, odd ids on stored events, accepts of every refusal kind"
            + ("" if DeletionMachine.accept else " (operator accept: not available yet)"),
            "no listed event deleted; no run stuck or going backwards; DLQ only undecodable; "
            "plain runs store the calendar; two clean runs leave exactly the calendar; no ttl "
            "in the past; no date moved by a failed or degraded run, none implausible; every "
            "deletion and strike counted on its run; an odd-id stored event kept",
            f"{examples} examples, {steps} steps, {runs} runs, {accepts} operator accepts "
            f"({', '.join(f'{k} {v}' for k, v in sorted(Figures.accepts_by_refusal.items()))}), "
            f"{windows} windows compared after two clean runs: {outcome}",
        )


def test_deletion_state_machine_keeps_every_listed_event(world, fault_report):
    _run_machine(world, fault_report, BOUNDED)


@pytest.mark.soak
def test_deletion_state_machine_soak_keeps_every_listed_event(world, fault_report):
    _run_machine(world, fault_report, SOAK)
