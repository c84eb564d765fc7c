"""The local AWS emulator: a moto server on 127.0.0.1.

- ``EmbeddedEmulator``: in this process, for the demo and tests; gone when the block ends.
- The shared emulator: one background process that every ``villages-sync`` command uses, started
  on demand, so a ``sync`` and a later ``events`` or ``status`` see the same data. Its data
  lives in that process's memory: it survives between commands, not ``emulator stop`` or a
  reboot. Its pid and port are kept in ``emulator.json`` in the state directory. Started with
  ``dynamodb="local"``, DynamoDB Local serves DynamoDB beside it (a second process, its own
  pid, port and ``dynamodb-local.log``); moto still serves SQS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import TracebackType

from villages_sync_ops.local import dynamodb_local
from villages_sync_ops.local.intrinsics import DEFAULT_REGION
from villages_sync_ops.local.ports import HOST, free_port

STATE_FILE = "emulator.json"
DYNAMODB_BACKENDS = ("moto", "local")  # who serves DynamoDB: moto itself, or DynamoDB Local
DYNAMODB_LOCAL_LOG = "dynamodb-local.log"


def use_emulator_credentials() -> None:
    """The emulator accepts any credentials; boto3 still wants some to sign requests."""
    if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)


class EmbeddedEmulator:
    """``with EmbeddedEmulator() as aws: aws.endpoint_url`` (a fresh, empty moto server)."""

    def __init__(self) -> None:
        # Imported here: a quarter-second that the other commands (--help, a deployed stack's
        # status) do without.
        from moto.server import ThreadedMotoServer

        quiet_access_log()
        self._server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self.endpoint_url = ""

    def __enter__(self) -> EmbeddedEmulator:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # moto keeps its data per process, not per server: empty it, so this one starts fresh
        # even after another emulator in the same process.
        reset = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()


@dataclass(frozen=True)
class EmulatorStatus:
    pid: int
    port: int
    endpoint_url: str
    started_at: float
    dynamodb: str = "moto"
    dynamodb_endpoint_url: str = ""  # DynamoDB Local's, when dynamodb == "local"
    dynamodb_pid: int = 0

    @property
    def dynamodb_url(self) -> str:
        """Where DynamoDB is served: DynamoDB Local's endpoint, or moto's."""
        return self.dynamodb_endpoint_url or self.endpoint_url


def quiet_access_log() -> None:
    """moto's server logs every request through werkzeug: keep only its errors."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def default_state_dir() -> Path:
    configured = os.environ.get("VILLAGES_SYNC_HOME")
    return Path(configured) if configured else Path.home() / ".local" / "state" / "villages-sync"


def shared_emulator_status(state_dir: Path) -> EmulatorStatus | None:
    """The running shared emulator, or None (a stale or half-dead one counts as none)."""
    status = _recorded_status(state_dir)
    if status is None or not _moto_alive(status) or not _dynamodb_local_alive(status):
        return None
    return status


def ensure_shared_emulator(
    state_dir: Path, *, start_timeout: float = 30.0, dynamodb: str | None = None
) -> str:
    """The shared emulator's endpoint URL, starting it in the background if needed.

    ``dynamodb``: "local" serves DynamoDB from DynamoDB Local (``status.dynamodb_url``), "moto"
    from moto; None takes whatever runs (moto when starting). Asking a running emulator for the
    other backend is a RuntimeError (stop it first: its data would be lost).
    """
    if dynamodb not in (None, *DYNAMODB_BACKENDS):
        raise ValueError(f"dynamodb must be one of {DYNAMODB_BACKENDS}, not {dynamodb!r}")
    running = shared_emulator_status(state_dir)
    if running:
        if dynamodb and dynamodb != running.dynamodb:
            raise RuntimeError(
                f"the shared emulator serves DynamoDB from {running.dynamodb}; "
                "`villages-sync emulator stop` first (its data is lost)"
            )
        return running.endpoint_url
    if dynamodb == "local":
        dynamodb_local.find_dynamodb_local()  # java and the jar, before starting anything
    _stop_leftovers(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (state_dir / "emulator.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "villages_sync_ops.local.emulator", "serve", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # outlives the command that started it
    )
    endpoint = f"http://{HOST}:{port}"
    try:
        wait_until_answering(endpoint, process, timeout=start_timeout)
    except RuntimeError as error:
        process.kill()
        raise RuntimeError(f"{error}; see {state_dir / 'emulator.log'}") from None
    status = EmulatorStatus(process.pid, port, endpoint, time.time())
    if dynamodb == "local":
        status = _start_shared_dynamodb_local(state_dir, status, process)
    (state_dir / STATE_FILE).write_text(json.dumps(asdict(status)))
    return endpoint


def _start_shared_dynamodb_local(
    state_dir: Path, status: EmulatorStatus, moto: subprocess.Popen
) -> EmulatorStatus:
    port = free_port()
    log_path = state_dir / DYNAMODB_LOCAL_LOG
    try:
        with log_path.open("ab") as log:
            process = dynamodb_local.start_dynamodb_local(port, log=log, detach=True)
    except (RuntimeError, OSError) as error:
        moto.kill()
        raise RuntimeError(f"{error}; see {log_path}") from None
    return replace(
        status,
        dynamodb="local",
        dynamodb_endpoint_url=dynamodb_local.endpoint_for(port),
        dynamodb_pid=process.pid,
    )


def stop_shared_emulator(state_dir: Path, *, timeout: float = 10.0) -> bool:
    """Stop the shared emulator (DynamoDB Local too); True if one was running. Its data is gone."""
    running = shared_emulator_status(state_dir)
    _stop_leftovers(state_dir, timeout=timeout)
    return running is not None


def _stop_leftovers(state_dir: Path, *, timeout: float = 10.0) -> None:
    """Stop whatever part of a recorded emulator still runs, and forget it.

    A pid is signalled only while its server still answers, so a pid reused by another
    process after a reboot is never touched.
    """
    recorded = _recorded_status(state_dir)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    if recorded is None:
        return
    pids = [recorded.pid] if _moto_alive(recorded) else []
    if recorded.dynamodb_pid and _dynamodb_local_alive(recorded):
        pids.append(recorded.dynamodb_pid)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def _recorded_status(state_dir: Path) -> EmulatorStatus | None:
    try:
        return EmulatorStatus(**json.loads((state_dir / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _moto_alive(status: EmulatorStatus) -> bool:
    return _pid_alive(status.pid) and answers(status.endpoint_url)


def _dynamodb_local_alive(status: EmulatorStatus) -> bool:
    """True when no DynamoDB Local belongs to it, or it runs and answers."""
    if not status.dynamodb_pid:
        return True
    return _pid_alive(status.dynamodb_pid) and dynamodb_local.answers(status.dynamodb_endpoint_url)


@dataclass(frozen=True)
class MotoProcess:
    endpoint_url: str
    pid: int


@contextlib.contextmanager
def moto_process(*, start_timeout: float = 60.0) -> Iterator[MotoProcess]:
    """A fresh moto server in a child process on 127.0.0.1, stopped when the block ends.

    For heavy local work (the reliability tier, benchmarks): moto then has its own interpreter
    and CPU instead of sharing the GIL, and its CPU time can be told from ours.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://{HOST}:{port}"
    try:
        wait_until_answering(endpoint, process, timeout=start_timeout)
        yield MotoProcess(endpoint, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_until_answering(endpoint: str, process: subprocess.Popen, *, timeout: float) -> None:
    """Poll a starting emulator until it answers; RuntimeError if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not answers(endpoint):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the local emulator did not start on {endpoint}")
        time.sleep(0.1)  # polling a server's start-up, with a deadline


def answers(endpoint: str) -> bool:
    """True when a moto server answers at ``endpoint``."""
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie (exited, not yet reaped) still answers kill 0: read its state where we can.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _serve(port: int) -> None:
    quiet_access_log()
    from moto.server import ThreadedMotoServer  # see EmbeddedEmulator

    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: (server.stop(), sys.exit(0)))
    signal.pause() if hasattr(signal, "pause") else time.sleep(10**9)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the shared local AWS emulator.")
    parser.add_argument("action", choices=("serve",))
    parser.add_argument("--port", type=int, required=True)
    _serve(parser.parse_args().port)
