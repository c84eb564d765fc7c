"""The sweep request's body: which run to sweep, versioned. Pure."""

from __future__ import annotations

import json

from villages_sync.run_ids import RunId, is_run_id

SWEEP_REQUEST_VERSION = 1


class SweepRequestError(ValueError):
    pass


def encode_sweep_request(run_id: RunId) -> str:
    return json.dumps({"v": SWEEP_REQUEST_VERSION, "run_id": run_id}, separators=(",", ":"))


def decode_sweep_request(body: str) -> RunId:
    """The run id a sweep request names; SweepRequestError saying what is wrong otherwise."""
    try:
        request = json.loads(body)
    except ValueError as error:
        raise SweepRequestError(f"sweep request is not JSON: {error}") from None
    if not isinstance(request, dict) or request.get("v") != SWEEP_REQUEST_VERSION:
        raise SweepRequestError(f"sweep request is not a version {SWEEP_REQUEST_VERSION} object")
    run_id = request.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise SweepRequestError("sweep request has no run_id")
    if not is_run_id(run_id):
        raise SweepRequestError(f"sweep request's run_id {run_id!r} is not a run id")
    return run_id
