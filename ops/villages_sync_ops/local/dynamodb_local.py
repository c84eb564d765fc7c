"""DynamoDB Local, AWS's own DynamoDB implementation (a Java jar), on 127.0.0.1 beside moto.

moto reimplements DynamoDB and is lenient in places; DynamoDB Local is the engine AWS ships for
local development, so the sync's condition expressions are also proven against AWS's own code.
SQS stays on moto. ``make dynamodb-local`` (tools/install_dynamodb_local.py) takes the jar from
the npm package below, checks its sha256 and unpacks it into ``.cache/dynamodb-local/<version>/``.

DynamoDB Local has no option for its listening address: its Jetty server binds every interface.
The install therefore also compiles ``tools/dynamodb_local/LoopbackDynamoDBLocal.java`` beside the
jar: it builds the server from the same command line, sets its connector to 127.0.0.1, then
starts it. Nothing here listens beyond loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from villages_sync_ops.local.ports import HOST, free_port

PACKAGE = "amplify-dynamodb-simulator"
PACKAGE_VERSION = "2.9.30"
# sha256 of `npm pack amplify-dynamodb-simulator@2.9.30` (npm's own sha512 integrity agrees).
PACKAGE_SHA256 = "3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"
JAR_VERSION = "1.25.1"  # `java -jar DynamoDBLocal.jar -version` of the jar in that package
LAUNCHER_CLASS = "LoopbackDynamoDBLocal"
DIR_ENV_VAR = "DYNAMODB_LOCAL_DIR"  # an unpacked emulator/ folder elsewhere (optional)
INSTALL_HINT = "DynamoDB Local needs java and its jar: run `make dynamodb-local`"

# A small heap and the serial collector: the tables are small, and the machine has 2 cores.
JVM_OPTIONS = ("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC")
# For a JVM that lives a few minutes (a test session's): the quick compiler only. The optimising
# one would spend about a third of the JVM's CPU compiling code such a run never gets back
# (tests/integration/test_pipeline.py plus test_aws_faults.py on DynamoDB Local: 50 CPU-s of
# java, 34 with this). Long runs (the emulator, benchmarks) keep both compilers.
SHORT_LIVED_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1",)


class DynamoDBLocalUnavailable(RuntimeError):
    """java or the jar is missing; ``str()`` says how to get them (one line)."""


@dataclass(frozen=True, slots=True)
class DynamoDBLocalInstall:
    directory: Path  # the package's emulator/ folder, plus the compiled launcher
    java: str

    @property
    def jar(self) -> Path:
        return self.directory / "DynamoDBLocal.jar"

    def command(self, port: int, *, short_lived: bool = False) -> list[str]:
        """The java command line serving an in-memory database on 127.0.0.1:port.

        ``-sharedDb``: one database whatever the credentials and region, as in moto, so every
        command and test sees the same tables. ``-disableTelemetry``: nothing leaves the machine.
        """
        return [
            self.java,
            *JVM_OPTIONS,
            *(SHORT_LIVED_JVM_OPTIONS if short_lived else ()),
            f"-Djava.library.path={self.directory / 'DynamoDBLocal_lib'}",
            "-cp",
            f"{self.jar}{os.pathsep}{self.directory}",
            LAUNCHER_CLASS,
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(port),
        ]


def install_dir() -> Path:
    """Where ``make dynamodb-local`` puts it: ``$DYNAMODB_LOCAL_DIR`` or the project's cache."""
    configured = os.environ.get(DIR_ENV_VAR, "").strip()
    if configured:
        return Path(configured)
    return project_root() / ".cache" / "dynamodb-local" / PACKAGE_VERSION


def project_root() -> Path:
    """The nearest directory above this file that holds template.yaml (the checkout)."""
    here = Path(__file__).resolve()
    for directory in here.parents:
        if (directory / "template.yaml").is_file():
            return directory
    return here.parents[3]


def find_dynamodb_local() -> DynamoDBLocalInstall:
    """The installed jar and a java to run it; DynamoDBLocalUnavailable if either is missing."""
    java = shutil.which("java")
    directory = install_dir()
    launcher = directory / f"{LAUNCHER_CLASS}.class"
    if java is None or not (directory / "DynamoDBLocal.jar").is_file() or not launcher.is_file():
        raise DynamoDBLocalUnavailable(INSTALL_HINT)
    return DynamoDBLocalInstall(directory, java)


def is_installed() -> bool:
    try:
        find_dynamodb_local()
    except DynamoDBLocalUnavailable:
        return False
    return True


@dataclass(frozen=True, slots=True)
class DynamoDBLocalProcess:
    endpoint_url: str
    pid: int


def launch_dynamodb_local(
    port: int,
    *,
    log: IO[Any] | int = subprocess.DEVNULL,
    detach: bool = False,
    short_lived: bool = False,
) -> subprocess.Popen:
    """Start DynamoDB Local on 127.0.0.1:port without waiting for it (see wait_until_ready).

    ``detach``: its own session, so it outlives the command that started it (the shared
    emulator). ``short_lived``: a JVM for a few minutes' work (SHORT_LIVED_JVM_OPTIONS).
    DynamoDBLocalUnavailable when java or the jar is missing.
    """
    install = find_dynamodb_local()
    return subprocess.Popen(
        install.command(port, short_lived=short_lived),
        cwd=install.directory,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=detach,
    )


def start_dynamodb_local(
    port: int,
    *,
    log: IO[Any] | int = subprocess.DEVNULL,
    detach: bool = False,
    start_timeout: float = 60.0,
) -> subprocess.Popen:
    """Start DynamoDB Local on 127.0.0.1:port and wait until it answers.

    RuntimeError if it exits or does not answer in time (it is stopped then).
    """
    process = launch_dynamodb_local(port, log=log, detach=detach)
    try:
        wait_until_ready(endpoint_for(port), process, timeout=start_timeout)
    except RuntimeError:
        stop_process(process)
        raise
    return process


@contextlib.contextmanager
def dynamodb_local_process(
    *, log: IO[Any] | int = subprocess.DEVNULL, start_timeout: float = 60.0
) -> Iterator[DynamoDBLocalProcess]:
    """A fresh, empty DynamoDB Local in a child process on 127.0.0.1, stopped after the block."""
    port = free_port()
    process = start_dynamodb_local(port, log=log, start_timeout=start_timeout)
    try:
        yield DynamoDBLocalProcess(endpoint_for(port), process.pid)
    finally:
        stop_process(process)


def embedded_dynamodb(
    backend: str,
) -> contextlib.AbstractContextManager[DynamoDBLocalProcess | None]:
    """For ``backend`` "local", a fresh DynamoDB Local (checked for before anything starts);
    for "moto", nothing (None): moto's own endpoint serves DynamoDB."""
    if backend == "local":
        find_dynamodb_local()
        return dynamodb_local_process()
    return contextlib.nullcontext()


def endpoint_for(port: int) -> str:
    return f"http://{HOST}:{port}"


def wait_until_ready(endpoint: str, process: subprocess.Popen, *, timeout: float) -> None:
    """Poll a starting DynamoDB Local until it answers; RuntimeError if it exits or times out."""
    deadline = time.monotonic() + timeout
    while not answers(endpoint):
        if process.poll() is not None:
            raise RuntimeError(f"DynamoDB Local exited (status {process.returncode}) on {endpoint}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"DynamoDB Local did not answer on {endpoint} in {timeout:.0f} s")
        time.sleep(0.1)  # polling a server's start-up, with a deadline


def answers(endpoint: str) -> bool:
    """True when DynamoDB answers at ``endpoint`` (an unsigned call: it must say so, in JSON)."""
    request = urllib.request.Request(
        endpoint,
        data=b"{}",
        method="POST",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
    except OSError:
        return False
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and ("__type" in answer or "TableNames" in answer)


def stop_process(process: subprocess.Popen, *, timeout: float = 10.0) -> None:
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
