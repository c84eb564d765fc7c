"""``python -m benchmarks [--quick] [--only NAME ...] [--dynamodb moto,local]``: run the
scenarios, print the table, write docs/benchmarks.md and docs/benchmarks-scrape.png.

The consumer and end-to-end scenarios run on each DynamoDB backend, side by side: moto and
DynamoDB Local (by default both when `make dynamodb-local` has installed it, else moto)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from villages_sync_ops.local.dynamodb_local import INSTALL_HINT, is_installed

from benchmarks import scenarios, skill_latency, stream_scenarios, text_cleaning
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
    "skill": skill_latency.scenario,
    "hostile-text": text_cleaning.hostile_text,
    "raw-capture": scenarios.raw_capture,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about a minute: small sizes")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="these scenarios")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--dynamodb",
        help="DynamoDB backends of the consumer and end-to-end scenarios, comma-separated: "
        "moto, local (default: both when DynamoDB Local is installed, else moto)",
    )
    args = parser.parse_args(argv)
    plan = scenarios.Plan.small() if args.quick else scenarios.Plan.large()
    plan.dynamodb_backends = _backends(parser, args.dynamodb)
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
    if args.dynamodb:
        command += f" --dynamodb {args.dynamodb}"
    print_sections(sections)
    write_markdown(args.out, sections, command=command, quick=args.quick, preamble=plan.preamble)
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


def _backends(parser: argparse.ArgumentParser, option: str | None) -> list[str]:
    if option is None:
        if is_installed():
            return ["moto", "local"]
        print(f"DynamoDB on moto only ({INSTALL_HINT} for both)", file=sys.stderr)
        return ["moto"]
    names = [name.strip() for name in option.split(",") if name.strip()]
    if not names or set(names) - set(scenarios.BACKEND_NAMES):
        parser.error(f"--dynamodb: moto, local or both, not {option!r}")
    if "local" in names and not is_installed():
        parser.error(INSTALL_HINT)
    return names


if __name__ == "__main__":
    sys.exit(main())
