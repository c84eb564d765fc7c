"""The scenarios, each turning measurements into one report section with its targets."""

from __future__ import annotations

import os
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
    e2e_sizes: list[int]
    e2e_runs: int
    import_runs: int
    memory_events: int
    chart_path: Path | None = None
    preamble: list[str] = field(default_factory=list)
    # DynamoDB backends of the consumer and end-to-end scenarios, side by side
    dynamodb_backends: list[str] = field(default_factory=lambda: ["moto"])
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
            e2e_sizes=[2_000, 20_000],
            e2e_runs=3,
            import_runs=21,
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
            e2e_sizes=[500],
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


# --- 3/4. consumer and end to end (whole runs on the embedded emulator) -----------------

PRICES_DATE = "2026-11 (list prices as known to the author; not verified live: no internet here)"
PRICE_WRU = 0.625 / 1e6
PRICE_RRU = 0.125 / 1e6
PRICE_SQS = 0.40 / 1e6
PRICE_LAMBDA_GB_S = 0.0000133334
PRICE_LAMBDA_REQUEST = 0.20 / 1e6
MEMORY_GB = {"producer": 0.5, "consumer": 0.25, "sweep": 0.25}  # template.yaml MemorySize


BACKEND_NAMES = {"moto": "moto", "local": "DynamoDB Local"}


def _runs(plan: Plan) -> list[Any]:
    """Whole runs of every size on every DynamoDB backend (measured once, for 3, 4 and 5)."""
    if "e2e" not in plan.observations:
        from benchmarks import end_to_end

        plan.observations["e2e"] = [
            end_to_end.measure(size, second_day=(size == min(plan.e2e_sizes)), dynamodb=backend)
            for size in plan.e2e_sizes
            for backend in plan.dynamodb_backends
        ]
    return plan.observations["e2e"]


def consumer(plan: Plan) -> Section:
    section = Section(
        "3. Consumer and sweep: requests per event, upserts per second, per DynamoDB backend",
        [
            "DynamoDB",
            "run",
            "events",
            "PutItem (events)",
            "writes per event",
            "DynamoDB req per event",
            "consumer s",
            "events upserted/s",
            "sweep Query",
            "sweep deletions (transactions)",
            "deleted",
        ],
    )
    worst = 0.0
    for figures in _runs(plan):
        for label, run in (("day 1 (empty table)", figures.first), ("day 2", figures.second)):
            if run is None:
                continue
            events_table = figures.tables["EventsTable"]
            puts = run.count("dynamodb", "PutItem", events_table)
            per_event = puts / run.events
            worst = max(worst, abs(per_event - 1))
            section.rows.append(
                [
                    BACKEND_NAMES[figures.dynamodb],
                    label,
                    f"{run.events:,}",
                    f"{puts:,}",
                    f"{per_event:.3f}",
                    f"{run.count('dynamodb') / run.events:.3f}",
                    f"{run.stage_seconds.get('consumer', 0):.1f}",
                    f"{run.events / max(1e-9, run.stage_seconds.get('consumer', 0)):,.0f}",
                    str(run.count("dynamodb", "Query", events_table)),
                    str(run.count("dynamodb", "TransactWriteItems")),
                    str(run.deleted),
                ]
            )
    section.notes += [
        "Requests counted with a botocore before-send hook on the clients the handlers use "
        "(retries included).",
        "Day 2: the calendar changed overnight (2% added, removed and changed); the sweep "
        "queries the date index once per day of the window and deletes only what is gone.",
        "DynamoDB is moto or DynamoDB Local (AWS's own, a Java process); SQS is moto on both. "
        "Each emulator runs in its own process on 127.0.0.1. The upsert rate is the "
        "emulator's, far below DynamoDB's; read the requests per event, and the two backends "
        "against each other.",
    ]
    section.targets.append(
        Target(
            "exactly one DynamoDB write per event per run (plus the sweep's deletes)",
            "PutItem per event = 1.000" if worst == 0 else f"off by {worst:.3f}",
            worst == 0,
        )
    )
    return section


def end_to_end(plan: Plan) -> Section:
    section = Section(
        "4. End to end: LocalPipeline (the handlers of `villages-sync sync`), per DynamoDB backend",
        [
            "DynamoDB",
            "events",
            "producer s",
            "consumer s",
            "sweep s",
            "total s",
            "consumer invocations",
            "emulator CPU s",
            "pipeline CPU s",
            "emulators' share of CPU",
        ],
    )
    for figures in _runs(plan):
        r = figures.first
        st = r.stage_seconds
        emulator_cpu = sum(r.emulator_cpu_seconds.values())
        section.rows.append(
            [
                BACKEND_NAMES[figures.dynamodb],
                f"{r.events:,}",
                f"{st.get('producer', 0):.2f}",
                f"{st.get('consumer', 0):.2f}",
                f"{st.get('sweep', 0):.2f}",
                f"{st.get('total', 0):.2f}",
                str(r.consumer_invocations),
                " + ".join(f"{v:.1f} ({k})" for k, v in r.emulator_cpu_seconds.items()),
                f"{r.pipeline_cpu_seconds:.1f}",
                f"{emulator_cpu / max(1e-9, emulator_cpu + r.pipeline_cpu_seconds):.0%}",
            ]
        )
    section.notes += [
        "First run of each size, on an empty table; one run each (bounded).",
        "Emulator CPU: user + system seconds of each emulator process during the run (from "
        "/proc); pipeline CPU: this process (the handlers, the local event source, the "
        "stand-in calendar). Their share is how much of the local run is the emulators' work.",
    ]
    return section


def cost(plan: Plan) -> Section:
    section = Section(
        "5. Cost: AWS requests per 1,000 events and a daily run at 20,000 events",
        ["service", "requests per 1,000 events", "billed units per 1,000 events", "USD / month"],
    )
    runs = plan.observations.get("e2e")
    if not runs:
        section.notes.append("not measured: run the consumer or end-to-end scenario")
        return section
    # The first backend's (moto unless told otherwise): request counts do not depend on it.
    figures = next(f for f in runs if f.second is not None)
    run = figures.second  # the steady state: a daily run over a table that is already full
    k = 1000 / run.events
    wru_per_put = max(1, -(-int(figures.mean_item_bytes) // 1024))
    events_table = figures.tables["EventsTable"]
    puts = run.count("dynamodb", "PutItem", events_table)
    writes = (
        run.count("dynamodb", "PutItem")
        + run.count("dynamodb", "UpdateItem")
        + run.count("dynamodb", "DeleteItem")
    )
    # A sweep deletion is one transaction of two updates (the tombstone and the run's count),
    # each billed twice as a transactional write
    transactions = run.count("dynamodb", "TransactWriteItems")
    wru = puts * wru_per_put + (writes - puts) + transactions * 2 * 2
    queries = run.count("dynamodb", "Query")
    gets = run.count("dynamodb", "GetItem")
    # A Query is charged on the size of the items it reads (before filter and projection),
    # rounded up to 4 KB, at 0.5 RRU (eventually consistent, as a GSI query always is).
    rru = 0.5 * (run.events * figures.mean_item_bytes / 4096 + queries) + gets
    sqs = run.sqs_billed_requests
    seconds = run.stage_seconds
    gb_s = sum(seconds.get(stage, 0) * gb for stage, gb in MEMORY_GB.items())
    invocations = 1 + run.consumer_invocations + 1
    scale = 20_000 / run.events * 30
    rows = [
        ("DynamoDB writes (WRU)", run.count("dynamodb") - queries - gets, wru, wru * PRICE_WRU),
        ("DynamoDB reads (RRU, estimate)", queries + gets, rru, rru * PRICE_RRU),
        ("SQS (64 KB chunks)", run.count("sqs"), sqs, sqs * PRICE_SQS),
        ("Lambda requests", invocations, invocations, invocations * PRICE_LAMBDA_REQUEST),
        ("Lambda GB-seconds (local durations)", 0, gb_s, gb_s * PRICE_LAMBDA_GB_S),
    ]
    total = 0.0
    for name, requests, units, usd in rows:
        total += usd * scale
        section.rows.append(
            [name, f"{requests * k:,.1f}", f"{units * k:,.2f}", f"{usd * scale:.4f}"]
        )
    section.rows.append(["total", "", "", f"{total:.4f}"])
    plan.observations["cost_per_month"] = total
    section.notes += [
        f"Counted on the day-2 run at {run.events:,} events (a full table, 2% changed), scaled "
        "to 20,000 events x 30 days.",
        f"Mean stored item ~{figures.mean_item_bytes:.0f} bytes, so a PutItem is "
        f"{wru_per_put} WRU.",
        f"Prices (us-east-1, on-demand) as of {PRICES_DATE}: DynamoDB $0.625 per million WRU, "
        "$0.125 per million RRU; SQS standard $0.40 per million requests (64 KB chunks); "
        "Lambda arm64 $0.0000133334 per GB-second, $0.20 per million requests. Free tiers "
        "ignored.",
        "Lambda durations are the local stage times (same code, different machine): an "
        "estimate. SQS counts the local event-source poller's receives and deletes; AWS's "
        "pollers also make empty long-polls, not counted here.",
    ]
    return section


# --- 6. cold start -----------------------------------------------------------------------


def cold_start(plan: Plan) -> Section:
    from benchmarks import cold_start as bench

    section = Section(
        "6. Cold start: handler import against its floor, and artifact sizes",
        ["what", "floor", "before", "after", "notes"],
    )
    load_before = os.getloadavg()[0]
    with bench.baseline_tree() as baseline:
        figures = bench.measure_imports(plan.import_runs, baseline)
        load_after = os.getloadavg()[0]
        sizes = bench.artifact_sizes()
        baseline_sizes = {a["name"]: a for a in bench.artifact_sizes(baseline)} if baseline else {}
    for f in figures:
        before = (
            "not measured"
            if f.baseline_ms is None
            else (f"{f.baseline_ms:.0f} ms: {f.baseline_ratio:.2f}x")
        )
        slowest = ", ".join(f"{name} {ms:.0f}" for name, ms in f.slowest_beyond_floor[:3])
        section.rows.append(
            [
                f"import {f.module}",
                f"{' + '.join(f.floor)}: {f.floor_ms:.0f} ms",
                before,
                f"{f.handler_ms:.0f} ms: {f.ratio:.2f}x",
                f"beyond the floor (importtime ms): {slowest}",
            ]
        )
        section.targets.append(
            Target(
                f"{f.module} imports in at most {f.target}x {' + '.join(f.floor)}"
                ", without " + "/".join(bench.HEAVY),
                f"{f.ratio:.2f}x"
                + (f" (loads {', '.join(f.heavy_loaded)})" if f.heavy_loaded else "")
                + ("" if f.baseline_ratio is None else f", was {f.baseline_ratio:.2f}x"),
                f.met,
            )
        )
    for artifact in sizes:
        old = baseline_sizes.get(artifact["name"])
        section.rows.append(
            [
                f"artifact {artifact['name']}",
                "",
                "" if old is None else _size(old),
                _size(artifact),
                "unzipped (zipped), files",
            ]
        )
    section.notes += [
        f"Each figure: the median of {plan.import_runs} fresh interpreters timing the import "
        "(time.perf_counter), the floor alone or the floor and then the handler, floor and "
        "handler runs taking turns; ratio: the median over the rounds of handler / floor in the "
        "same round.",
        f"Before: commit {bench.BASELINE_COMMIT} (X-Ray SDK through Powertools' Tracer, "
        "Powertools' BatchProcessor), exported with git archive and measured in the same turns"
        + ("" if baseline else "; not measured in this run (aws_xray_sdk is not installed)")
        + ".",
        "Bytecode as deployed: handler modules and villages_sync from the bytecode their "
        "packages ship (after) or from source (before); the venv's packages from pip's bytecode "
        "(in Lambda the layer's aiohttp, bs4 and Powertools have none: they cost more there).",
        "Artifacts: tools/package.py --json of each tree.",
        f"Load average (1 min) when the imports started and ended: {load_before:.1f}, "
        f"{load_after:.1f} on {os.cpu_count()} CPUs shared with other engineers' work.",
    ]
    return section


def _size(artifact: dict) -> str:
    return (
        f"{artifact['unzipped_bytes'] / 1e6:.2f} MB ({artifact['zipped_bytes'] / 1e6:.2f} MB), "
        f"{artifact['files']}"
    )


# --- 7. memory ---------------------------------------------------------------------------


def memory(plan: Plan) -> Section:
    from benchmarks.memory import producer_peak_rss

    f = producer_peak_rss(plan.memory_events)
    peak_mb = f["peak_rss_kb"] / 1024
    section = Section(
        f"7. Memory: producer handler at {plan.memory_events:,} events",
        ["figure", "value"],
        rows=[
            ["RSS after importing the handler", f"{f['rss_after_import_kb'] / 1024:.0f} MB"],
            ["peak RSS of the whole invocation", f"{peak_mb:.0f} MB"],
            ["function MemorySize (template)", f"{f['memory_mb']} MB"],
            ["run", "ok" if not f["error"] else f["error"]],
        ],
        notes=[
            "The producer alone in a child process (VmHWM, its own peak RSS); the stand-in "
            "and moto run in their own processes."
        ],
    )
    section.targets.append(
        Target(
            f"producer peak memory under 256 MB at {plan.memory_events:,} events",
            f"{peak_mb:.0f} MB",
            peak_mb < 256 and not f["error"],
        )
    )
    return section


# --- raw-pages capture ----------------------------------------------------------------------


def raw_capture(plan: Plan) -> Section:
    from benchmarks import raw_capture as capture_bench

    section = Section(
        "Raw-pages capture: the scrape with and without it, and its one upload",
        [
            "events",
            "pages",
            "scrape s off / on",
            "spread off s",
            "client CPU s off / on",
            "raw MB / gzip MB",
            "S3 requests a run",
            "upload s",
            "peak MB off / on",
        ],
    )
    worst_requests, worst_extra, noise = 0, 0.0, 0.0
    for events in plan.scrape_sizes:
        f = capture_bench.measure(events, latency=LATENCY_SECONDS, runs=max(plan.runs, 5))
        worst_requests = max(worst_requests, f.s3_requests)
        worst_extra = max(worst_extra, f.on_seconds - f.off_seconds)
        noise = max(noise, f.off_spread)
        section.rows.append(
            [
                f"{events:,}",
                str(f.pages),
                f"{f.off_seconds:.2f} / {f.on_seconds:.2f}",
                f"{f.off_spread:.2f}",
                f"{f.off_cpu:.2f} / {f.on_cpu:.2f}",
                f"{f.raw_bytes / 1e6:.1f} / {f.gzip_bytes / 1e6:.2f}",
                f"{f.s3_requests} ({f.s3_operations})",
                f"{f.upload_seconds:.2f}",
                f"{f.off_peak_mb:.1f} / {f.on_peak_mb:.1f}",
            ]
        )
    section.notes.append(
        "The capture compresses each answer as it arrives (gzip level 1) into a spooled file "
        "(memory up to 16 MB compressed, then /tmp) and uploads it once after the scrape: "
        "the upload is not part of the scrape's time, and is shown apart."
    )
    section.targets += [
        Target("capture: at most one S3 request per run", f"{worst_requests}", worst_requests <= 1),
        Target(
            "capture: no measurable time added to the scrape",
            f"median +{worst_extra:.2f} s (runs without capture spread {noise:.2f} s)",
            worst_extra <= max(noise, 0.05),
        ),
    ]
    return section
