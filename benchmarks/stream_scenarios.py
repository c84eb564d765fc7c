"""Issue 13's scenarios (streaming producer): first message, memory, normalise, overlap."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.report import Section, Target
from benchmarks.scenarios import LATENCY_SECONDS, Plan
from benchmarks.scrape import DEFAULT_CONCURRENCY, PAGE_SIZE, ideal_seconds
from benchmarks.streaming import ConcurrentRunFigures

RSS_SIZES = (50_000, 200_000)
RSS_SIZES_QUICK = (5_000, 20_000)
RSS_TARGET_MB = 120
RSS_GROWTH_TARGET = 1.2
FIRST_MESSAGE_TARGET = 3.0  # x the API latency, after the first events page
NORMALISE_TARGET = 20_000  # events per CPU-second
E2E_TARGET = 1.3  # x the slowest stage's busy time
E2E_EVENTS, E2E_EVENTS_QUICK = 20_000, 2_000


def streaming_producer(plan: Plan) -> Section:
    from benchmarks.memory import producer_peak_rss

    sizes = RSS_SIZES_QUICK if plan.quick else RSS_SIZES
    section = Section(
        "8. Streaming producer: first message, peak memory, streamed scrape",
        [
            "events",
            "peak RSS (VmHWM)",
            "RSS after import",
            "first page s",
            "first message s",
            "first message - first page",
            "scrape s",
            "scrape ideal s",
            "scrape vs ideal",
            "messages",
            "SendMessageBatch calls",
            "producer s",
            "producer CPU s",
        ],
    )
    peaks: dict[int, float] = {}
    worst_first, worst_scrape = 0.0, 0.0
    for events in sizes:
        f = producer_peak_rss(events, latency_seconds=LATENCY_SECONDS)
        p = f["payload"] or {}
        if f["error"] or not p:
            section.rows.append([f"{events:,}", "failed: " + str(f["error"])[:80]] + [""] * 11)
            continue
        peaks[events] = f["peak_rss_kb"] / 1024
        gap = p["first_message_seconds"] - p["first_page_seconds"]
        pages = p["calendar_requests"] - 2  # the token script and the calendar page
        ideal = ideal_seconds(pages, DEFAULT_CONCURRENCY, LATENCY_SECONDS)
        worst_first = max(worst_first, gap / LATENCY_SECONDS)
        worst_scrape = max(worst_scrape, p["scrape_seconds"] / ideal)
        section.rows.append(
            [
                f"{events:,}",
                f"{peaks[events]:.0f} MB",
                f"{f['rss_after_import_kb'] / 1024:.0f} MB",
                f"{p['first_page_seconds']:.2f}",
                f"{p['first_message_seconds']:.2f}",
                f"{gap:.3f} s ({gap / LATENCY_SECONDS:.2f}x latency)",
                f"{p['scrape_seconds']:.2f}",
                f"{ideal:.2f}",
                f"{p['scrape_seconds'] / ideal:.2f}x",
                str(p["messages"]),
                str(p["send_calls"]),
                f"{p['duration_seconds']:.1f}",
                f"{f['cpu_seconds']:.1f}",
            ]
        )
    section.notes += [
        f"The producer handler alone in a child process (local Lambda runtime, MemorySize "
        f"{f.get('memory_mb', 512)} MB), VmHWM of its own address space; the stand-in (events "
        f"requests answered after {LATENCY_SECONDS * 1000:.0f} ms, {PAGE_SIZE}-row pages) and "
        "moto in their own processes. One run per size.",
        "first page / first message: seconds since the run started until the first events "
        "page reached the producer's sink, and until the first SendMessageBatch returned.",
        "Streamed scrape: the producer's scrape_seconds (from the run's start, so it includes "
        "the token, the calendar page and the run record) against the ideal of scenario 1 "
        f"at MAX_CONCURRENCY={DEFAULT_CONCURRENCY} for its events requests.",
    ]
    small, large = sizes
    if small in peaks:
        section.targets.append(
            Target(
                f"producer peak RSS at {small:,} events at most {RSS_TARGET_MB} MB",
                f"{peaks[small]:.0f} MB",
                peaks[small] <= RSS_TARGET_MB,
            )
        )
    if small in peaks and large in peaks:
        growth = peaks[large] / peaks[small]
        section.targets.append(
            Target(
                f"producer peak RSS at {large:,} events at most {RSS_GROWTH_TARGET}x the "
                f"{small:,}-event figure",
                f"{peaks[large]:.0f} MB = {growth:.2f}x",
                growth <= RSS_GROWTH_TARGET,
            )
        )
    section.targets += [
        Target(
            f"first message on the queue within {FIRST_MESSAGE_TARGET:.0f}x the API latency "
            "after the first events page",
            f"worst {worst_first:.2f}x",
            bool(peaks) and worst_first <= FIRST_MESSAGE_TARGET,
        ),
        Target(
            f"streamed scrape within 1.2x of the ideal at MAX_CONCURRENCY={DEFAULT_CONCURRENCY}",
            f"worst {worst_scrape:.2f}x",
            bool(peaks) and worst_scrape <= 1.2,
        ),
    ]
    return section


def normalise_paths(plan: Plan) -> Section:
    from benchmarks.streaming import measure_normalise

    runs = plan.runs if plan.quick else 5
    f = measure_normalise(plan.producer_events, runs=runs)
    section = Section(
        f"9. Normalise: events per CPU-second, old path against new ({f.events:,} events)",
        ["path", "events per CPU-second", "vs old"],
        rows=[
            [
                "old: BeautifulSoup for all markup, per-character filters",
                f"{f.old_per_cpu_second:,.0f}",
                "1.00x",
            ],
            [
                "new (as deployed)",
                f"{f.new_per_cpu_second:,.0f}",
                f"{f.new_per_cpu_second / f.old_per_cpu_second:.2f}x",
            ],
            [
                "new, short-text cache off",
                f"{f.new_uncached_per_cpu_second:,.0f}",
                f"{f.new_uncached_per_cpu_second / f.old_per_cpu_second:.2f}x",
            ],
        ],
        notes=[
            f"time.process_time of normalise_events over the stand-in's generated events, median "
            f"of {runs} runs (the cache is emptied before each). Old = the same normaliser with "
            "clean_text on its reference path (tests/unit/test_text_paths.py proves both paths "
            "give the same text; test_normalise_paths the same items).",
            "The generator's texts come from small pools (a few dozen titles, venues, eight "
            "descriptions): the short-text cache hits almost always here. The cache-off row is "
            "the figure for a calendar where no short text repeats.",
        ],
    )
    section.targets.append(
        Target(
            f"normalise at least {NORMALISE_TARGET:,} events per CPU-second",
            f"{f.new_per_cpu_second:,.0f} (cache off {f.new_uncached_per_cpu_second:,.0f})",
            f.new_per_cpu_second >= NORMALISE_TARGET,
        )
    )
    return section


def stream_end_to_end(plan: Plan) -> Section:
    from benchmarks.scenarios import BACKEND_NAMES
    from benchmarks.streaming import measure_concurrent_run

    events = E2E_EVENTS_QUICK if plan.quick else E2E_EVENTS
    runs = [
        measure_concurrent_run(events, latency=LATENCY_SECONDS, dynamodb=backend)
        for backend in plan.dynamodb_backends
    ]

    def row(label: str, figure: Callable[[ConcurrentRunFigures], str]) -> list[str]:
        return [label, *(figure(f) for f in runs)]

    def ratio(f: ConcurrentRunFigures) -> float:
        return f.total_seconds / f.slowest_stage_seconds

    def overlap(f: ConcurrentRunFigures) -> float:
        return f.consumer_end_seconds / max(f.producer_seconds, f.consumer_busy_seconds)

    section = Section(
        f"10. End to end at {events:,} events, consumer concurrent with the producer",
        ["seconds", *(f"{BACKEND_NAMES[f.dynamodb]}" for f in runs)],
        rows=[
            row("producer (its invocation)", lambda f: f"{f.producer_seconds:.1f}"),
            row("consumer busy", lambda f: f"{f.consumer_busy_seconds:.1f}"),
            row("consumer invocations", lambda f: f"{f.consumer_invocations}"),
            row("sweep busy", lambda f: f"{f.sweep_busy_seconds:.1f}"),
            row(
                "first consumer invocation, after the producer process started",
                lambda f: f"{f.first_consumer_start_seconds:.1f}",
            ),
            row("producer process ended", lambda f: f"{f.producer_end_seconds:.1f}"),
            row("consumer done", lambda f: f"{f.consumer_end_seconds:.1f}"),
            row("end to end (producer start to sweep done)", lambda f: f"{f.total_seconds:.1f}"),
            row("end to end / slowest stage", lambda f: f"{ratio(f):.2f}x"),
            row(
                "producer + consumer only: consumer done / the slower of the two",
                lambda f: f"{overlap(f):.2f}x",
            ),
            row("run", lambda f: f"{f.status}, sweep {f.sweep_outcome}"),
        ],
        notes=[
            "The producer handler in its own process; the consumer and then the sweep invoked "
            "here through the local event-source mapping (batch size from the template), one "
            "consumer at a time; the stand-in (events requests after "
            f"{LATENCY_SECONDS * 1000:.0f} ms), moto and DynamoDB Local in their own processes "
            "(SQS is on moto for both columns). Busy = time inside the handler. The producer's "
            "time includes a cold start of its process (imports).",
            "The sweep runs after the run completes, by design: it cannot overlap the others. "
            "It queries the date index once a day of the window; moto answers each such query "
            "by scanning the whole table, DynamoDB Local from the index.",
        ],
    )
    for f in runs:
        section.targets.append(
            Target(
                f"end to end at {events:,} events at most {E2E_TARGET}x the slowest stage's "
                f"busy time ({BACKEND_NAMES[f.dynamodb]})",
                f"{ratio(f):.2f}x ({f.total_seconds:.0f} s against "
                f"{f.slowest_stage_seconds:.0f} s)",
                ratio(f) <= E2E_TARGET and f.status == "completed",
            )
        )
    return section
