"""Scenario 7: peak RSS of the producer handler in its own process, against a stand-in calendar
(another process) and a moto server (another process)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from villages_sync_ops.local.pipeline import LocalPipeline, SyncOptions, deploy_locally

from benchmarks.common import calendar_process, moto_process

_CHILD = r"""
import json, os, sys
def hwm_kb():
    # VmHWM belongs to this process's own address space; ru_maxrss after fork+exec can carry
    # the parent's high-water mark (the benchmark process holding generated events).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from villages_sync_ops.local.lambda_runtime import invoke
from villages_sync_ops.local.pipeline import scheduled_event
spec = json.loads(sys.stdin.read())
os.environ.update(spec["env"])  # Powertools reads its settings when the module is imported
import producers.scrape_handler  # noqa
after_import = hwm_kb()
result = invoke(spec["handler"], scheduled_event("us-east-1"), env=spec["env"],
    function_name="producer", timeout_seconds=900, memory_mb=spec["memory_mb"])
peak = hwm_kb()
cpu = sum(os.times()[:2])
print(json.dumps({"error": result.error and str(result.error)[:300], "cpu_seconds": cpu,
    "payload": result.payload if isinstance(result.payload, dict) else None,
    "rss_after_import_kb": after_import, "peak_rss_kb": peak}))

"""


def producer_peak_rss(events: int, **faults: float) -> dict:
    """The producer's own peak RSS and its summary (``payload``), against a stand-in with
    ``faults`` (e.g. ``latency_seconds``)."""
    with moto_process() as moto, calendar_process(events, page_cap=100, **faults) as calendar:
        deployment = deploy_locally(moto.endpoint_url)
        pipeline = LocalPipeline(
            deployment,
            SyncOptions(calendar_base_url=calendar.base_url, function_log=io.StringIO()),
        )
        spec = deployment.resources.functions["ProducerFunction"]
        env = pipeline.function_env(spec)
        env["LOG_LEVEL"] = "WARNING"
        child_input = json.dumps(
            {
                "handler": spec.handler_path,
                "env": env,
                "memory_mb": spec.memory_mb,
            }
        )
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=child_input,
            capture_output=True,
            text=True,
            timeout=600,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"error"')]
    if not lines:
        raise RuntimeError(f"producer child failed: {done.stderr[-800:]}")
    figures = json.loads(lines[-1])
    figures["memory_mb"] = spec.memory_mb
    return figures
