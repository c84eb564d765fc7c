"""``python -m benchmarks [--quick] [--only NAME ...]``: run the scenarios, print the table,
write docs/benchmarks.md and docs/benchmarks-scrape.png."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import scenarios, stream_scenarios
from benchmarks.report import Section, print_sections, write_markdown

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS: dict[str, Callable[[scenarios.Plan], Section]] = {
    "scrape": scenarios.scrape,
    "producer": scenarios.producer_cpu,
    "consumer": scenarios.consumer,
    "end-to-end": scenarios.end_to_end,
    "cold-start": scenarios.cold_start,
    "memory": scenarios.memory,
    "stream-producer": stream_scenarios.streaming_producer,
    "normalise": stream_scenarios.normalise_paths,
    "stream-e2e": stream_scenarios.stream_end_to_end,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about a minute: small sizes")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="these scenarios")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    plan = scenarios.Plan.small() if args.quick else scenarios.Plan.large()
    plan.chart_path = args.out.with_name(args.out.stem + "-scrape.png")
    sections: list[Section] = []
    for name, run in SCENARIOS.items():
        if args.only and name not in args.only:
            continue
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        section = run(plan)
        section.seconds = time.monotonic() - started
        sections.append(section)
        print(section.text(), file=sys.stderr, flush=True)
    sections.append(scenarios.cost(plan))
    command = "python -m benchmarks" + " ".join(
        ["", *(["--quick"] if args.quick else []), *(["--only", *args.only] if args.only else [])]
    )
    print_sections(sections)
    write_markdown(args.out, sections, command=command, quick=args.quick, preamble=plan.preamble)
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
