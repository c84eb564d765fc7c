"""The PNG chart: scrape wall time against concurrency, next to the ideal."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: a file only
import matplotlib.pyplot as plt

from benchmarks.scrape import BaselineFigures, ScrapeFigures


def scrape_chart(
    path: Path, sweep: list[ScrapeFigures], baseline: BaselineFigures | None, latency: float
) -> None:
    concurrency = [f.concurrency for f in sweep]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=110)
    axes.plot(concurrency, [f.seconds for f in sweep], "o-", label="measured (median)")
    axes.plot(concurrency, [f.ideal_seconds for f in sweep], "s--", label="ideal")
    if baseline is not None:
        axes.axhline(
            baseline.seconds, color="grey", linestyle=":", label="seed: one page at a time"
        )
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(concurrency, [str(c) for c in concurrency])
    axes.set_xlabel("MAX_CONCURRENCY")
    axes.set_ylabel("scrape wall time (s)")
    events = sweep[0].events if sweep else 0
    axes.set_title(f"Scrape of {events:,} events, {latency * 1000:.0f} ms per request")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
