"""The scenarios, each turning measurements into one report section with its targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import producer_cpu as producer_cpu_bench
from benchmarks import scrape as scrape_bench
from benchmarks.report import Section, Target

LATENCY_SECONDS = 0.1


@dataclass
class Plan:
    """Sizes and repeats of one run; ``observations`` carries figures between scenarios."""

    quick: bool
    runs: int
    scrape_sizes: list[int]
    sweep_events: int
    sweep_concurrency: list[int]
    baseline_runs: dict[int, int]  # events -> runs of the one-page-at-a-time baseline
    producer_events: int
    consumer_events: int
    e2e_sizes: list[int]
    e2e_runs: int
    import_runs: int
    memory_events: int
    chart_path: Path | None = None
    preamble: list[str] = field(default_factory=list)
    observations: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def large(cls) -> Plan:
        return cls(
            quick=False,
            runs=3,
            scrape_sizes=[10_000, 50_000],
            sweep_events=10_000,
            sweep_concurrency=[1, 2, 4, 8, 16],
            baseline_runs={10_000: 3, 50_000: 1},
            producer_events=10_000,
            consumer_events=5_000,
            e2e_sizes=[2_000, 20_000],
            e2e_runs=3,
            import_runs=7,
            memory_events=50_000,
        )

    @classmethod
    def small(cls) -> Plan:
        return cls(
            quick=True,
            runs=3,
            scrape_sizes=[5_000],
            sweep_events=2_000,
            sweep_concurrency=[1, 2, 4, 8, 16],
            baseline_runs={5_000: 1},
            producer_events=2_000,
            consumer_events=1_000,
            e2e_sizes=[1_000],
            e2e_runs=1,
            import_runs=3,
            memory_events=5_000,
        )


def _ratio(value: float) -> str:
    return f"{value:.2f}x"


# --- 1. scrape ---------------------------------------------------------------------------


def scrape(plan: Plan) -> Section:
    default = scrape_bench.DEFAULT_CONCURRENCY
    section = Section(
        "1. Scrape: wall time against the ideal and the seed's sequential client",
        [
            "events",
            "MAX_CONCURRENCY",
            "events requests",
            "median s",
            "ideal s",
            "vs ideal",
            "seed client s",
            "speed-up vs seed",
        ],
    )
    worst_ideal, worst_speedup = 0.0, float("inf")
    baselines: dict[int, scrape_bench.BaselineFigures] = {}
    for events in plan.scrape_sizes:
        figures, baseline = scrape_bench.measure(
            events,
            [default],
            latency=LATENCY_SECONDS,
            runs=plan.runs,
            baseline_runs=plan.baseline_runs.get(events, 1),
        )
        f = figures[0]
        assert baseline is not None
        baselines[events] = baseline
        speedup = baseline.seconds / f.seconds
        worst_ideal, worst_speedup = max(worst_ideal, f.vs_ideal), min(worst_speedup, speedup)
        section.rows.append(
            [
                f"{events:,}",
                str(default),
                str(f.requests),
                f"{f.seconds:.2f}",
                f"{f.ideal_seconds:.2f}",
                _ratio(f.vs_ideal),
                f"{baseline.seconds:.2f} ({baseline.requests} req, {baseline.runs} run)",
                _ratio(speedup),
            ]
        )
    sweep, _ = scrape_bench.measure(
        plan.sweep_events,
        plan.sweep_concurrency,
        latency=LATENCY_SECONDS,
        runs=plan.runs,
        baseline_runs=0,
    )
    for f in sweep:
        section.rows.append(
            [
                f"{f.events:,}",
                str(f.concurrency),
                str(f.requests),
                f"{f.seconds:.2f}",
                f"{f.ideal_seconds:.2f}",
                _ratio(f.vs_ideal),
                "",
                "",
            ]
        )
    if plan.chart_path is not None:
        from benchmarks.chart import scrape_chart

        scrape_chart(plan.chart_path, sweep, baselines.get(plan.sweep_events), LATENCY_SECONDS)
        section.notes.append(
            f"![scrape time against concurrency]({plan.chart_path.name}) "
            f"({plan.sweep_events:,} events)"
        )
    section.notes += [
        f"The stand-in answers every events request after {LATENCY_SECONDS * 1000:.0f} ms and "
        f"caps pages at {scrape_bench.PAGE_SIZE} rows; it runs in its own process on 127.0.0.1.",
        "Ideal = latency x (1 + ceil((requests - 1) / concurrency)): the first page alone (it "
        "tells the count), then the rest in full rounds. Token and cookie requests have no "
        "added latency and are not in the ideal; they are in the measured time.",
        "The client's pages overlap by one row (its drift check), so it needs about 1% more "
        "requests than the seed's client; the ideal uses the client's own request count.",
        f"Seed client: one aiohttp session, one page after the other (benchmarks/scrape.py); "
        f"median of {plan.runs} runs for the real client, runs as stated for the seed's.",
    ]
    section.targets += [
        Target(
            f"scrape within 1.2x of the ideal at MAX_CONCURRENCY={default}",
            f"worst {_ratio(worst_ideal)}",
            worst_ideal <= 1.2,
        ),
        Target(
            "scrape at least 6x faster than one page at a time",
            f"worst {_ratio(worst_speedup)}",
            worst_speedup >= 6,
        ),
    ]
    return section


# --- 2. producer CPU ---------------------------------------------------------------------


def producer_cpu(plan: Plan) -> Section:
    f = producer_cpu_bench.measure(plan.producer_events, runs=plan.runs)
    cpu_seconds = (
        plan.producer_events / f.normalise_events_per_cpu_second
        + f.valid_events / f.pack_events_per_cpu_second
    )
    plan.observations["producer_cpu"] = f
    section = Section(
        f"2. Producer CPU per {plan.producer_events:,} generated events",
        ["figure", "value"],
        rows=[
            ["normalise: events per CPU-second", f"{f.normalise_events_per_cpu_second:,.0f}"],
            ["pack + plan batches: events per CPU-second", f"{f.pack_events_per_cpu_second:,.0f}"],
            [
                f"CPU-seconds per {plan.producer_events:,} events (normalise + pack)",
                f"{cpu_seconds:.2f}",
            ],
            ["messages per 1,000 events", f"{f.messages_per_1000:.1f}"],
            ["SendMessageBatch calls per 1,000 events", f"{f.batch_calls_per_1000:.2f}"],
            ["events per SendMessageBatch call", f"{f.events_per_batch_call:,.0f}"],
            ["mean message body (compressed)", f"{f.mean_body_bytes / 1024:.1f} KiB"],
        ],
        notes=[
            f"time.process_time, median of {plan.runs} runs; events from the stand-in's "
            "generator (realistic titles, HTML descriptions, venues).",
        ],
    )
    section.targets.append(
        Target(
            "at most one SendMessageBatch per 500 events",
            f"{f.events_per_batch_call:,.0f} events per call",
            f.events_per_batch_call >= 500,
        )
    )
    return section


# --- placeholders filled in by the later scenarios ---------------------------------------


def _not_yet(title: str) -> Section:
    return Section(title, [], notes=["not measured in this version of the benchmarks"])


def consumer(plan: Plan) -> Section:
    return _not_yet("3. Consumer")


def end_to_end(plan: Plan) -> Section:
    return _not_yet("4. End to end")


def cold_start(plan: Plan) -> Section:
    return _not_yet("6. Cold start")


def memory(plan: Plan) -> Section:
    return _not_yet("7. Memory")


def cost(plan: Plan) -> Section:
    return _not_yet("5. Cost")
